package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
)

// reportDoc is what the tests of reports over several cases read of
// report.json.
type reportDoc struct {
	Statuses []map[string]any `json:"statuses"`
	Findings []map[string]any `json:"findings"`
	Cases    []struct {
		Path    string   `json:"path"`
		Shards  []string `json:"shards"`
		Objects bool     `json:"objects"`
		SHA256  string   `json:"sha256"`
		Custody struct {
			Entries []map[string]any `json:"entries"`
			Intact  bool             `json:"intact"`
		} `json:"custody"`
	} `json:"cases"`
	Limitations     []string       `json:"limitations"`
	EvidenceSummary map[string]any `json:"evidence_summary"`
	Verification    struct {
		Verdict string `json:"verdict"`
	} `json:"verification"`
	Custody struct {
		Entries []struct {
			Command string `json:"command"`
			Inputs  string `json:"inputs"`
		} `json:"entries"`
	} `json:"custody"`
}

func readReport(t *testing.T, dir string) reportDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var d reportDoc
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// evidenceNumbers are the places where a row id of the case shows: they
// differ between a case and a merge of cases, and nothing else may.
var evidenceNumbers = regexp.MustCompile(`evidence \d+|evidence_id":\d+|"evidence_id":"\d+"`)

// archivePath is where a machine held the test's archive.
var archivePath = regexp.MustCompile(`/[^"\s]*/ev\.tar\.zst`)

// comparable is a status or finding without what depends on the case's
// row ids or the machine's paths: its evidence id and path.
func comparable(t *testing.T, rows []map[string]any, drop ...string) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		c := map[string]any{}
		for k, v := range r {
			c[k] = v
		}
		for _, k := range drop {
			delete(c, k)
		}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		out = append(out, archivePath.ReplaceAllString(evidenceNumbers.ReplaceAllString(string(b), "evidence N"), "ARCHIVE"))
	}
	sort.Strings(out)
	return out
}

