package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

func TestTimeline(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Demo(filepath.Join(dir, "ev"))
	require.NoError(t, err)
	db := filepath.Join(dir, "case.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code)
	r := forensic(t, "verify", "--case", db, "--public-keys", filepath.Join(m.Root, "keys"))
	require.Equal(t, 1, r.code, "the demo set is tampered: %s", r.stderr)

	// JSON lines: time order, both sources, provenance on every row.
	r = forensic(t, "timeline", "--case", db, "--from", "2024-03-03T00:00Z", "--to", "2024-03-05T00:00Z", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var rows []timelineRow
	for _, l := range lines {
		var row timelineRow
		require.NoError(t, json.Unmarshal([]byte(l), &row), l)
		rows = append(rows, row)
	}
	assert.True(t, sort.SliceIsSorted(rows, func(i, j int) bool { return rows[i].Datetime < rows[j].Datetime }))
	sources := map[string]int{}
	for _, row := range rows {
		sources[row.Source]++
		assert.NotEmpty(t, row.EvidencePath)
		assert.Len(t, row.EvidenceSHA, 64)
		assert.NotEmpty(t, row.Verification)
		assert.NotZero(t, row.Timestamp)
	}
	q := forensic(t, "query", "--case", db, "--csv", "SELECT (SELECT count(*) FROM ct_events), (SELECT count(*) FROM s3_access)")
	assert.Equal(t, fmt.Sprintf("%d,%d", sources["cloudtrail"], sources["s3_access"]), strings.Split(strings.TrimSpace(q.stdout), "\n")[1])
	assert.Positive(t, sources["s3_access"])

	// --verified-only: only events of valid logs, no access-log rows.
	r = forensic(t, "timeline", "--case", db, "--from", "2024-03-03", "--to", "2024-03-05", "--verified-only", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	verified := strings.Split(strings.TrimSpace(r.stdout), "\n")
	assert.Less(t, len(verified), sources["cloudtrail"])
	for _, l := range verified {
		var row timelineRow
		require.NoError(t, json.Unmarshal([]byte(l), &row))
		assert.True(t, row.Verified)
		assert.Equal(t, "cloudtrail", row.Source)
	}

	// Filters: the StopLogging principal; CSV with Timesketch's columns first.
	stop := m.Special[0]
	r = forensic(t, "timeline", "--case", db, "--from", "2024-03-04", "--to", "2024-03-05", "--principal", stop.Principal, "--csv")
	require.Equal(t, 0, r.code, r.stderr)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"message", "datetime", "timestamp_desc"}, recs[0][:3])
	var names []string
	for _, rec := range recs[1:] {
		assert.Equal(t, stop.Principal, rec[7])
		names = append(names, rec[5])
	}
	assert.Contains(t, names, "StopLogging")
	assert.Contains(t, names, "StartLogging")

	// Usage errors.
	assert.Equal(t, 2, forensic(t, "timeline", "--case", db, "--from", "2024-03-05", "--to", "2024-03-04").code)
	assert.Equal(t, 2, forensic(t, "timeline", "--case", db, "--from", "yesterday", "--to", "2024-03-04").code)
}

// TestTimelineFilters: without --from and --to the timeline spans the
// case; a whole ARN matches exactly, a part of one (or of a user name)
// matches every principal holding it; --event-name, --account and
// --region keep those CloudTrail events; --verified-only on a case never
// verified says why it is empty.
func TestTimelineFilters(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "ev"), fixtures.Options{Seed: 6, Hours: 3, FilesPerHour: 2, EventsPerFile: 4,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"}, AccessLogs: true})
	require.NoError(t, err)
	db := filepath.Join(dir, "c.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code)
	lines := func(args ...string) []timelineRow {
		t.Helper()
		r := forensic(t, append([]string{"timeline", "--case", db, "--json"}, args...)...)
		require.Equal(t, 0, r.code, r.stderr)
		var out []timelineRow
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if l == "" {
				continue
			}
			var row timelineRow
			require.NoError(t, json.Unmarshal([]byte(l), &row))
			out = append(out, row)
		}
		return out
	}
	n := func(q string) int {
		rows := queryJSON(t, db, q)
		return int(rows[0]["n"].(float64))
	}
	all := lines()
	assert.Len(t, all, n("SELECT (SELECT count(*) FROM ct_events) + (SELECT count(*) FROM s3_access_lines) AS n"), "the whole case")

	arn := queryJSON(t, db, "SELECT principal FROM ct_events WHERE principal LIKE 'arn:%' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0]["principal"].(string)
	exact := lines("--principal", arn)
	assert.Len(t, exact, n(fmt.Sprintf("SELECT count(*) AS n FROM ct_events WHERE principal = '%s'", arn)))
	part := arn[strings.LastIndex(arn, "/")+1:]
	some := lines("--principal", strings.ToUpper(part))
	assert.GreaterOrEqual(t, len(some), len(exact))
	for _, r := range some {
		assert.Contains(t, strings.ToLower(r.Principal), strings.ToLower(part))
	}

	for _, f := range []struct{ flag, col, val string }{
		{"--event-name", "event_name", "ConsoleLogin"}, {"--region", "aws_region", "eu-west-1"}, {"--account", "recipient_account_id", "444455556666"},
	} {
		got := lines(f.flag, f.val)
		assert.Len(t, got, n(fmt.Sprintf("SELECT count(*) AS n FROM ct_events WHERE %s = '%s'", f.col, f.val)), f.flag)
		assert.NotEmpty(t, got, f.flag)
		for _, r := range got {
			assert.Equal(t, "cloudtrail", r.Source, "%s keeps CloudTrail events", f.flag)
		}
	}
	r := forensic(t, "timeline", "--case", db, "--verified-only")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stderr, "no event is verified")
}
