package main

// forensic report --case A.db --case B.db ...: one signed report over the
// cases of several shards (ingest --shard). The cases are merged into one
// (store.MergeCase; a temporary case unless --merged-case names where to
// keep it), which is verified again as a whole with the trust anchors the
// cases share, the object verdicts carried from the case that judged them
// (verify/carry.go), and reported on as one case, with each case's own
// custody log in report.json's cases.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/internal/shard"
	"github.com/forensic-dev/forensic/report"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// shardCase is one case of a report over several, as checked before the
// merge.
type shardCase struct {
	path    string // absolute
	desc    report.MergedCase
	facts   store.MergeFacts
	anchors []store.TrustAnchorFile
	keys    []store.TrustAnchorKey
	weak    bool // its last verify trusted weak keys (--allow-weak-keys)
}

// readShardCases checks the cases a report over several cases is made
// from, each read only: every case verified, every custody log intact,
// the same sources and trust anchors, no shard in two cases, and object
// copies judged in one case at most. The case that judged objects comes
// first (the merge keeps its ids, which its object verdicts name).
func readShardCases(ctx context.Context, paths []string) ([]shardCase, error) {
	var out []shardCase
	seen := map[string]string{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		// The file itself (a link named is followed once, here).
		if abs, err = filepath.EvalSymlinks(abs); err != nil {
			return nil, err
		}
		if prev, ok := seen[abs]; ok {
			return nil, usagef("report: --case %s names the case %s again", p, prev)
		}
		seen[abs] = p
		sc, err := readShardCase(ctx, abs)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	first := out[0]
	owner := ""
	var whole *store.ShardSet
	shardOf := map[string]string{}
	for i, sc := range out {
		if strings.Join(sc.facts.Sources, ",") != strings.Join(first.facts.Sources, ",") {
			return nil, failedError{fmt.Sprintf("report: refused: case %s was ingested from other sources than %s (source SHA-256 %s, against %s): "+
				"the cases of a report must be shards of the same evidence", sc.path, first.path,
				strings.Join(sc.facts.Sources, ", "), strings.Join(first.facts.Sources, ", "))}
		}
		if a, b := anchorFiles(sc.anchors, sc.keys), anchorFiles(first.anchors, first.keys); a != b {
			return nil, failedError{fmt.Sprintf("report: refused: case %s was verified with other trust anchors than %s (%s, against %s): "+
				"verify every case with the same --public-keys", sc.path, first.path, a, b)}
		}
		for _, ss := range sc.facts.SourceShards {
			if whole == nil {
				whole = &ss
			} else if ss != *whole {
				return nil, failedError{fmt.Sprintf("report: refused: case %s records other shards of its sources (%d, SHA-256 %s) than %s (%d, %s): "+
					"the cases were not split by one plan", sc.path, ss.Count, ss.SHA256, first.path, whole.Count, whole.SHA256)}
			}
		}
		shards := sc.desc.Shards
		if len(shards) == 0 {
			shards = []string{"every shard"}
		}
		for _, s := range shards {
			for _, o := range []string{s, "every shard"} {
				if prev, ok := shardOf[o]; ok {
					return nil, failedError{fmt.Sprintf("report: refused: cases %s and %s both hold %s: the cases overlap", prev, sc.path, s)}
				}
			}
			shardOf[s] = sc.path
		}
		if len(sc.desc.Shards) == 0 && len(out) > 1 {
			return nil, failedError{fmt.Sprintf("report: refused: case %s holds every shard of its sources, so it overlaps every other case", sc.path)}
		}
		if sc.facts.Objects > 0 {
			if owner != "" {
				return nil, failedError{fmt.Sprintf("report: refused: object copies were judged in both %s and %s; a report over several cases "+
					"carries the object verdicts of one case (forensic plan puts every object in shard rest)", owner, sc.path)}
			}
			owner = sc.path
			out[0], out[i] = out[i], out[0]
			out[0].desc.Objects = true
		}
	}
	return out, nil
}

func readShardCase(ctx context.Context, abs string) (shardCase, error) {
	sc := shardCase{path: abs}
	if fi, err := os.Stat(abs + "-wal"); err == nil && fi.Size() > 0 {
		return sc, failedError{fmt.Sprintf("report: refused: case %s has a write-ahead log (%s-wal): it is open in another process, or was not closed; "+
			"close it (any forensic command on it that ends closes it) so that its file is the whole case", abs, abs)}
	}
	c, err := store.OpenReadOnly(ctx, abs)
	if err != nil {
		return sc, err
	}
	defer c.Close()
	u, err := c.CheckVerified(ctx, 5)
	if err != nil {
		return sc, err
	}
	if u.Any() {
		return sc, failedError{fmt.Sprintf("report: refused: case %s is not verified: %s. Run 'forensic verify --case %s --public-keys KEYS' first",
			abs, u.Reason(), abs)}
	}
	var v *report.VerifyRecord
	if sc.desc, v, err = report.DescribeCase(ctx, c); err != nil {
		return sc, err
	}
	if p := sc.desc.Custody.Problems; len(p) > 0 {
		return sc, failedError{fmt.Sprintf("report: refused: the record of case %s does not hold: %s", abs, strings.Join(p, "; "))}
	}
	if sc.facts, err = c.MergeFacts(ctx); err != nil {
		return sc, err
	}
	if sc.anchors, sc.keys, err = c.TrustAnchors(ctx); err != nil {
		return sc, err
	}
	if v == nil {
		return sc, failedError{fmt.Sprintf("report: refused: case %s: its custody log has no verify entry", abs)}
	}
	var rec []store.TrustAnchorFile
	for _, k := range v.Inputs.PublicKeys {
		rec = append(rec, store.TrustAnchorFile{SHA256: k.SHA256, Size: k.Size, Keys: k.Keys})
	}
	if a, b := anchorFiles(sc.anchors, nil), anchorFiles(rec, nil); a != b {
		return sc, failedError{fmt.Sprintf("report: refused: the trust anchors case %s holds (%s) are not those its last verify recorded in the custody log (%s)", abs, a, b)}
	}
	if v.Inputs.Rehash && sc.facts.Rehashed > 0 {
		return sc, failedError{fmt.Sprintf("report: refused: the last verify of case %s re-read the evidence (--rehash) and found %d digests, log files or findings changed since ingest; "+
			"a report over several cases verifies from what the cases hold and cannot carry that: report on that case alone, or ingest its evidence again", abs, sc.facts.Rehashed)}
	}
	sc.weak = v.Inputs.AllowWeak
	if err := itemsOfShards(ctx, c, abs, sc.desc.Shards); err != nil {
		return sc, err
	}
	return sc, nil
}

// itemsOfShards refuses a case of shards that holds an item of another
// shard (each item's shard from its name below its source, as plan and
// ingest --shard give it).
func itemsOfShards(ctx context.Context, c *store.Case, abs string, shards []string) error {
	if len(shards) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, s := range shards {
		want[s] = true
	}
	return c.EachItemName(ctx, func(source, path, member string) error {
		id, _, _ := shard.Of(shard.EntryName(source, path, member))
		if !want[id] {
			name := path
			if member != "" {
				name += "!/" + member
			}
			return failedError{fmt.Sprintf("report: refused: case %s holds %s, of shard %s, but says it holds shard%s %s only",
				abs, name, id, map[bool]string{true: "s", false: ""}[len(shards) > 1], strings.Join(shards, ", "))}
		}
		return nil
	})
}

// anchorFiles names a case's trust anchors by content, the files and
// the keys recorded from them (the paths differ from machine to machine).
func anchorFiles(fs []store.TrustAnchorFile, keys []store.TrustAnchorKey) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("file %s (%d bytes, %d keys)", f.SHA256, f.Size, f.Keys))
	}
	for _, k := range keys {
		sum := sha256.Sum256(k.DER)
		s = append(s, fmt.Sprintf("key %s (DER SHA-256 %s, %d bits, valid %s to %s) of file %s", k.Fingerprint,
			hex.EncodeToString(sum[:]), k.Bits, k.ValidityStart, k.ValidityEnd, k.FileSHA256))
	}
	sort.Strings(s)
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// mergeCases makes the merged case at dst from the cases, each merge
// recorded in its custody log, and verifies it as a whole with anchors:
// the --public-keys given (supplied), else the trust anchors the cases
// recorded.
func mergeCases(ctx context.Context, dst string, cases []shardCase, supplied *verify.TrustAnchors, op string) error {
	c, err := store.Open(ctx, dst)
	if err != nil {
		return err
	}
	defer c.Close()
	for i, sc := range cases {
		start := time.Now().UTC()
		added, err := c.MergeCase(ctx, sc.path, store.MergeOptions{Verdicts: i == 0 && sc.desc.Objects})
		if err != nil {
			return err
		}
		// What was merged is what was checked: the file has not changed.
		if sum, _, err := regfile.SHA256NoFollow(sc.path); err != nil || sum != sc.desc.SHA256 {
			return failedError{fmt.Sprintf("report: case %s changed while it was merged (SHA-256 %s when checked, %s after): nothing was reported", sc.path, sc.desc.SHA256, sum)}
		}
		d := sc.desc
		in := map[string]any{"case": sc.path, "case_id": d.CaseID, "case_sha256": d.SHA256, "case_size": d.Size,
			"custody_count": len(d.Custody.Entries), "custody_head": deref(d.Custody.HeadHash), "shards": d.Shards,
			"sources": sc.facts.Sources, "objects_carried": d.Objects}
		if len(sc.facts.SourceShards) == 1 {
			in["source_shards"] = sc.facts.SourceShards[0]
		}
		inputs, _ := json.Marshal(in)
		_, _, err = c.AppendIngestCustody(ctx, store.CustodyEntry{
			Time: start.Format(time.RFC3339Nano), Operator: op, Host: hostname(), Tool: toolString(),
			Command: store.CommandMerge, Args: []string{"report", "--case", sc.path}, Inputs: inputs,
		}, added, func(cl store.IngestClaim) (json.RawMessage, error) {
			out := map[string]any{"case": dst, "added": added, "claimed": cl.Claimed, "recovered": cl.Recovered,
				"claimed_events_sha256": cl.EventsSHA256}
			if cl.Widened > 0 {
				out["widened"], out["widened_events_sha256"] = cl.Widened, cl.WidenedEventsSHA256
			}
			return json.Marshal(out)
		})
		if err != nil {
			return fmt.Errorf("record the merge of %s: %w", sc.path, err)
		}
	}
	anchors, from := supplied, ""
	if anchors == nil {
		// The trust anchors the cases share, as the first recorded them
		// (the merged case holds none until it is verified).
		first, err := store.OpenReadOnly(ctx, cases[0].path)
		if err != nil {
			return err
		}
		anchors, err = verify.AnchorsFromCase(ctx, first)
		first.Close()
		if err != nil {
			return err
		}
		from = cases[0].path
	}
	weak := false
	if anchors != nil {
		for _, k := range anchors.Keys {
			weak = weak || k.Bits < verify.MinKeyBits
		}
	}
	if weak && supplied == nil && !cases[0].weak {
		return failedError{fmt.Sprintf("report: refused: case %s records a trust anchor under %d bits, but its last verify did not allow weak keys: its record was edited",
			cases[0].path, verify.MinKeyBits)}
	}
	start := time.Now().UTC()
	rep, err := verify.Run(ctx, c, verify.Options{Anchors: anchors, CarryObjects: cases[0].desc.Objects})
	if err != nil {
		return err
	}
	return appendVerifyCustody(ctx, c, verifyOptions{casePath: dst, allowWeak: weak, operator: op,
		anchorsFrom: from, objectsFrom: map[bool]string{true: cases[0].path}[cases[0].desc.Objects]}, anchors, rep, start)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// runCasesReport writes one report over several cases (see the top of
// this file).
func runCasesReport(ctx context.Context, o reportOptions, stdout io.Writer) (*report.Result, error) {
	var supplied *verify.TrustAnchors
	if len(o.keys) > 0 {
		var err error
		if supplied, err = loadAnchors("report", o.keys, o.allowWeak); err != nil {
			return nil, err
		}
	}
	cases, err := readShardCases(ctx, o.cases)
	if err != nil {
		return nil, err
	}
	if supplied != nil {
		var files []store.TrustAnchorFile
		for _, f := range supplied.Files {
			files = append(files, store.TrustAnchorFile{SHA256: f.SHA256, Size: f.Size, Keys: int64(len(f.Keys))})
		}
		for _, sc := range cases {
			if a, b := anchorFiles(sc.anchors, nil), anchorFiles(files, nil); a != b {
				return nil, failedError{fmt.Sprintf("report: refused: case %s was verified with other trust anchors (%s) than --public-keys (%s)", sc.path, a, b)}
			}
		}
	}
	dst := o.mergedCase
	if dst == "" {
		tmp, err := os.MkdirTemp("", "forensic-merge-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dst = filepath.Join(tmp, "merged.db")
	}
	op := operator(o.operator)
	if err := mergeCases(ctx, dst, cases, supplied, op); err != nil {
		if o.mergedCase != "" {
			// Made by this run, and not a whole merge: not left to be taken
			// for one.
			for _, p := range []string{dst, dst + "-wal", dst + "-shm"} {
				os.Remove(p)
			}
		}
		return nil, err
	}
	descs := make([]report.MergedCase, len(cases))
	for i, sc := range cases {
		descs[i] = sc.desc
	}
	o.casePath, o.merged = dst, descs
	res, err := runReport(ctx, o, stdout)
	if err != nil || res == nil {
		return res, err
	}
	// Each case's own log records the report that covers it.
	for _, sc := range cases {
		c, err := store.Open(ctx, sc.path)
		if err != nil {
			return res, fmt.Errorf("report written to %s, but recording it in the custody log of %s failed: %w", res.Dir, sc.path, err)
		}
		err = appendReportCustody(ctx, c, res, op, res.Identity, reportArgs(o, res.Identity), time.Now().UTC())
		c.Close()
		if err != nil {
			return res, fmt.Errorf("report written to %s, but recording it in the custody log of %s failed: %w", res.Dir, sc.path, err)
		}
	}
	return res, nil
}
