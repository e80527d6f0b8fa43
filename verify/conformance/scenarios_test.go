package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/fixtures"
)

// deviation is a case where we deliberately go further than awscli: we
// flag something awscli calls valid or never looks at, or classify it
// differently. Both columns are asserted.
type deviation struct {
	Kind   string // "digest" or "log"
	Key    string // S3 key
	Awscli string // "valid", "not reported" or "invalid: <message substring>"
	Ours   string // our status
	Reason string // also in README.md, verbatim
}

// Reasons, shared by the table below and README.md.
const (
	reasonUnavailable    = "no head-object metadata was exported for the newest digest: its signature is unavailable, which is not the same as wrong"
	reasonUnverifiedLogs = "log files listed only by a digest whose signature cannot be verified are unverified; awscli skips the logs of an invalid digest without a word"
	reasonKeyWindow      = "awscli takes any key ListPublicKeys returns for [start, end+2h] and never checks that the key was valid at digestEndTime"
	reasonChainHash      = "awscli never reads previousDigestHashValue; we check it against SHA-256 of the previous digest and flag the previous digest when they differ"
	reasonKeyWindowLogs  = "log files listed only by a digest signed outside its key's validity window are unverified; awscli hashes them and calls them valid"
	reasonTail           = "awscli starts at the newest digest that still exists, so deleted newest digests leave no trace; the log files they listed are unreferenced"
	reasonFinalBeforeGap = "awscli reports a deleted final digest before a logging gap only as a longer gap; the log files it listed are unreferenced"
	reasonRecovered      = "without metadata awscli fails the signature; we verify the digest with the previousDigestSignature of its validly signed successor and check previousDigestHashValue"
	reasonRecoveredLogs  = "the logs of a digest verified through its successor are hashed and valid; awscli never downloads them"
	reasonTruncated      = "a truncated gzip is a format error for us; awscli's streaming inflater stops silently and reports a hash mismatch"
	reasonTrailing       = "awscli 1.45 hashes the first gzip member and ignores a second one; we flag the trailing data"
	reasonUnreferenced   = "awscli only downloads the log files digests list; we report every log file no digest lists"
	reasonMovedListing   = "awscli lists only the original prefix and reports the moved digest as not found; we find it at its new key and report it moved"
)

// awsRun is one run of awscli_validate.py and what awscli must report.
type awsRun struct {
	name    string
	args    []string
	digests map[string]string // S3 key -> "valid" or "invalid: <substring>"
	logs    map[string]string
	gaps    int
}

// state is one generated scenario.
type state struct {
	m       *fixtures.Manifest
	info    []fixtures.TamperInfo
	mutated []string // S3 keys of digests a custom mutation targeted
	root    string
}

type scenario struct {
	name   string
	opt    fixtures.Options
	tamper fixtures.Tampering
	mutate func(s *state) error
	// invalid: digest key -> awscli message substring; unseen: digests
	// awscli never reports; invalidLogs: log key -> message substring.
	expect     func(s *state) (invalid map[string]string, unseen map[string]bool, invalidLogs map[string]string)
	gaps       int
	extraRuns  func(s *state) []awsRun
	deviations func(s *state) []deviation
}

func baseOptions() fixtures.Options {
	return fixtures.Options{Seed: 7, Hours: 6, FilesPerHour: 2, EventsPerFile: 4}
}

func none(*state) (map[string]string, map[string]bool, map[string]string) {
	return nil, nil, nil
}

// digestByKey returns the manifest entry of key.
func (s *state) digest(key string) fixtures.DigestInfo {
	for _, d := range s.m.Digests {
		if d.Key == key {
			return d
		}
	}
	panic("no digest " + key)
}

// chain returns the digests of chain c in order.
func (s *state) chain(c string) []fixtures.DigestInfo {
	var out []fixtures.DigestInfo
	for _, d := range s.m.Digests {
		if d.Chain == c {
			out = append(out, d)
		}
	}
	return out
}

func (s *state) firstChain() []fixtures.DigestInfo {
	o := s.m.Options
	return s.chain(o.Accounts[0] + "/" + o.Regions[0] + "/0")
}

func logsOf(s *state, keys []string, kind string, awscli, ours, reason string) []deviation {
	var out []deviation
	for _, k := range keys {
		for _, l := range s.digest(k).Logs {
			out = append(out, deviation{kind, l, awscli, ours, reason})
		}
	}
	return out
}

func one(kind, key, awscli, ours, reason string) []deviation {
	return []deviation{{kind, key, awscli, ours, reason}}
}

func firstInfo(s *state) fixtures.TamperInfo { return s.info[0] }

