package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// ingestFiltered ingests ev into c with the filter f and records the run
// in the custody log as forensic ingest does (its items and widenings),
// then verifies the case with keys.
func ingestFiltered(t *testing.T, c *store.Case, ev, keys string, f store.EventFilter) {
	t.Helper()
	ingestOnly(t, c, ev, f)
	ctx := context.Background()
	a, err := verify.LoadTrustAnchors([]string{keys})
	require.NoError(t, err)
	rep, err := verify.Run(ctx, c, verify.Options{Anchors: a})
	require.NoError(t, err)
	recordVerify(t, c, rep)
}

// ingestOnly is ingestFiltered without the verification.
func ingestOnly(t *testing.T, c *store.Case, ev string, f store.EventFilter) {
	t.Helper()
	ctx := context.Background()
	sum, err := ingest.Run(ctx, c, []string{ev}, ingest.Options{Workers: 1, Events: f})
	require.NoError(t, err)
	require.Empty(t, sum.Errors)
	_, _, err = c.AppendIngestCustody(ctx, store.CustodyEntry{Time: "2024-03-10T10:00:00Z", Operator: "analyst", Host: "lab-host",
		Tool: "forensic test", Command: "ingest", Args: []string{"ingest", "evidence"}, Inputs: json.RawMessage(`{"sources":[]}`)},
		sum.Added, func(cl store.IngestClaim) (json.RawMessage, error) {
			out := map[string]any{"added": cl.Added, "claimed": cl.Claimed, "recovered": cl.Recovered, "claimed_events_sha256": cl.EventsSHA256}
			if cl.Widened > 0 {
				out["widened"], out["widened_events_sha256"] = cl.Widened, cl.WidenedEventsSHA256
			}
			return json.Marshal(out)
		})
	require.NoError(t, err)
}

// TestReportPartialEvents: a report of a case whose records were indexed
// by a filter says so (evidence_summary.events_indexing, a limitation in
// report.json and report.html, each filtered item's events_filter) and
// stays VERIFIED (every file was verified); report verify --evidence
// re-ingests each item by its filter and finds its events unchanged, for
// a filtered case and after a wider ingest. A fully indexed case has no
// such limitation.
func TestReportPartialEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, smallOptions())
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
	require.NoError(t, err)
	defer c.Close()
	c.Now = func() time.Time { return testSignedAt.Add(-time.Hour) }

	f := store.EventFilter{Restricted: true, Clauses: []store.EventClause{{Regions: []string{"eu-west-1"},
		From: fixtures.DefaultStart.Add(30 * time.Minute)}}}
	ingestFiltered(t, c, ev, keys, f)
	check := func(partial bool) {
		t.Helper()
		out := buildReport(t, c)
		r := readReport(t, out)
		ix := r["evidence_summary"].(map[string]any)["events_indexing"].(map[string]any)
		assert.Equal(t, partial, ix["partial"])
		assert.EqualValues(t, len(m.Logs), ix["log_files"])
		var lim []string
		for _, l := range r["limitations"].([]any) {
			if strings.Contains(l.(string), "indexed in part") {
				lim = append(lim, l.(string))
			}
		}
		html, err := os.ReadFile(filepath.Join(out, FileHTML))
		require.NoError(t, err)
		filtered := 0
		for _, e := range r["evidence"].([]any) {
			if fe, ok := e.(map[string]any)["events_filter"]; ok {
				assert.Equal(t, f.Encode(), fe)
				filtered++
			}
		}
		if partial {
			require.Len(t, lim, 1)
			assert.Contains(t, lim[0], "regions eu-west-1")
			assert.Contains(t, string(html), "indexed in part")
			assert.Equal(t, len(m.Logs), filtered)
			assert.EqualValues(t, 0, ix["indexed_in_full"])
		} else {
			assert.Empty(t, lim)
			assert.NotContains(t, string(html), "indexed in part")
			assert.Zero(t, filtered)
		}
		v := r["verification"].(map[string]any)
		assert.Equal(t, true, v["ok"], v["verdict"])
		res, err := Verify(ctx, out, VerifyOptions{Evidence: []string{ev}})
		require.NoError(t, err)
		assert.True(t, res.OK, "%v %v", failedChecks(res), res.EvidenceCounts)
		assert.Zero(t, res.EvidenceCounts[EvidenceEventsChanged])
	}
	check(true)
	// Wider: every record. Until verify runs again the case is not
	// covered by its last verification (whose gap explanations and
	// coverage from events did not see the new records); then the report
	// no longer has the limitation, and the evidence still re-checks.
	ingestOnly(t, c, ev, store.AllEvents)
	_, err = Build(ctx, c, testBuildOptions(filepath.Join(t.TempDir(), "report")))
	var ue *UnverifiedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Error(), "more of their records indexed by an ingest after the last verification")
	ingestFiltered(t, c, ev, keys, store.AllEvents) // nothing more to widen; verifies
	check(false)
}
