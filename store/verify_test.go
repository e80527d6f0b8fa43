package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveVerificationReplaces(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	// One log file with two records, so the events view has something to join.
	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: Evidence{Source: "/e", Path: "/e/a.json.gz", SHA256: "aa", Kind: KindCloudTrailLog},
		Events: []Event{{RecordIndex: 0, EventID: "e1", Raw: []byte(`{}`)}, {RecordIndex: 1, EventID: "e2", Raw: []byte(`{}`)}}})
	_, err := w.Close()
	require.NoError(t, err)
	var evID int64
	require.NoError(t, c.db.QueryRow("SELECT id FROM evidence").Scan(&evID))

	var verified int
	require.NoError(t, c.db.QueryRow("SELECT count(*) FROM ct_events_status WHERE log_status IS NULL AND verified = 0").Scan(&verified))
	assert.Equal(t, 2, verified, "before any verification: no status")

	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	first := &Verification{
		Items: []ItemStatus{{Kind: "log", S3Bucket: "b", S3Key: "k", EvidenceID: evID, Status: "valid", Detail: json.RawMessage(`{"a":1}`)},
			{Kind: "digest", S3Bucket: "b", S3Key: "d", Status: "missing"}},
		Findings: []Finding{{Type: "gap", Severity: "info", Summary: "s", Chain: "c", StartTime: "t0", EndTime: "t1", Detail: json.RawMessage(`{}`)}},
		Anchors: []AnchorFile{{Path: "/k.json", SHA256: "ff", Size: 3, Keys: []PublicKey{{Fingerprint: "fp", DER: []byte{1}, Encoding: "pkcs1",
			Bits: 2048, ValidityStart: &start, Region: "us-east-1"}}}},
	}
	require.NoError(t, c.SaveVerification(ctx, first))
	got, err := c.ItemStatuses(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.Items, got)
	require.NoError(t, c.db.QueryRow("SELECT count(*) FROM ct_events_status WHERE log_status = 'valid' AND verified = 1").Scan(&verified))
	assert.Equal(t, 2, verified)
	var sev, chain, vstart string
	require.NoError(t, c.db.QueryRow("SELECT severity, chain FROM findings").Scan(&sev, &chain))
	assert.Equal(t, []string{"info", "c"}, []string{sev, chain})
	require.NoError(t, c.db.QueryRow("SELECT validity_start FROM trust_anchors").Scan(&vstart))
	assert.Equal(t, "2024-01-01T00:00:00Z", vstart)

	// A second run replaces every row of the first.
	second := &Verification{Items: []ItemStatus{{Kind: "log", S3Key: "k", EvidenceID: evID, Status: "hash_mismatch", Detail: json.RawMessage(`{}`)}}}
	require.NoError(t, c.SaveVerification(ctx, second))
	got, err = c.ItemStatuses(ctx)
	require.NoError(t, err)
	assert.Equal(t, second.Items, got)
	var findings, files, anchors int
	require.NoError(t, c.db.QueryRow("SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM trust_anchor_files), (SELECT count(*) FROM trust_anchors)").Scan(&findings, &files, &anchors))
	assert.Equal(t, []int{0, 0, 0}, []int{findings, files, anchors})
	require.NoError(t, c.db.QueryRow("SELECT count(*) FROM ct_events_status WHERE log_status = 'hash_mismatch' AND verified = 0").Scan(&verified))
	assert.Equal(t, 2, verified)
}

// TestSaveVerificationOneVerdictPerItem: a verification that leaves a
// log file without a status, or gives it two, is refused whole, and the
// previous one stays.
func TestSaveVerificationOneVerdictPerItem(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: Evidence{Source: "/e", Path: "/e/a.json.gz", SHA256: "aa", Kind: KindCloudTrailLog}})
	w.Add(&Item{Evidence: Evidence{Source: "/e", Path: "/e/b.json.gz", SHA256: "bb", Kind: KindCloudTrailLog}})
	_, err := w.Close()
	require.NoError(t, err)
	ok := &Verification{Items: []ItemStatus{{Kind: "log", EvidenceID: 1, Status: "valid"}, {Kind: "log", EvidenceID: 2, Status: "valid"}}}
	require.NoError(t, c.SaveVerification(ctx, ok))
	for name, v := range map[string]*Verification{
		"one missing": {Items: []ItemStatus{{Kind: "log", EvidenceID: 1, Status: "hash_mismatch"}}},
		"one twice": {Items: []ItemStatus{{Kind: "log", EvidenceID: 1, Status: "valid"}, {Kind: "log", EvidenceID: 2, Status: "valid"},
			{Kind: "log", EvidenceID: 2, Status: "hash_mismatch"}}},
	} {
		err := c.SaveVerification(ctx, v)
		assert.ErrorContains(t, err, "not recorded", name)
		got, err := c.ItemStatuses(ctx)
		require.NoError(t, err)
		assert.Equal(t, ok.Items, got, name)
	}
	u, err := c.CheckVerified(ctx, 5)
	require.NoError(t, err)
	assert.False(t, u.Any())
	w = c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: Evidence{Source: "/e", Path: "/e/c.json.gz", SHA256: "cc", Kind: KindCloudTrailLog}})
	_, err = w.Close()
	require.NoError(t, err)
	u, err = c.CheckVerified(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, 1, u.AddedAfter)
	assert.Equal(t, 1, u.NoStatus)
	assert.Equal(t, []string{"/e/c.json.gz"}, u.NoStatusOf)
}