// invalidTargets: the tampering's digests get message sub.
func invalidTargets(sub string) func(s *state) (map[string]string, map[string]bool, map[string]string) {
	return func(s *state) (map[string]string, map[string]bool, map[string]string) {
		inv := map[string]string{}
		for _, k := range firstInfo(s).DigestKeys {
			inv[k] = sub
		}
		return inv, nil, nil
	}
}

func invalidLogTargets(sub string) func(s *state) (map[string]string, map[string]bool, map[string]string) {
	return func(s *state) (map[string]string, map[string]bool, map[string]string) {
		inv := map[string]string{}
		for _, k := range firstInfo(s).LogKeys {
			inv[k] = sub
		}
		return nil, nil, inv
	}
}

const (
	msgSignature = "INVALID: signature verification failed"
	msgNotFound  = "INVALID: not found"
	msgHash      = "INVALID: hash value doesn't match"
)

func scenarios() []scenario {
	gapOpt := baseOptions()
	gapOpt.Hours, gapOpt.GapAfter, gapOpt.GapHours = 7, 2, 1
	rot := baseOptions()
	rot.RotateKeyAt, rot.Prefix = 3, "cloudtrail/prod"
	org := baseOptions()
	org.OrgID, org.Accounts, org.Trail = "o-aa111bb222", []string{"111122223333", "444455556666"}, "org_trail"
	bf := baseOptions()
	bf.Backfill = true

	tampered := func(t fixtures.Tampering) scenario {
		return scenario{name: string(t), opt: baseOptions(), tamper: t, expect: none}
	}
	var out []scenario
	out = append(out,
		scenario{name: "untampered", opt: baseOptions(), expect: none},
		scenario{name: "backfill", opt: bf, expect: none},
		scenario{name: "key-rotation-prefix", opt: rot, expect: none},
		scenario{name: "logging-gap", opt: gapOpt, expect: none, gaps: 1},
		scenario{name: "organization-trail", opt: org, expect: none},
		scenario{
			name: "lost-metadata-middle", opt: baseOptions(),
			mutate: func(s *state) error {
				c := s.firstChain()
				for _, d := range c[2 : len(c)-1] {
					if err := os.Remove(d.MetadataPath); err != nil {
						return err
					}
					s.mutated = append(s.mutated, d.Key)
				}
				return nil
			},
			expect: func(s *state) (map[string]string, map[string]bool, map[string]string) {
				inv := map[string]string{}
				for _, k := range s.mutated {
					inv[k] = msgSignature
				}
				return inv, nil, nil
			},
			deviations: func(s *state) []deviation {
				var out []deviation
				for _, k := range s.mutated {
					out = append(out, deviation{"digest", k, "invalid: " + msgSignature, "valid", reasonRecovered})
				}
				return append(out, logsOf(s, s.mutated, "log", "not reported", "valid", reasonRecoveredLogs)...)
			},
		},
		scenario{
			name: "final-digest-before-gap-deleted", opt: gapOpt, gaps: 1,
			mutate: func(s *state) error {
				c := s.firstChain()
				d := c[len(c)-1]
				if !d.Final {
					return fmt.Errorf("%s is not a final digest", d.Key)
				}
				for _, p := range []string{d.Path, d.MetadataPath} {
					if err := os.Remove(p); err != nil {
						return err
					}
				}
				s.mutated = []string{d.Key}
				return nil
			},
			expect: func(s *state) (map[string]string, map[string]bool, map[string]string) {
				return nil, map[string]bool{s.mutated[0]: true}, nil
			},
			deviations: func(s *state) []deviation {
				return logsOf(s, s.mutated, "log", "not reported", "unreferenced", reasonFinalBeforeGap)
			},
		},
	)

	sc := tampered(fixtures.DigestSignatureInvalid)
	sc.expect = invalidTargets(msgSignature)
	out = append(out, sc)

	sc = tampered(fixtures.DigestSignatureUnavailable)
	sc.expect = invalidTargets(msgSignature)
	sc.deviations = func(s *state) []deviation {
		k := firstInfo(s).DigestKeys
		return append(one("digest", k[0], "invalid: "+msgSignature, "signature_unavailable", reasonUnavailable),
			logsOf(s, k, "log", "not reported", "unverified", reasonUnverifiedLogs)...)
	}
	out = append(out, sc)

	sc = tampered(fixtures.LogUnverified)
	sc.expect = invalidTargets(msgSignature)
	sc.deviations = func(s *state) []deviation {
		return logsOf(s, firstInfo(s).DigestKeys, "log", "not reported", "unverified", reasonUnverifiedLogs)
	}
	out = append(out, sc)

	sc = tampered(fixtures.DigestKeyUnknown)
	sc.expect = invalidTargets("INVALID: public key not found in region us-east-1 for fingerprint")
	out = append(out, sc)

	sc = tampered(fixtures.DigestKeyNotValidAtTime)
	sc.deviations = func(s *state) []deviation {
		var out []deviation
		for _, k := range firstInfo(s).DigestKeys {
			out = append(out, deviation{"digest", k, "valid", "key_not_valid_at_time", reasonKeyWindow})
		}
		return append(out, logsOf(s, firstInfo(s).DigestKeys, "log", "valid", "unverified", reasonKeyWindowLogs)...)
	}
	out = append(out, sc)

	sc = tampered(fixtures.DigestFormatInvalid)
	sc.expect = invalidTargets("INVALID: invalid format")
	out = append(out, sc)

	sc = tampered(fixtures.DigestMoved)
	sc.expect = invalidTargets(msgNotFound)
	sc.extraRuns = func(s *state) []awsRun {
		// awscli pointed at the moved copy: it fetches it and rejects
		// the location.
		k := firstInfo(s).DigestKeys[0]
		args := awsArgs(s, s.m.Options.Accounts[0], s.m.Options.Regions[0], "moved")
		return []awsRun{{name: "prefix-moved", args: args,
			digests: map[string]string{"moved/" + k: "invalid: INVALID: has been moved from its original location"},
			logs:    map[string]string{}}}
	}
	sc.deviations = func(s *state) []deviation {
		return one("digest", firstInfo(s).DigestKeys[0], "invalid: "+msgNotFound, "moved", reasonMovedListing)
	}
	out = append(out, sc)

	sc = tampered(fixtures.DigestMissing)
	sc.expect = invalidTargets(msgNotFound)
	out = append(out, sc)

	sc = tampered(fixtures.DigestChainMismatch)
	sc.deviations = func(s *state) []deviation {
		// The middle digest's signed previousDigestHashValue was changed:
		// its predecessor no longer matches it, so the predecessor is
		// flagged; the middle digest itself is validly signed.
		mid := s.digest(firstInfo(s).DigestKeys[0])
		prev := s.chain(mid.Chain)[mid.Index-1]
		return one("digest", prev.Key, "valid", "chain_mismatch", reasonChainHash)
	}
	out = append(out, sc)

	sc = tampered(fixtures.DigestTailDeleted)
	sc.expect = func(s *state) (map[string]string, map[string]bool, map[string]string) {
		unseen := map[string]bool{}
		for _, k := range firstInfo(s).DigestKeys {
			unseen[k] = true
		}
		return nil, unseen, nil
	}
	sc.deviations = func(s *state) []deviation {
		return logsOf(s, firstInfo(s).DigestKeys, "log", "not reported", "unreferenced", reasonTail)
	}
	out = append(out, sc)

	sc = tampered(fixtures.LogHashMismatch)
	sc.expect = invalidLogTargets(msgHash)
	out = append(out, sc)

	sc = tampered(fixtures.LogMissing)
	sc.expect = invalidLogTargets(msgNotFound)
	out = append(out, sc)

	sc = tampered(fixtures.LogFormatInvalid)
	sc.expect = invalidLogTargets(msgHash)
	sc.deviations = func(s *state) []deviation {
		return one("log", firstInfo(s).LogKeys[0], "invalid: "+msgHash, "format_invalid", reasonTruncated)
	}
	out = append(out, sc)

	sc = tampered(fixtures.LogTrailingData)
	sc.deviations = func(s *state) []deviation {
		return one("log", firstInfo(s).LogKeys[0], "valid", "trailing_data", reasonTrailing)
	}
	out = append(out, sc)

	sc = tampered(fixtures.LogUnreferenced)
	sc.deviations = func(s *state) []deviation {
		return one("log", firstInfo(s).LogKeys[0], "not reported", "unreferenced", reasonUnreferenced)
	}
	out = append(out, sc)
	return out
}