// TestReportOverShards: the cases of the five shards of a set (four areas
// and rest), each ingested and verified on its own, make one signed
// report whose statuses and findings — those that span shards included:
// the access logs of shard rest correlated with every area's digests and
// log files — equal those of the report of the single case, with every
// case's custody log carried and checked.
func TestReportOverShards(t *testing.T) {
	// Tamperings whose findings span shards: S3 requests recorded in the
	// access logs (shard rest) on an area's log file, and a
	// chain's newest digests deleted, which the deliveries in the access
	// logs show.
	dir, _, arc, keys := shardedSet(t, fixtures.DigestTailDeleted, fixtures.LogDeletedViaS3)
	plan := planOf(t, arc)
	require.Len(t, plan, 5)

	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	full := filepath.Join(dir, "full.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", full, arc).code)
	forensic(t, "verify", "--case", full, "--public-keys", keys)
	r := forensic(t, "report", "--case", full, "--key", signer+".key", "--out", filepath.Join(dir, "report-full"))
	require.Equal(t, 0, r.code, r.stderr)
	want := readReport(t, filepath.Join(dir, "report-full"))

	var cases []string
	var args []string
	for i, s := range plan {
		// Each shard on its own machine: the archive somewhere else.
		copyAt := filepath.Join(dir, fmt.Sprintf("machine-%d", i), "ev.tar.zst")
		require.NoError(t, os.MkdirAll(filepath.Dir(copyAt), 0o755))
		b, err := os.ReadFile(arc)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(copyAt, b, 0o644))
		db := filepath.Join(dir, s.Shard+".db")
		r := forensic(t, "ingest", "--case", db, "--shard", s.Shard, copyAt)
		require.Equal(t, 0, r.code, r.stderr)
		forensic(t, "verify", "--case", db, "--public-keys", keys)
		cases = append(cases, db)
		args = append(args, "--case", db)
	}
	// The machine that merges the cases need not have the evidence.
	require.NoError(t, os.Rename(arc, arc+".elsewhere"))
	for i := range plan {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, fmt.Sprintf("machine-%d", i))))
	}
	// Merged in another order than the plan's: the case that judged the
	// objects (rest) is taken first whatever its place.
	args = append(args[2:], args[:2]...)
	merged := filepath.Join(dir, "merged.db")
	out := filepath.Join(dir, "report-merged")
	r = forensic(t, append(append([]string{"report"}, args...), "--key", signer+".key", "--out", out, "--merged-case", merged)...)
	require.Equal(t, 0, r.code, r.stderr)
	got := readReport(t, out)

	drop := []string{"evidence_id", "evidence_path"}
	assert.Equal(t, comparable(t, want.Statuses, drop...), comparable(t, got.Statuses, drop...), "statuses")
	assert.Equal(t, want.EvidenceSummary, got.EvidenceSummary, "the same items, the source once")
	assert.Equal(t, comparable(t, want.Findings), comparable(t, got.Findings), "findings")
	types := map[string]int{}
	for _, f := range got.Findings {
		types[f["type"].(string)]++
	}
	t.Logf("findings by type: %v", types)
	assert.Positive(t, types["correlation"], "access-log correlation across shards")
	assert.Positive(t, types["coverage"], "tail coverage from the access logs")
	assert.Positive(t, types["gap"], "gaps, explained by the StopLogging of the home region's shard")

	// What one shard's verification alone finds differs from the whole:
	// the merge recomputes it.
	var apart []map[string]any
	for i, s := range plan {
		rep := filepath.Join(dir, "report-"+s.Shard)
		r := forensic(t, "report", "--case", cases[i], "--key", signer+".key", "--out", rep)
		require.Equal(t, 0, r.code, r.stderr)
		apart = append(apart, readReport(t, rep).Findings...)
	}
	assert.NotEqual(t, comparable(t, want.Findings), comparable(t, apart), "the shards apart find other findings than the whole")
	explained := func(fs []map[string]any) (yes, no int) {
		for _, f := range fs {
			if f["type"] == "gap" {
				if f["detail"].(map[string]any)["explained"] == true {
					yes++
				} else {
					no++
				}
			}
		}
		return
	}
	yes, no := explained(got.Findings)
	assert.Equal(t, [2]int{4, 0}, [2]int{yes, no}, "every gap explained by the events of the home region's shard")
	yes, no = explained(apart)
	assert.Positive(t, no, "apart, the other areas' gaps are unexplained")
	assert.Equal(t, 4, yes+no)

	require.Len(t, got.Cases, 5)
	assert.True(t, got.Cases[0].Objects, "rest's case first: its object verdicts are carried")
	assert.Equal(t, []string{"rest"}, got.Cases[0].Shards)
	for _, c := range got.Cases {
		assert.True(t, c.Custody.Intact, c.Path)
		assert.Len(t, c.Shards, 1)
		assert.Len(t, c.SHA256, 64)
	}
	assert.Contains(t, got.Verification.Verdict, "This report covers 5 cases merged into one")
	assert.NotContains(t, got.Verification.Verdict, "holds only shard", "the five shards are the whole source")
	merges := 0
	for _, e := range got.Custody.Entries {
		if e.Command == "merge" {
			merges++
			assert.Contains(t, e.Inputs, `"custody_head":"`)
		}
	}
	assert.Equal(t, 5, merges, "one merge entry per case in the merged case's custody log")

	// The report verifies, its cases' custody logs included; each case's
	// own log records the report.
	r = forensic(t, "report", "verify", out, "--signer", signer+".pub.pem")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "case custody chain")
	for _, db := range cases {
		rows := queryJSON(t, db, "SELECT command FROM custody ORDER BY seq DESC LIMIT 1")
		assert.Equal(t, "report", rows[0]["command"], db)
	}
	// The merged case kept with --merged-case is a case of its own.
	const n = "SELECT count(*) AS n FROM item_status"
	assert.Equal(t, queryJSON(t, full, n), queryJSON(t, merged, n))

	// The merged export of the shards' cases is the merged report's to
	// cover; one shard short, it is refused.
	exp := filepath.Join(dir, "export")
	for _, db := range cases {
		part := filepath.Join(dir, "export-"+filepath.Base(db))
		r := forensic(t, "export", "--case", db, "--out", part)
		require.Equal(t, 0, r.code, r.stderr)
		require.NoError(t, os.CopyFS(exp, os.DirFS(part)))
	}
	require.Equal(t, 0, forensic(t, "export", "merge", exp).code)
	r = forensic(t, append(append([]string{"report"}, args...), "--key", signer+".key", "--out", filepath.Join(dir, "report-export"), "--export", exp)...)
	require.Equal(t, 0, r.code, r.stderr)
	r = forensic(t, "report", "verify", filepath.Join(dir, "report-export"), "--signer", signer+".pub.pem", "--export", exp)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = forensic(t, append(append([]string{"report"}, args[2:]...), "--key", signer+".key", "--out", filepath.Join(dir, "report-export4"), "--export", exp)...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "not in the report")

	// Four of the five shards: the report says which it holds.
	out4 := filepath.Join(dir, "report-four")
	r = forensic(t, "report", "--case", cases[0], "--case", cases[1], "--case", cases[2], "--case", cases[4],
		"--key", signer+".key", "--out", out4)
	require.Equal(t, 0, r.code, r.stderr)
	four := readReport(t, out4)
	assert.Contains(t, four.Verification.Verdict, "holds only shards")
	limits := strings.Join(four.Limitations, " ")
	for _, i := range []int{0, 1, 2, 4} {
		assert.Contains(t, limits, plan[i].Shard, "a shard it holds is named")
	}
	assert.NotContains(t, limits, plan[3].Shard, "the shard it lacks is not among those it holds")
}

