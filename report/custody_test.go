package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rewriteReport changes report.json of a copy of dir with fn and signs
// the copy again with the test key, as a signer who edits a report would.
func rewriteReport(t *testing.T, dir string, fn func(m map[string]any)) string {
	t.Helper()
	d := copyDir(t, dir)
	m := readReport(t, d)
	fn(m)
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	canon, err := Canonical(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(d, FileJSON), append(canon, '\n'), 0o644))
	resign(t, d)
	return d
}

// TestReportEventsAndVerifyRecord: an untouched case gives a report whose
// evidence entries carry their events' count and hash (the documented
// hash of the stored rows), with an intact custody record, that verifies
// against the evidence; a renamed event is in the report's problems and
// makes the re-check list the item as events_changed; a status edited
// after verify is in the report's problems and fails report verify, as
// does a report whose statuses were rewritten and re-signed.
func TestReportEventsAndVerifyRecord(t *testing.T) {
	ctx := context.Background()
	c, ev, _ := fixtureCase(t, smallOptions(), fixtures.LogHashMismatch)
	dir := buildReport(t, c)
	m := readReport(t, dir)
	cust := m["custody"].(map[string]any)
	assert.Equal(t, true, cust["intact"], "%v", cust["problems"])
	assert.EqualValues(t, len(cust["entries"].([]any)), cust["count"])
	anchor := cust["anchor"].(map[string]any)
	assert.Equal(t, cust["head_hash"], anchor["head"])
	logs := 0
	for _, e := range m["evidence"].([]any) {
		e := e.(map[string]any)
		if e["kind"] != "cloudtrail_log" {
			assert.EqualValues(t, 0, e["event_count"])
			assert.Nil(t, e["events_sha256"])
			continue
		}
		logs++
		var stored string
		var n int64
		require.NoError(t, caseDB(t, c).QueryRow("SELECT event_count, events_sha256 FROM evidence WHERE path = ? AND member = ?",
			e["path"], e["member"]).Scan(&n, &stored))
		assert.EqualValues(t, n, e["event_count"])
		assert.Equal(t, stored, e["events_sha256"])
	}
	require.Greater(t, logs, 2)
	pin := signerPEM(t)
	res, err := Verify(ctx, dir, VerifyOptions{Signer: pin, Evidence: []string{ev}})
	require.NoError(t, err)
	assert.True(t, res.OK, "%v %v", failedChecks(res), res.EvidenceCounts)
	assert.Zero(t, res.EvidenceCounts[EvidenceEventsChanged])

	// The signer rewrites the statuses of the report and signs it again.
	d := rewriteReport(t, dir, func(m map[string]any) {
		by := m["verification"].(map[string]any)["by_kind"].(map[string]any)["log"].(map[string]any)["by_status"].(map[string]any)
		for s, n := range by {
			if s != "valid" {
				by["valid"] = by["valid"].(float64) + n.(float64)
				delete(by, s)
			}
		}
	})
	res, err = Verify(ctx, d, VerifyOptions{Signer: pin})
	require.NoError(t, err)
	assert.Equal(t, []string{"verification matches custody"}, failedChecks(res))

	// A report made before reports carried event hashes: not compared, said so.
	d = rewriteReport(t, dir, func(m map[string]any) {
		for _, e := range m["evidence"].([]any) {
			delete(e.(map[string]any), "event_count")
			delete(e.(map[string]any), "events_sha256")
		}
	})
	res, err = Verify(ctx, d, VerifyOptions{Signer: pin, Evidence: []string{ev}})
	require.NoError(t, err)
	assert.True(t, res.OK, "%v", failedChecks(res))
	assert.Contains(t, strings.Join(res.Warnings, "\n"), "carries no per-file event counts and hashes")

	// A renamed event.
	_, err = caseDB(t, c).Exec("UPDATE ct_events SET event_name = 'ListBuckets' WHERE id = (SELECT min(id) FROM ct_events)")
	require.NoError(t, err)
	dir = buildReport(t, c)
	m = readReport(t, dir)
	cust = m["custody"].(map[string]any)
	assert.Equal(t, false, cust["intact"])
	assert.Contains(t, cust["problems"].([]any)[0], "not those ingest recorded")
	assert.Contains(t, m["verification"].(map[string]any)["verdict"], "NOT VERIFIED")
	res, err = Verify(ctx, dir, VerifyOptions{Signer: pin, Evidence: []string{ev}})
	require.NoError(t, err)
	assert.False(t, res.OK)
	assert.Equal(t, 1, res.EvidenceCounts[EvidenceEventsChanged])
	for _, e := range res.Evidence {
		if e.Status == EvidenceEventsChanged {
			assert.Equal(t, *e.EventCount, *e.ActualEventCount)
			assert.NotEqual(t, e.EventsSHA256, e.ActualEventsSHA256)
		}
	}
	_, err = caseDB(t, c).Exec("UPDATE ct_events SET event_name = (SELECT json_extract(raw, '$.eventName')) WHERE id = (SELECT min(id) FROM ct_events)")
	require.NoError(t, err)

	// A status edited after verify.
	_, err = caseDB(t, c).Exec("UPDATE item_status SET status = 'valid' WHERE status <> 'valid'")
	require.NoError(t, err)
	dir = buildReport(t, c)
	m = readReport(t, dir)
	assert.Contains(t, strings.Join(toStrings(m["custody"].(map[string]any)["problems"]), "\n"), "item statuses changed after verification")
	res, err = Verify(ctx, dir, VerifyOptions{Signer: pin})
	require.NoError(t, err)
	assert.Equal(t, []string{"verification matches custody"}, failedChecks(res))
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
