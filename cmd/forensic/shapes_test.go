package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// TestRecordShapes: Insights, network activity and aggregated event files,
// each in its own folder beside a trail's log files, are ingested as
// CloudTrail log files with each shape's spellings mapped onto the indexed
// columns, their own fields queryable; verify gives each the status
// not_covered (no digest lists them, and CloudTrail documents no digest
// coverage of those folders), never unreferenced, and the run still
// verifies; the report states them as a limitation.
func TestRecordShapes(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 5, Hours: 4, FilesPerHour: 2, EventsPerFile: 3})
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	require.NoError(t, os.RemoveAll(filepath.Join(m.Root, "keys")))
	shapes, err := fixtures.WriteShapes(m.Root, fixtures.DefaultAccount, fixtures.DefaultRegion, fixtures.DefaultStart.Add(2*time.Hour))
	require.NoError(t, err)
	db := filepath.Join(dir, "case.db")
	r := forensic(t, "ingest", "--case", db, m.Root)
	require.Equal(t, 0, r.code, r.stderr)

	for _, sh := range shapes {
		rows := queryJSON(t, db, `SELECT e.kind, v.event_id, v.event_time, coalesce(v.event_name, '') AS event_name, v.event_source, v.event_type,
			v.event_category, v.recipient_account_id FROM ct_events v JOIN evidence e ON e.id = v.evidence_id
			WHERE e.s3_key = '`+strings.ReplaceAll(sh.Key, "'", "''")+`' ORDER BY v.record_index`)
		require.Len(t, rows, len(sh.Events), sh.Shape)
		for i, want := range sh.Events {
			got := rows[i]
			assert.Equal(t, "cloudtrail_log", got["kind"], sh.Shape)
			assert.Equal(t, []any{want[0], want[1], want[2], want[3], want[4], want[5], want[6]},
				[]any{got["event_id"], got["event_time"], got["event_name"], got["event_source"], got["event_type"], got["event_category"], got["recipient_account_id"]}, sh.Shape)
		}
	}
	// The shapes' own fields, from the exact record bytes.
	ins := queryJSON(t, db, `SELECT json_extract(raw, '$.insightDetails.state') AS state, json_extract(raw, '$.insightDetails.insightContext.statistics.baseline.average') AS avg
		FROM ct_events WHERE event_category = 'Insight' ORDER BY event_time`)
	require.Len(t, ins, 2)
	assert.Equal(t, "Start", ins[0]["state"])
	assert.InDelta(t, 9.82222e-5, ins[0]["avg"], 1e-12, "exponent-form numbers")
	agg := queryJSON(t, db, `SELECT json_extract(raw, '$.summary.primaryDimension.statistics[0].name') AS name, json_extract(raw, '$.timeWindow.windowEnd') AS till
		FROM ct_events WHERE event_category = 'Aggregated'`)
	require.Len(t, agg, 1)
	assert.Equal(t, "PutObject", agg[0]["name"])
	vpce := queryJSON(t, db, `SELECT json_extract(raw, '$.vpcEndpointId') AS vpce, error_code FROM ct_events WHERE event_category = 'NetworkActivity'`)
	require.Len(t, vpce, 1)
	assert.Equal(t, "vpce-EXAMPLE08c1b6b9b7", vpce[0]["vpce"])
	assert.Equal(t, "VpceAccessDenied", vpce[0]["error_code"])

	r = forensic(t, "verify", "--case", db, "--public-keys", keys, "--json")
	assert.Equal(t, 0, r.code, "files no digest covers by design are no problem: %s", r.stderr)
	var rep struct {
		Summary struct {
			OK   bool `json:"ok"`
			Logs struct {
				ByStatus map[string]int `json:"by_status"`
			} `json:"logs"`
		} `json:"summary"`
		Items []struct {
			Kind   string         `json:"kind"`
			S3Key  string         `json:"s3_key"`
			Status string         `json:"status"`
			Detail map[string]any `json:"detail"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.True(t, rep.Summary.OK)
	assert.Equal(t, len(shapes), rep.Summary.Logs.ByStatus["not_covered"])
	assert.Zero(t, rep.Summary.Logs.ByStatus["unreferenced"], "never unreferenced")
	byKey := map[string]string{}
	for _, it := range rep.Items {
		byKey[it.S3Key] = it.Status
		if it.Status == "not_covered" {
			assert.Contains(t, it.Detail["reason"], "not covered by any digest by design")
		}
	}
	for _, sh := range shapes {
		assert.Equal(t, "not_covered", byKey[sh.Key], sh.Shape)
	}
	// Their events are not proven authentic.
	assert.Equal(t, float64(0), queryJSON(t, db, `SELECT count(*) AS n FROM ct_events_status WHERE event_category IN ('Insight', 'NetworkActivity', 'Aggregated') AND verified = 1`)[0]["n"])
	r = forensic(t, "verify", "--case", db, "--public-keys", keys)
	assert.Contains(t, r.stdout, "Result: every item is valid but 3 log files, of CloudTrail-Insight/, -NetworkActivity/ or -Aggregated/, which no digest covers by design (not_covered)")

	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rd := filepath.Join(dir, "report")
	r = forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rd)
	require.Equal(t, 0, r.code, r.stderr)
	limitations, verdict, _ := readReportJSON(t, rd)
	assert.Contains(t, verdict, "VERIFIED: all")
	assert.Contains(t, limitations, "3 log files of CloudTrail-Insight/, CloudTrail-NetworkActivity/ or CloudTrail-Aggregated/ no digest lists, and CloudTrail does not document that digests cover those folders (status not_covered): their events are not proven authentic.")
}