// awsArgs are the awscli_validate.py arguments validating account and
// region of the set over its whole time range.
func awsArgs(s *state, account, region, prefix string) []string {
	o := s.m.Options
	start := o.Start.Add(-time.Hour)
	end := o.Start.Add(time.Duration(o.Hours) * time.Hour)
	args := []string{"--bucket", o.TrailBucket, "--region", region, "--account-id", account,
		"--trail", o.Trail, "--home-region", o.Regions[0], "--trail-account", o.Accounts[0],
		"--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339)}
	if prefix != "" {
		args = append(args, "--prefix", prefix)
	}
	if o.OrgID != "" {
		args = append(args, "--org-id", o.OrgID)
	}
	return args
}

// runs returns every awscli run of the scenario with its expected report.
func (sc *scenario) runs(s *state) []awsRun {
	inv, unseen, invLogs := sc.expect(s)
	var out []awsRun
	o := s.m.Options
	for _, acct := range o.Accounts {
		for _, region := range o.Regions {
			r := awsRun{name: acct + "/" + region, args: awsArgs(s, acct, region, o.Prefix),
				digests: map[string]string{}, logs: map[string]string{}, gaps: sc.gaps}
			for _, d := range s.m.Digests {
				if d.Account != acct || d.Region != region {
					continue
				}
				if msg, ok := inv[d.Key]; ok {
					r.digests[d.Key] = "invalid: " + msg
					continue
				}
				if unseen[d.Key] {
					continue
				}
				r.digests[d.Key] = "valid"
				for _, l := range d.Logs {
					if msg, ok := invLogs[l]; ok {
						r.logs[l] = "invalid: " + msg
					} else {
						r.logs[l] = "valid"
					}
				}
			}
			if acct != o.Accounts[0] || region != o.Regions[0] {
				r.gaps = 0 // gaps and tamperings are in the first chain only
			}
			out = append(out, r)
		}
	}
	if sc.extraRuns != nil {
		out = append(out, sc.extraRuns(s)...)
	}
	return out
}

// generated is a scenario's fixture set and awscli's reports on it,
// computed once per test binary and shared by the tests.
type generated struct {
	s       *state
	runs    []awsRun
	results []*AwscliResult
	err     error
}

var (
	genMu    sync.Mutex
	genOnce  = map[string]*sync.Once{}
	genCache = map[string]*generated{}
	tmpRoot  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// generate builds (once) the fixture set of sc and runs awscli on it.
func generate(sc scenario) *generated {
	genMu.Lock()
	once, ok := genOnce[sc.name]
	if !ok {
		once = &sync.Once{}
		genOnce[sc.name] = once
	}
	genMu.Unlock()
	once.Do(func() {
		g := &generated{}
		defer func() {
			genMu.Lock()
			genCache[sc.name] = g
			genMu.Unlock()
		}()
		root := filepath.Join(tmpRoot, sc.name)
		m, err := fixtures.Generate(root, sc.opt)
		if err != nil {
			g.err = fmt.Errorf("generate: %w", err)
			return
		}
		s := &state{m: m, root: root}
		g.s = s
		if sc.tamper != "" {
			info, err := fixtures.Tamper(m, sc.tamper)
			if err != nil {
				g.err = err
				return
			}
			s.info = []fixtures.TamperInfo{info}
		}
		if sc.mutate != nil {
			if err := sc.mutate(s); err != nil {
				g.err = fmt.Errorf("mutate: %w", err)
				return
			}
		}
		g.runs = sc.runs(s)
		for _, r := range g.runs {
			_, out, err := RunAwscli(root, r.args...)
			if err != nil {
				g.err = fmt.Errorf("run %s: %w", r.name, err)
				return
			}
			res, err := ParseAwscli(out)
			if err != nil {
				g.err = err
				return
			}
			g.results = append(g.results, res)
		}
	})
	genMu.Lock()
	defer genMu.Unlock()
	return genCache[sc.name]
}

// awscliVerdict is "valid", "invalid: <message>" or "not reported".
func awscliVerdicts(items []AwscliItem) (map[string]string, []string) {
	out := map[string]string{}
	var dups []string
	for _, it := range items {
		v := "valid"
		if it.Verdict != "valid" {
			v = "invalid: " + it.Message
		}
		if _, ok := out[it.S3Key]; ok {
			dups = append(dups, it.S3Key)
		}
		out[it.S3Key] = v
	}
	return out, dups
}

// matchVerdict reports whether awscli's verdict got satisfies want
// ("valid", "not reported" or "invalid: <substring>").
func matchVerdict(got, want string) bool {
	switch {
	case want == "valid" || want == "not reported":
		return got == want
	case strings.HasPrefix(want, "invalid: "):
		return strings.HasPrefix(got, "invalid: ") && strings.Contains(got, strings.TrimPrefix(want, "invalid: "))
	}
	return false
}

// compareAwscli lists the differences between awscli's report and want.
func compareAwscli(kind string, got, want map[string]string) []string {
	var diffs []string
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		g, ok := got[k]
		if !ok {
			g = "not reported"
		}
		w, ok := want[k]
		if !ok {
			w = "not reported"
		}
		if !matchVerdict(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s %s: awscli %q, want %q", kind, k, g, w))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// awscliVerdictFor is awscli's verdict on key over all runs of g.
func (g *generated) awscliVerdictFor(kind, key string) string {
	for _, r := range g.results {
		items := r.Digests
		if kind == "log" {
			items = r.Logs
		}
		v, _ := awscliVerdicts(items)
		if got, ok := v[key]; ok {
			return got
		}
	}
	return "not reported"
}
