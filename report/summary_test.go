package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGroupGaps: gaps that several chains share (the same severity, span
// and explanation) are stated once, naming the chains' accounts and
// regions; another gap, and other findings, stay as they are, in order.
func TestGroupGaps(t *testing.T) {
	s := func(v string) *string { return &v }
	gap := func(acct, region, start, why string) Finding {
		chain := "s3://b/AWSLogs/" + acct + "/CloudTrail-Digest/" + region + " trail t"
		return Finding{Type: "gap", Severity: "info", Chain: s(chain), StartTime: s(start), EndTime: s("2024-03-04T04:00:00Z"),
			Summary: "chain " + chain + " restarts: no digest covers " + start + " to 2024-03-04T04:00:00Z (1h0m0s); " + why}
	}
	other := Finding{Type: "correlation", Severity: "error", Summary: "REST.DELETE.OBJECT of ..."}
	fs := []Finding{other, gap("111122223333", "us-east-1", "2024-03-04T03:00:00Z", "explained by StopLogging"),
		gap("444455556666", "eu-west-1", "2024-03-04T03:00:00Z", "explained by StopLogging"),
		gap("111122223333", "eu-west-1", "2024-03-04T02:00:00Z", "unexplained")}
	got := groupGaps(fs)
	require.Len(t, got, 3)
	assert.Equal(t, other, got[0])
	assert.Equal(t, "2 chains restart (111122223333 us-east-1, 444455556666 eu-west-1): no digest covers 2024-03-04T03:00:00Z to 2024-03-04T04:00:00Z; explained by StopLogging", got[1].Summary)
	assert.Equal(t, fs[3], got[2], "a gap of its own stays as it is")
	assert.Len(t, fs, 4, "the findings given are not changed")
	assert.Contains(t, fs[1].Summary, "chain s3://", "the findings given are not changed")
}

// TestPlainStatus: a status count in plain words, one item named whole,
// several by their first; an unknown status still says its name.
func TestPlainStatus(t *testing.T) {
	s := func(v string) *string { return &v }
	assert.Equal(t, "1 log file was changed after it was delivered: its SHA-256 is not the one its signed digest lists (hash_mismatch): s3://b/k",
		plainStatus(StatusCount{Kind: "log", Status: "hash_mismatch", Items: 1, First: s("s3://b/k")}))
	assert.Equal(t, "4 log files are listed by no digest in the evidence: nothing proves them authentic (unreferenced); the first: s3://b/k",
		plainStatus(StatusCount{Kind: "log", Status: "unreferenced", Items: 4, First: s("s3://b/k")}))
	assert.Equal(t, "1 S3 object does not match the checksum S3 recorded for it (checksum_mismatch)",
		plainStatus(StatusCount{Kind: "object", Status: "checksum_mismatch", Items: 1}))
	assert.Equal(t, "2 lake items have the status odd_new (odd_new)", plainStatus(StatusCount{Kind: "lake", Status: "odd_new", Items: 2}))
	for _, st := range statusOrder {
		_, ok := statusWords[st]
		assert.True(t, ok, "every status the report orders has plain words: %s", st)
	}
}
