package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
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
	// The records of one log file as EventBridge carries them, saved
	// beside the bucket.
	ebPath := filepath.Join(m.Root, "exports", "eventbridge-cloudtrail.ndjson")
	ebIDs, err := fixtures.WriteEventBridge(ebPath, m.Logs[0].Path)
	require.NoError(t, err)
	require.NotEmpty(t, ebIDs)
	// The same log file as a CloudWatch Logs export task writes the trail's
	// log group: a time stamp before each record.
	cwPath := filepath.Join(m.Root, "exports", "cwl", "4f6c1d2e-export-task", fixtures.DefaultAccount+"_CloudTrail_"+fixtures.DefaultRegion, "000000.gz")
	cwIDs, err := fixtures.WriteCloudWatchExport(cwPath, m.Logs[1].Path)
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
	// The EventBridge export: a log file of one event per line, each
	// event's columns those of the record in its detail, raw the whole
	// event as saved.
	eb := queryJSON(t, db, `SELECT e.kind, e.format, v.event_id, v.event_name, v.recipient_account_id, json_extract(v.raw, '$.detail-type') AS dt
		FROM ct_events v JOIN evidence e ON e.id = v.evidence_id WHERE e.path LIKE '%eventbridge-cloudtrail.ndjson' ORDER BY v.record_index`)
	require.Len(t, eb, len(ebIDs))
	orig := queryJSON(t, db, `SELECT v.event_id, v.event_name, v.recipient_account_id FROM ct_events v JOIN evidence e ON e.id = v.evidence_id
		WHERE e.s3_key = '`+m.Logs[0].Key+`' ORDER BY v.record_index`)
	require.Len(t, orig, len(ebIDs))
	for i, id := range ebIDs {
		assert.Equal(t, "cloudtrail_log", eb[i]["kind"])
		assert.Equal(t, "ndjson", eb[i]["format"])
		assert.Equal(t, id, eb[i]["event_id"])
		assert.Equal(t, "AWS API Call via CloudTrail", eb[i]["dt"])
		assert.Equal(t, orig[i]["event_name"], eb[i]["event_name"])
		assert.Equal(t, orig[i]["recipient_account_id"], eb[i]["recipient_account_id"])
	}
	cw := queryJSON(t, db, `SELECT e.kind, e.format, v.event_id, substr(v.raw, 1, 1) AS first FROM ct_events v JOIN evidence e ON e.id = v.evidence_id
		WHERE e.path LIKE '%000000.gz' ORDER BY v.record_index`)
	require.Len(t, cw, len(cwIDs))
	for i, id := range cwIDs {
		assert.Equal(t, []any{"cloudtrail_log", "cloudwatch_export", id, "{"}, []any{cw[i]["kind"], cw[i]["format"], cw[i]["event_id"], cw[i]["first"]}, "raw is the record alone")
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
			Path   string         `json:"path"`
			Status string         `json:"status"`
			Detail map[string]any `json:"detail"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.True(t, rep.Summary.OK)
	assert.Equal(t, len(shapes)+2, rep.Summary.Logs.ByStatus["not_covered"], "the shapes and the two exports")
	assert.Zero(t, rep.Summary.Logs.ByStatus["unreferenced"], "never unreferenced")
	byKey := map[string]string{}
	for _, it := range rep.Items {
		byKey[it.S3Key] = it.Status
		if strings.HasSuffix(it.Path, "eventbridge-cloudtrail.ndjson") {
			byKey["eventbridge"] = it.Status
		}
		if strings.HasSuffix(it.Path, "000000.gz") {
			byKey["cloudwatch"] = it.Status
		}
		if it.Status == "not_covered" {
			assert.Contains(t, it.Detail["reason"], "not covered by any digest by design")
		}
	}
	for _, sh := range shapes {
		assert.Equal(t, "not_covered", byKey[sh.Key], sh.Shape)
	}
	assert.Equal(t, "not_covered", byKey["eventbridge"], "an export of events is covered by no digest")
	assert.Equal(t, "not_covered", byKey["cloudwatch"], "an export of events is covered by no digest")
	assert.Equal(t, "valid", byKey[m.Logs[0].Key], "the log file it came from")
	// Their events are not proven authentic.
	assert.Equal(t, float64(0), queryJSON(t, db, `SELECT count(*) AS n FROM ct_events_status WHERE event_category IN ('Insight', 'NetworkActivity', 'Aggregated') AND verified = 1`)[0]["n"])
	r = forensic(t, "verify", "--case", db, "--public-keys", keys)
	assert.Contains(t, r.stdout, "Result: every item is valid but 5 log files no digest covers by design (not_covered: of CloudTrail-Insight/, -NetworkActivity/ or -Aggregated/, or exports of events): their events are not proven authentic")

	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rd := filepath.Join(dir, "report")
	r = forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rd)
	require.Equal(t, 0, r.code, r.stderr)
	limitations, verdict, _ := readReportJSON(t, rd)
	assert.Contains(t, verdict, "VERIFIED: all")
	assert.Contains(t, limitations, "5 log files no digest covers by design (status not_covered): files of CloudTrail-Insight/, CloudTrail-NetworkActivity/ or CloudTrail-Aggregated/ that no digest lists (CloudTrail does not document that digests cover those folders), or exports of events (one per line, as EventBridge and CloudWatch Logs carry them, or an array), which CloudTrail never delivered as files; their events are not proven authentic.")
}

// TestTrailLayouts: an organization trail whose keys have no organization
// id (trails created before the id was in the path: AWSLogs/<account>/...
// for every member account), a backfill digest, and a region opted in
// later, whose chain starts hours after the others' with no previous
// digest: every digest and log file is valid and the run verifies, with
// no gap reported before the later region's first digest.
func TestTrailLayouts(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "evidence")
	accounts := []string{"111122223333", "444455556666"}
	m1, err := fixtures.Generate(root, fixtures.Options{Seed: 7, Hours: 4, Accounts: accounts, Regions: []string{"us-east-1", "eu-west-1"},
		Backfill: true, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m1, filepath.Join(dir, "keys1")))
	m2, err := fixtures.Generate(root, fixtures.Options{Seed: 8, Start: fixtures.DefaultStart.Add(2 * time.Hour), Hours: 2, Accounts: accounts,
		Regions: []string{"ap-southeast-5"}, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m2, filepath.Join(dir, "keys2")))
	for _, l := range append(m1.Logs, m2.Logs...) {
		require.NotContains(t, l.Key, "/o-", "no organization id in the path")
	}
	db := filepath.Join(dir, "case.db")
	r := forensic(t, "ingest", "--case", db, root)
	require.Equal(t, 0, r.code, r.stderr)
	r = forensic(t, "verify", "--case", db, "--public-keys", filepath.Join(dir, "keys1"), "--public-keys", filepath.Join(dir, "keys2"), "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var rep struct {
		Summary struct {
			OK      bool `json:"ok"`
			Digests struct {
				Total    int            `json:"total"`
				ByStatus map[string]int `json:"by_status"`
			} `json:"digests"`
			Logs struct {
				Total    int            `json:"total"`
				ByStatus map[string]int `json:"by_status"`
			} `json:"logs"`
		} `json:"summary"`
		Findings []struct {
			Type     string         `json:"type"`
			Severity string         `json:"severity"`
			Summary  string         `json:"summary"`
			Detail   map[string]any `json:"detail"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.True(t, rep.Summary.OK)
	assert.Equal(t, len(m1.Digests)+len(m2.Digests), rep.Summary.Digests.Total)
	assert.Equal(t, map[string]int{"valid": rep.Summary.Digests.Total}, rep.Summary.Digests.ByStatus)
	assert.Equal(t, len(m1.Logs)+len(m2.Logs), rep.Summary.Logs.Total)
	assert.Equal(t, map[string]int{"valid": rep.Summary.Logs.Total}, rep.Summary.Logs.ByStatus)
	for _, f := range rep.Findings {
		t.Logf("%s %s %s", f.Severity, f.Type, f.Summary)
		assert.NotEqual(t, "error", f.Severity, f.Summary)
		assert.NotContains(t, []string{"gap", "missing_span", "coverage"}, f.Type, "a chain that starts later is no gap: %s", f.Summary)
	}
}

