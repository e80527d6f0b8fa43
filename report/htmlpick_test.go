package report

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeJunkLogs writes n small CloudTrail log files that no digest lists
// into dir, named so that their keys sort before every real one.
func writeJunkLogs(t *testing.T, dir string, n int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i := 0; i < n; i++ {
		rec := fmt.Sprintf(`{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/junk","accountId":"111122223333"},"eventTime":"2024-03-04T00:30:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","eventID":"00000000-0000-0000-0000-%012d","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}`, i)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write([]byte(rec))
		require.NoError(t, w.Close())
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("000-junk-%04d.json.gz", i)), gz.Bytes(), 0o644))
	}
}

// section is the part of page from the heading start up to the next
// heading of the same level, or the end.
func section(page, start, next string) string {
	i := strings.Index(page, start)
	if i < 0 {
		return ""
	}
	s := page[i+len(start):]
	if j := strings.Index(s, next); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestHTMLRareStatusNotPushedOut: 600 unreferenced junk log files whose
// keys sort first do not push the one hash_mismatch out of report.html:
// it comes first in the table, the unreferenced group is cut with a note
// naming the counts, and the inventory counts both statuses.
// report.json keeps every status, in key order.
func TestHTMLRareStatusNotPushedOut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 3, Hours: 2, FilesPerHour: 2, EventsPerFile: 3})
	require.NoError(t, err)
	ti, err := fixtures.Tamper(m, fixtures.LogHashMismatch)
	require.NoError(t, err)
	const junk = 600
	writeJunkLogs(t, filepath.Join(ev, "junk"), junk)
	c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, verifyCaseIngest(ctx, c, ev))
	var unref, mismatch int
	require.NoError(t, caseDB(t, c).QueryRow(`SELECT count(*) FILTER (WHERE status = 'unreferenced'), count(*) FILTER (WHERE status = 'hash_mismatch'),
		count(*) FILTER (WHERE status NOT IN ('valid', 'unreferenced', 'hash_mismatch')) = 0 FROM item_status`).Scan(&unref, &mismatch, new(bool)))
	require.Equal(t, junk, unref, "every junk file is unreferenced")
	require.Equal(t, 1, mismatch)

	out := buildReport(t, c)
	page, err := os.ReadFile(filepath.Join(out, FileHTML))
	require.NoError(t, err)
	html := string(page)
	var tampered string
	for _, l := range m.Logs {
		if l.Key == ti.LogKeys[0] {
			tampered = l.Path
		}
	}

	items := section(html, "<h3>Items that are not valid</h3>", "<h2>")
	has := func(s, sub, what string) {
		t.Helper()
		assert.True(t, strings.Contains(s, sub), "%s: report.html lacks %q", what, sub)
	}
	has(items, ti.LogKeys[0], "the hash_mismatch row")
	has(items, `<bdi>s3://`+fixtures.DefaultTrailBucket+`/`+ti.LogKeys[0]+`</bdi>`, "the hash_mismatch row")
	rows := regexp.MustCompile(`<tr><td class="sev-error"><bdi>([a-z_]+)</bdi><br><span class="kind"><bdi>log</bdi></span></td>`).FindAllStringSubmatch(items, -1)
	require.NotEmpty(t, rows)
	assert.Equal(t, "hash_mismatch", rows[0][1], "the most serious status comes first")
	assert.Len(t, rows, htmlMaxStatuses, "the table keeps its size")
	// One hash_mismatch row, 499 unreferenced rows, 101 left out.
	want := htmlMaxStatuses - 1
	has(items, fmt.Sprintf(`%d more <bdi>log</bdi> items with status <bdi>unreferenced</bdi> (%d in all), see report.json ("statuses").`, junk-want, junk), "the group's note")
	has(items, fmt.Sprintf(`%d more items that are not valid are listed in report.json ("statuses"): <bdi>%d log unreferenced</bdi>.`, junk-want, junk-want), "the list's note")

	has(items, tampered, "the tampered file's local path")

	// The inventory counts, most serious first; report.json lists each item.
	inv := section(html, "<h2>Evidence inventory</h2>", "<h2>")
	mm := `<tr><td><bdi>cloudtrail_log</bdi></td><td><bdi>hash_mismatch</bdi></td><td>1</td>`
	un := fmt.Sprintf(`<tr><td><bdi>cloudtrail_log</bdi></td><td><bdi>unreferenced</bdi></td><td>%d</td>`, junk)
	has(inv, mm, "the hash_mismatch count")
	has(inv, un, "the unreferenced count")
	assert.Less(t, strings.Index(inv, mm), strings.Index(inv, un), "hash_mismatch before unreferenced")
	assert.NotContains(t, inv, "000-junk-", "the inventory counts, it does not list")

	// report.json: every status, in key order (junk first), untouched.
	rep := readReport(t, out)
	sts := rep["statuses"].([]any)
	assert.Len(t, sts, junk+1)
	assert.Equal(t, "unreferenced", sts[0].(map[string]any)["status"])
	assert.Len(t, rep["evidence"].([]any), int(rep["evidence_summary"].(map[string]any)["items"].(float64)))
}

