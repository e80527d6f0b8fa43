package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden")

// goldenSets are the evidence sets whose whole verification (the report
// `forensic verify --json` prints) is kept in testdata/golden: the small
// set untampered and under every tampering, the wide set, and the demo.
// A change to how verify works must leave them as they are (refresh with
// go test ./verify -run TestVerifyGolden -update only when a result is
// meant to change, and say so in the commit).
func goldenSets() map[string]func(dir string) (*fixtures.Manifest, error) {
	sets := map[string]func(string) (*fixtures.Manifest, error){
		"small": func(dir string) (*fixtures.Manifest, error) { return fixtures.Generate(dir, small()) },
		"wide":  func(dir string) (*fixtures.Manifest, error) { return fixtures.Generate(dir, wide()) },
		"demo":  fixtures.Demo,
	}
	for _, tp := range fixtures.Tamperings() {
		tp := tp
		sets["small-"+string(tp)] = func(dir string) (*fixtures.Manifest, error) {
			opt := small()
			opt.Objects, opt.AccessLogs = true, true
			m, err := fixtures.Generate(dir, opt)
			if err != nil {
				return nil, err
			}
			_, err = fixtures.Tamper(m, tp)
			return m, err
		}
	}
	return sets
}

// volatile are the members that differ from one run (or machine) to
// another: timings, and evidence ids (they follow the order in which the
// parse workers finish).
var volatile = regexp.MustCompile(`^(seconds|evidence_id|.*_evidence_id|metadata_evidence_ids)$`)

// normalize rewrites a verify report for comparison: volatile members
// removed, the set's folder replaced by $ROOT, every item's checks left
// out (they are added to the report; the rest must not change), arrays of
// items in a fixed order.
func normalize(v any, root string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		_, kind := t["kind"]
		_, status := t["status"]
		for k, x := range t {
			if volatile.MatchString(k) || k == "checks" && kind && status {
				continue
			}
			out[k] = normalize(x, root)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalize(x, root)
		}
		return out
	case string:
		return strings.ReplaceAll(t, root, "$ROOT")
	}
	return v
}

func TestVerifyGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("verifies every golden set")
	}
	sets := goldenSets()
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		gen := sets[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			root := filepath.Join(dir, "evidence")
			m, err := gen(root)
			require.NoError(t, err)
			require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
			ctx := context.Background()
			c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
			require.NoError(t, err)
			defer c.Close()
			_, err = ingest.Run(ctx, c, []string{root}, ingest.Options{Workers: 2})
			require.NoError(t, err)
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			// As forensic verify --json prints it: the items read back
			// from the case.
			var out bytes.Buffer
			require.NoError(t, rep.WriteJSON(ctx, c, &out))
			b := out.Bytes()
			var doc any
			require.NoError(t, json.Unmarshal(b, &doc))
			checkVerdicts(t, name, b)
			got, err := json.MarshalIndent(normalize(doc, dir), "", " ")
			require.NoError(t, err)
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *updateGolden {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./verify -run TestVerifyGolden -update to create it")
			// A chain evaluated a digest or three at a time (each window's
			// details spilled and restored), and objects paired and read a
			// copy or three at a time, give the same report.
			for _, w := range []int{1, 3} {
				// With a window of 1, correlation also asks the scratch
				// tables for every item instead of holding the requests'
				// keys.
				held := maxHeldSuffixes
				if w == 1 {
					maxHeldSuffixes = 0
				}
				rep := runVerify(t, c, Options{Anchors: anchors(t, m), window: w, chunk: w})
				maxHeldSuffixes = held
				var out bytes.Buffer
				require.NoError(t, rep.WriteJSON(ctx, c, &out))
				var doc any
				require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
				again, err := json.MarshalIndent(normalize(doc, dir), "", " ")
				require.NoError(t, err)
				assert.Equal(t, string(got), string(append(again, '\n')), "window and chunk of %d", w)
			}
			if !bytes.Equal(got, want) {
				if d := os.Getenv("FORENSIC_GOLDEN_GOT"); d != "" {
					os.WriteFile(filepath.Join(d, name+".json"), got, 0o644)
				}
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				lo := max(0, i-300)
				t.Fatalf("verify report differs from %s at byte %d:\n got: ...%s\nwant: ...%s", golden, i,
					got[lo:min(len(got), i+300)], want[lo:min(len(want), i+300)])
			}
		})
	}
}

// TestFindingsStreamedFromTheCase: without KeepItems a run holds no
// finding in memory; WriteJSON and Findings read them back from the
// case, in report order, as many as the summary counts.
func TestFindingsStreamedFromTheCase(t *testing.T) {
	ctx := context.Background()
	o := accessSet()
	o.Regions = []string{"us-east-1", "eu-west-1", "ap-south-1"}
	c, m := set(t, o, fixtures.LogDeletedViaS3, fixtures.DigestTailDeleted, fixtures.DigestOverwrittenViaS3)
	rep, err := Run(ctx, c, Options{Anchors: anchors(t, m)})
	require.NoError(t, err)
	assert.Nil(t, rep.Findings)
	require.Greater(t, rep.FindingCount(), 1)
	fs, err := Findings(ctx, c)
	require.NoError(t, err)
	assert.Len(t, fs, rep.FindingCount())
	var out bytes.Buffer
	require.NoError(t, rep.WriteJSON(ctx, c, &out))
	var doc struct {
		Findings []Finding `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	assert.Equal(t, fs, doc.Findings)
	kept := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Equal(t, fs, kept.Findings)
	for i := 1; i < len(fs); i++ {
		a, b := fs[i-1], fs[i]
		assert.LessOrEqual(t, findingPhase[a.Type], findingPhase[b.Type], "report order")
	}
}