// TestRecordShapesListed: a file of CloudTrail-Insight/, -NetworkActivity/
// or -Aggregated/ that a digest lists is judged like any log file: valid
// when its bytes are those the signed digest lists, hash_mismatch when one
// byte changed, never not_covered; an unlisted one beside them stays
// not_covered.
func TestRecordShapesListed(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 6, Hours: 3, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	listed, err := fixtures.WriteShapes(m.Root, fixtures.DefaultAccount, fixtures.DefaultRegion, fixtures.DefaultStart.Add(2*time.Hour))
	require.NoError(t, err)
	unlisted, err := fixtures.WriteShapes(m.Root, fixtures.DefaultAccount, fixtures.DefaultRegion, fixtures.DefaultStart.Add(90*time.Minute))
	require.NoError(t, err)
	last := &m.Digests[len(m.Digests)-1]
	require.True(t, last.Final)
	require.NoError(t, fixtures.ListInDigest(last, fixtures.DefaultTrailBucket, listed))
	// One byte of the listed aggregated file changes after delivery.
	agg := listed[2]
	require.Equal(t, fixtures.ShapeAggregated, agg.Shape)
	body := gunzipTest(t, agg.Path)
	i := strings.Index(string(body), "PutObject")
	require.Positive(t, i)
	body[i] = 'p'
	writeGzipTest(t, agg.Path, body)

	db := filepath.Join(dir, "case.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code)
	r := forensic(t, "verify", "--case", db, "--public-keys", keys, "--json")
	assert.Equal(t, 1, r.code, "a changed file is a problem")
	var rep struct {
		Items []struct {
			S3Key  string `json:"s3_key"`
			Status string `json:"status"`
			Checks []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
				Got    string `json:"got"`
			} `json:"checks"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	byKey := map[string]string{}
	for _, it := range rep.Items {
		byKey[it.S3Key] = it.Status
		if it.S3Key == agg.Key {
			for _, c := range it.Checks {
				if c.Name == "digest_coverage" {
					assert.Equal(t, "pass", c.Status)
					assert.Equal(t, "listed by a digest", c.Got)
				}
			}
		}
	}
	assert.Equal(t, "valid", byKey[listed[0].Key], "listed Insights file")
	assert.Equal(t, "valid", byKey[listed[1].Key], "listed network activity file")
	assert.Equal(t, "hash_mismatch", byKey[agg.Key], "listed aggregated file, one byte changed")
	for _, sh := range unlisted {
		assert.Equal(t, "not_covered", byKey[sh.Key], sh.Shape)
	}
	assert.Equal(t, "valid", byKey[last.Key], "the digest signed again with its key")
}

func gunzipTest(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

func writeGzipTest(t *testing.T, path string, body []byte) {
	t.Helper()
	gzipFile(t, path, func(w io.Writer) error { _, err := w.Write(body); return err })
}

// TestRecordShapesByContent: each shape's file saved under a name that
// says nothing (no CloudTrail key) is still recognised by its content and
// indexed with its category; with no folder to say digests do not cover
// it, an unlisted one is unreferenced, as any unnamed log file no digest
// lists.
func TestRecordShapesByContent(t *testing.T) {
	dir := t.TempDir()
	shapes, err := fixtures.WriteShapes(filepath.Join(dir, "tmp"), fixtures.DefaultAccount, fixtures.DefaultRegion, fixtures.DefaultStart)
	require.NoError(t, err)
	loose := filepath.Join(dir, "evidence", "loose")
	require.NoError(t, os.MkdirAll(loose, 0o755))
	for i, sh := range shapes {
		b, err := os.ReadFile(sh.Path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(loose, fmt.Sprintf("download-%d.json.gz", i)), b, 0o644))
	}
	db := filepath.Join(dir, "case.db")
	r := forensic(t, "ingest", "--case", db, filepath.Join(dir, "evidence"))
	require.Equal(t, 0, r.code, r.stderr)
	rows := queryJSON(t, db, `SELECT e.kind, e.format, group_concat(DISTINCT v.event_category) AS cat, count(*) AS n
		FROM evidence e JOIN ct_events v ON v.evidence_id = e.id WHERE e.path LIKE '%download-%' GROUP BY e.id ORDER BY e.path`)
	require.Len(t, rows, len(shapes))
	for i, sh := range shapes {
		assert.Equal(t, []any{"cloudtrail_log", "records", float64(len(sh.Events))}, []any{rows[i]["kind"], rows[i]["format"], rows[i]["n"]}, sh.Shape)
		assert.Equal(t, sh.Events[0][5], rows[i]["cat"], sh.Shape)
	}
	r = forensic(t, "verify", "--case", db, "--no-trust-anchors", "--json")
	assert.Equal(t, 1, r.code, r.stderr)
	var rep struct {
		Items []struct {
			Path   string `json:"path"`
			Status string `json:"status"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	n := 0
	for _, it := range rep.Items {
		if strings.Contains(it.Path, "download-") {
			n++
			assert.Equal(t, "unreferenced", it.Status, it.Path)
		}
	}
	assert.Equal(t, len(shapes), n)
}
