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