func TestQuotas(t *testing.T) {
	for _, tt := range []struct {
		sizes  []int64
		budget int64
		want   []int64
	}{
		{[]int64{1, 600}, 500, []int64{1, 499}},
		{[]int64{600, 1}, 500, []int64{499, 1}},
		{[]int64{10, 20}, 500, []int64{10, 20}},
		{[]int64{300, 300, 5}, 500, []int64{247, 248, 5}},
		{[]int64{3, 3, 3}, 2, []int64{1, 1, 1}}, // every group at least once
		{[]int64{0, 7}, 5, []int64{0, 5}},
	} {
		got := quotas(tt.sizes, tt.budget)
		assert.Equal(t, tt.want, got, "quotas(%v, %d)", tt.sizes, tt.budget)
	}
}

// TestPickFindings: 600 info findings do not push out the one error, which
// is listed first; the info group is cut.
func TestPickFindings(t *testing.T) {
	var fs []Finding
	for i := 0; i < 600; i++ {
		fs = append(fs, Finding{Type: "coverage", Severity: "info", Summary: fmt.Sprint(i)})
	}
	fs = append(fs, Finding{Type: "gap", Severity: "warning", Summary: "w"}, Finding{Type: "zzz", Severity: "error", Summary: "e"})
	gs, more := pickFindings(fs)
	require.Len(t, gs, 3)
	assert.Equal(t, []string{"error", "warning", "info"}, []string{gs[0].key.a, gs[1].key.a, gs[2].key.a})
	assert.Equal(t, int64(600-(htmlMaxFindings-2)), more)
	assert.Equal(t, more, gs[2].More())
	assert.Equal(t, "e", gs[0].rows[0].Summary)
}

// TestStatusOrder: every status verify writes has a place in the order.
func TestStatusOrder(t *testing.T) {
	for _, s := range []string{"signature_invalid", "signature_unavailable", "key_unknown", "key_not_valid_at_time", "format_invalid",
		"moved", "missing", "chain_mismatch", "hash_mismatch", "trailing_data", "unreferenced", "unverified",
		"checksum_mismatch", "size_mismatch", "unverifiable", "metadata_missing", "object_missing"} {
		assert.Positive(t, orderRank(statusOrder, s), s)
	}
	assert.Less(t, statusRank("hash_mismatch"), statusRank("missing"))
	assert.Less(t, statusRank("missing"), statusRank("unreferenced"))
	assert.Less(t, statusRank("no such status"), statusRank("hash_mismatch"), "an unknown status cannot be judged: first")
	assert.Less(t, statusRank("unverifiable"), statusRank("valid"))
}