// TestReportOverShardsRefuses: cases that are not shards of one evidence
// verified alike are refused, naming why.
func TestReportOverShardsRefuses(t *testing.T) {
	dir, _, arc, keys := shardedSet(t)
	plan := planOf(t, arc)
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	for _, c := range []struct{ db, shard string }{{a, plan[0].Shard}, {b, plan[1].Shard}} {
		require.Equal(t, 0, forensic(t, "ingest", "--case", c.db, "--shard", c.shard, arc).code)
	}
	report := func(name string, cases ...string) result {
		var args []string
		for _, c := range cases {
			args = append(args, "--case", c)
		}
		return forensic(t, append(append([]string{"report"}, args...), "--key", signer+".key", "--out", filepath.Join(dir, name))...)
	}
	r := report("r1", a, b)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "is not verified")

	forensic(t, "verify", "--case", a, "--public-keys", keys)
	forensic(t, "verify", "--case", b, "--no-trust-anchors")
	r = report("r2", a, b)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "other trust anchors")

	forensic(t, "verify", "--case", b, "--public-keys", keys)
	r = report("r3", a, a)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "again")

	c := filepath.Join(dir, "c.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", c, "--shard", plan[0].Shard, arc).code)
	forensic(t, "verify", "--case", c, "--public-keys", keys)
	r = report("r4", a, c)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "both hold "+plan[0].Shard)

	r = report("r5", a, b)
	assert.Equal(t, 0, r.code, r.stderr)

	// With the analyst's own key files: the same as the cases'; others
	// are refused.
	r = forensic(t, "report", "--case", a, "--case", b, "--public-keys", keys, "--key", signer+".key", "--out", filepath.Join(dir, "r6"))
	assert.Equal(t, 0, r.code, r.stderr)
	other := filepath.Join(dir, "other-keys.json")
	kb, err := os.ReadFile(firstFile(t, keys))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(other, append(kb, '\n'), 0o644))
	r = forensic(t, "report", "--case", a, "--case", b, "--public-keys", other, "--key", signer+".key", "--out", filepath.Join(dir, "r7"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "other trust anchors")

	// A verdict edited after verify: the case's record does not hold.
	rest := filepath.Join(dir, "rest.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", rest, "--shard", "rest", arc).code)
	forensic(t, "verify", "--case", rest, "--public-keys", keys)
	edit(t, rest, "UPDATE item_status SET status = 'valid' WHERE kind = 'object'")
	r = report("r8", a, rest)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "record of case")
	assert.Contains(t, r.stderr, "changed after verification")

	// Trust anchors edited: not those the verify recorded.
	forensic(t, "verify", "--case", rest, "--public-keys", keys)
	edit(t, rest, "INSERT INTO trust_anchor_files(path, sha256, size, keys) SELECT path || '.x', sha256, size, keys FROM trust_anchor_files LIMIT 1")
	r = report("r9", a, rest)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "not those its last verify recorded")
}

