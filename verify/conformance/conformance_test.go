package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/stretchr/testify/require"
)

// TestAwscliReference checks the reference side alone: on every scenario
// awscli's validator, driven through the fake clients, reports exactly the
// expected verdict for every digest and log file, and the awscli column of
// every deviation holds.
func TestAwscliReference(t *testing.T) {
	if testing.Short() {
		t.Skip("runs awscli on about 25 fixture sets")
	}
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			g := generate(sc)
			require.NoError(t, g.err, "scenario %s: awscli reference run failed (CI must have python3 with awscli 1.x)", sc.name)
			for i, r := range g.runs {
				res := g.results[i]
				require.Nil(t, res.Error, "run %s", r.name)
				gotD, dupD := awscliVerdicts(res.Digests)
				gotL, dupL := awscliVerdicts(res.Logs)
				require.Empty(t, dupD, "run %s: digests reported twice", r.name)
				require.Empty(t, dupL, "run %s: logs reported twice", r.name)
				require.NotEmpty(t, gotD, "run %s: awscli saw no digests:\n%s", r.name, res.Text)
				diffs := append(compareAwscli("digest", gotD, r.digests), compareAwscli("log", gotL, r.logs)...)
				require.Empty(t, diffs, "run %s:\n%s", r.name, strings.Join(diffs, "\n"))
				require.Len(t, res.Gaps, r.gaps, "run %s: gap lines %q", r.name, res.Gaps)
				require.Empty(t, res.Other, "run %s: unparsed awscli lines", r.name)
				sum := res.Summary
				require.Equal(t, len(res.Digests), sum.ValidDigests+sum.InvalidDigests+sum.ValidBackfillDigests+sum.InvalidBackfillDigests, "run %s: digest count", r.name)
				require.Equal(t, len(res.Logs), sum.ValidLogs+sum.InvalidLogs, "run %s: log count", r.name)
				wantExit := 0
				if sum.InvalidDigests+sum.InvalidBackfillDigests+sum.InvalidLogs > 0 {
					wantExit = 1
				}
				require.Equal(t, wantExit, sum.ExitCode, "run %s: awscli exit code", r.name)
			}
			if sc.opt.Backfill {
				require.Equal(t, 1, g.results[0].Summary.ValidBackfillDigests, "backfill digest validated")
			}
			if sc.deviations != nil {
				for _, d := range sc.deviations(g.s) {
					got := g.awscliVerdictFor(d.Kind, d.Key)
					require.True(t, matchVerdict(got, d.Awscli), "deviation %s %s: awscli %q, table says %q", d.Kind, d.Key, got, d.Awscli)
				}
			}
			t.Logf("awscli %s: %d runs, %.3fs in validator", g.results[0].Summary.AwscliVersion, len(g.results), g.results[0].Seconds)
		})
	}
}

// TestAwscliStops checks that a run awscli aborts is an error naming the
// cause, and that the script refuses a missing trail bucket.
func TestAwscliStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts python")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "amzn-s3-demo-trail-bucket", "AWSLogs"), 0o755))
	_, _, err := RunAwscli(dir, "--bucket", "amzn-s3-demo-trail-bucket", "--region", "us-east-1",
		"--account-id", "111122223333", "--trail", "t-1", "--start-time", "2024-03-04T00:00:00Z",
		"--end-time", "2024-03-04T06:00:00Z")
	require.Error(t, err)
	require.Contains(t, err.Error(), "No public keys found between 2024-03-04T00:00:00Z and 2024-03-04T08:00:00Z")
}

// TestReadmeListsDeviations keeps README.md and the deviation table in step.
func TestReadmeListsDeviations(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, r := range []string{reasonUnavailable, reasonUnverifiedLogs, reasonKeyWindow, reasonChainHash, reasonKeyWindowLogs, reasonTail,
		reasonFinalBeforeGap, reasonRecovered, reasonRecoveredLogs, reasonTruncated, reasonTrailing,
		reasonUnreferenced, reasonMovedListing} {
		require.Contains(t, string(readme), r)
	}
}

// messageStatuses maps awscli's INVALID reasons to the statuses we may give.
var messageStatuses = []struct {
	sub      string
	statuses []string
}{
	{"INVALID: not found", []string{"missing"}},
	{"INVALID: signature verification failed", []string{"signature_invalid", "signature_unavailable"}},
	{"INVALID: public key not found", []string{"key_unknown"}},
	{"INVALID: invalid format", []string{"format_invalid"}},
	{"INVALID: has been moved", []string{"moved"}},
	{"INVALID: hash value doesn't match", []string{"hash_mismatch"}},
	{"unexpected data after end of compressed stream", []string{"trailing_data"}},
}

// ourItem and ourReport are the `forensic verify --json` contract.
type ourItem struct {
	Kind     string          `json:"kind"`
	S3Bucket string          `json:"s3_bucket"`
	S3Key    string          `json:"s3_key"`
	Path     string          `json:"path"`
	Status   string          `json:"status"`
	Detail   json.RawMessage `json:"detail"`
}

type ourReport struct {
	Summary  json.RawMessage   `json:"summary"`
	Items    []ourItem         `json:"items"`
	Findings []json.RawMessage `json:"findings"`
}

// index maps "kind|bucket/key" to our items, by the S3 location they name
// and by the location of their local file under root.
func (r *ourReport) index(root string) map[string][]ourItem {
	out := map[string][]ourItem{}
	for _, it := range r.Items {
		seen := map[string]bool{}
		add := func(loc string) {
			if loc != "" && !seen[loc] {
				seen[loc] = true
				out[it.Kind+"|"+loc] = append(out[it.Kind+"|"+loc], it)
			}
		}
		if it.S3Key != "" {
			add(it.S3Bucket + "/" + it.S3Key)
		}
		if it.Path != "" {
			p := it.Path
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, p)
			}
			if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
				add(filepath.ToSlash(rel))
			}
		}
	}
	return out
}