// TestReportOverShardsRehash: a case whose verify --rehash found evidence
// changed since ingest is refused (the merge cannot carry that), and one
// whose rehash found nothing is merged.
func TestReportOverShardsRehash(t *testing.T) {
	dir, root, arc, keys := shardedSet(t)
	plan := planOf(t, arc)
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	for _, c := range []struct{ db, shard string }{{a, plan[0].Shard}, {b, plan[1].Shard}} {
		require.Equal(t, 0, forensic(t, "ingest", "--case", c.db, "--shard", c.shard, root).code)
		forensic(t, "verify", "--case", c.db, "--public-keys", keys, "--rehash")
	}
	out := func(n string) []string {
		return []string{"report", "--case", a, "--case", b, "--key", signer + ".key", "--out", filepath.Join(dir, n)}
	}
	r := forensic(t, out("r1")...)
	require.Equal(t, 0, r.code, r.stderr)

	// One log file of a's shard changed on disk, found by its rehash.
	rows := queryJSON(t, a, "SELECT path FROM evidence WHERE kind = 'cloudtrail_log' ORDER BY id LIMIT 1")
	p := rows[0]["path"].(string)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	data[len(data)/2] ^= 1
	require.NoError(t, os.WriteFile(p, data, 0o644))
	forensic(t, "verify", "--case", a, "--public-keys", keys, "--rehash")
	r = forensic(t, out("r2")...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "re-read the evidence (--rehash)")
}

// TestItemsOfShards: a case that says it holds one shard but holds an item
// of another is refused, naming the item.
func TestItemsOfShards(t *testing.T) {
	dir, _, arc, _ := shardedSet(t)
	plan := planOf(t, arc)
	db := filepath.Join(dir, "a.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, "--shard", plan[0].Shard, arc).code)
	ctx := context.Background()
	c, err := store.OpenReadOnly(ctx, db)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, itemsOfShards(ctx, c, db, []string{plan[0].Shard}))
	err = itemsOfShards(ctx, c, db, []string{plan[1].Shard})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "of shard "+plan[0].Shard+", but says it holds shard "+plan[1].Shard+" only")
}

// edit runs SQL on a case file behind forensic's back.
func edit(t *testing.T, db, q string) {
	t.Helper()
	h, err := sql.Open("sqlite", db)
	require.NoError(t, err)
	defer h.Close()
	_, err = h.Exec(q)
	require.NoError(t, err, q)
}

// firstFile is the first regular file below dir.
func firstFile(t *testing.T, dir string) string {
	t.Helper()
	var first string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && first == "" && d.Type().IsRegular() {
			first = p
		}
		return err
	}))
	require.NotEmpty(t, first)
	return first
}

// planOf is forensic plan --json of the evidence at arc.
func planOf(t *testing.T, arc string) []planShard {
	t.Helper()
	r := forensic(t, "plan", "--json", arc)
	require.Equal(t, 0, r.code, r.stderr)
	var plan []planShard
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &plan))
	return plan
}