var (
	buildOnce sync.Once
	forensic  string
	buildErr  error
)

// buildForensic builds cmd/forensic once per test binary, or returns
// $FORENSIC_BIN when set (a binary built elsewhere).
func buildForensic() (string, error) {
	buildOnce.Do(func() {
		if bin := os.Getenv("FORENSIC_BIN"); bin != "" {
			forensic = bin
			return
		}
		forensic = filepath.Join(tmpRoot, "forensic")
		cmd := exec.Command("go", "build", "-o", forensic, "github.com/forensic-dev/forensic/cmd/forensic")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build cmd/forensic: %w\n%s", err, out)
		}
	})
	return forensic, buildErr
}

// runOurs ingests root into a new case and verifies it.
func runOurs(t *testing.T, root string) *ourReport {
	bin, err := buildForensic()
	require.NoError(t, err)
	casePath := filepath.Join(t.TempDir(), "C.db")
	run := func(args ...string) []byte {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			t.Fatalf("forensic %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.Bytes()
	}
	run("ingest", "--case", casePath, root)
	out := run("verify", "--case", casePath, "--public-keys", filepath.Join(root, "keys"), "--json")
	var rep ourReport
	require.NoError(t, json.Unmarshal(out, &rep), "forensic verify --json output: %.500s", out)
	return &rep
}

func statuses(items []ourItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Status)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestConformance compares our verdicts with awscli's on every scenario.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds forensic and runs awscli on about 25 fixture sets")
	}
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			g := generate(sc)
			require.NoError(t, g.err, "scenario %s: awscli reference run failed (CI must have python3 with awscli 1.x)", sc.name)
			rep := runOurs(t, g.s.root)
			idx := rep.index(g.s.root)

			dev := map[string]deviation{}
			if sc.deviations != nil {
				for _, d := range sc.deviations(g.s) {
					dev[d.Kind+"|"+d.Key] = d
				}
			}
			bucket := g.s.m.Options.TrailBucket
			var problems []string
			for i := range g.runs {
				res := g.results[i]
				for kind, items := range map[string][]AwscliItem{"digest": res.Digests, "log": res.Logs} {
					for _, a := range items {
						if _, ok := dev[kind+"|"+a.S3Key]; ok {
							continue
						}
						ours := idx[kind+"|"+a.S3Bucket+"/"+a.S3Key]
						st := statuses(ours)
						if len(ours) == 0 {
							problems = append(problems, fmt.Sprintf("%s %s: awscli %s %q, we report nothing", kind, a.S3Key, a.Verdict, a.Message))
							continue
						}
						if a.Verdict == "valid" {
							for _, s := range st {
								if s != "valid" {
									problems = append(problems, fmt.Sprintf("%s %s: awscli valid, ours %v", kind, a.S3Key, st))
									break
								}
							}
							continue
						}
						if contains(st, "valid") {
							problems = append(problems, fmt.Sprintf("%s %s: awscli %q, ours %v", kind, a.S3Key, a.Message, st))
							continue
						}
						for _, ms := range messageStatuses {
							if !strings.Contains(a.Message, ms.sub) {
								continue
							}
							ok := false
							for _, s := range st {
								ok = ok || contains(ms.statuses, s)
							}
							if !ok {
								problems = append(problems, fmt.Sprintf("%s %s: awscli %q, ours %v, want one of %v", kind, a.S3Key, a.Message, st, ms.statuses))
							}
						}
					}
				}
			}
			for _, d := range dev {
				ours := idx[d.Kind+"|"+bucket+"/"+d.Key]
				st := statuses(ours)
				mixed := false
				for _, s := range st {
					mixed = mixed || (d.Ours == "valid") != (s == "valid")
				}
				if len(ours) == 0 || !contains(st, d.Ours) || mixed {
					problems = append(problems, fmt.Sprintf("deviation %s %s: ours %v, want %s (awscli %s; %s)", d.Kind, d.Key, st, d.Ours, d.Awscli, d.Reason))
				}
			}
			sort.Strings(problems)
			require.Empty(t, problems, "%d differences from awscli:\n%s", len(problems), strings.Join(problems, "\n"))
		})
	}
}

// BenchmarkAwscli720x10 times awscli's validator on 720 hourly digests ×
// 10 log files (one chain, 144,000 events) read through the fake clients:
// go test -run x -bench Awscli720x10 -benchtime 1x ./verify/conformance.
// The awscli-s/op metric excludes interpreter start-up.
func BenchmarkAwscli720x10(b *testing.B) {
	root := filepath.Join(b.TempDir(), "set")
	m, err := fixtures.Generate(root, fixtures.Options{Seed: 1, Hours: 720, FilesPerHour: 10, Parallel: 2})
	require.NoError(b, err)
	s := &state{m: m, root: root}
	args := awsArgs(s, m.Options.Accounts[0], m.Options.Regions[0], "")
	b.ResetTimer()
	var total float64
	for i := 0; i < b.N; i++ {
		secs, out, err := RunAwscli(root, args...)
		require.NoError(b, err)
		res, err := ParseAwscli(out)
		require.NoError(b, err)
		require.Equal(b, 720, res.Summary.ValidDigests)
		require.Equal(b, 7200, res.Summary.ValidLogs)
		total += secs
	}
	b.ReportMetric(total/float64(b.N), "awscli-s/op")
}
