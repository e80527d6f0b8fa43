package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReportReads: the reads of the report give each column, NULL as nil
// (a status of an item not in the evidence has no path; an item without
// status has none), and nothing for a case not yet verified.
func TestReportReads(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()

	statuses, err := c.StatusCounts(ctx)
	require.NoError(t, err)
	assert.Empty(t, statuses)
	findings, err := c.FindingRecords(ctx)
	require.NoError(t, err)
	assert.Empty(t, findings)

	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: Evidence{Source: "/e", Path: "/e/a.json.gz", SHA256: "aa", Size: 10, Kind: KindCloudTrailLog,
		S3Key: "AWSLogs/a.json.gz"}, Events: []Event{{RecordIndex: 0, EventID: "e1", Raw: []byte(`{}`)}}})
	w.Add(&Item{Evidence: Evidence{Source: "/e", Path: "/e/notes.txt", SHA256: "bb", Size: 3, Kind: KindUnknown}})
	_, err = w.Close()
	require.NoError(t, err)
	events := map[string]int64{}
	require.NoError(t, c.EachEvidenceEvents(ctx, func(e EvidenceEvents) error {
		events[e.SHA256] = e.EventCount
		return nil
	}))
	assert.Equal(t, map[string]int64{"aa": 1, "bb": 0}, events)
	var logID int64
	require.NoError(t, c.EachEvidenceRecord(ctx, func(e EvidenceRecord) error {
		if e.SHA256 == "aa" {
			logID = e.ID
		}
		return nil
	}))
	require.NotZero(t, logID)

	require.NoError(t, c.SaveVerification(ctx, &Verification{
		Items: []ItemStatus{
			{Kind: "log", S3Bucket: "b", S3Key: "AWSLogs/a.json.gz", EvidenceID: logID, Status: "hash_mismatch",
				Detail: json.RawMessage(`{"reason":"r"}`), Checks: json.RawMessage(`[]`)},
			{Kind: "digest", S3Bucket: "b", S3Key: "d", Status: "missing", Detail: json.RawMessage(`{}`)},
		},
		Findings: []Finding{{Type: "gap", Severity: "info", Summary: "s", Chain: "c", StartTime: "t0", EndTime: "t1", Detail: json.RawMessage(`{}`)},
			{Type: "coverage", Severity: "warning", Summary: "w"}},
		Anchors: []AnchorFile{{Path: "/k.json", SHA256: "ff", Size: 3, Keys: []PublicKey{{Fingerprint: "fp", DER: []byte{1}, Encoding: "pkcs1",
			Bits: 2048, Region: "us-east-1"}}}},
	}))

	var items []EvidenceRecord
	require.NoError(t, c.EachEvidenceRecord(ctx, func(e EvidenceRecord) error { items = append(items, e); return nil }))
	require.Len(t, items, 2)
	assert.Equal(t, "/e/a.json.gz", items[0].Path)
	require.NotNil(t, items[0].Status)
	assert.Equal(t, "hash_mismatch", *items[0].Status)
	assert.Equal(t, "log", *items[0].StatusKind)
	assert.Nil(t, items[1].Status, "no status")
	assert.Nil(t, items[1].Error)
	require.NotNil(t, items[1].Size)
	assert.Equal(t, int64(3), *items[1].Size)

	var recs []StatusRecord
	require.NoError(t, c.EachStatusRecord(ctx, "", func(s StatusRecord) error { recs = append(recs, s); return nil }))
	require.Len(t, recs, 2)
	assert.Equal(t, "digest", recs[0].Kind, "ordered by kind")
	assert.Nil(t, recs[0].EvidenceID)
	assert.Nil(t, recs[0].EvidencePath)
	assert.Nil(t, recs[0].Checks)
	assert.Equal(t, "/e/a.json.gz", *recs[1].EvidencePath)
	assert.Equal(t, `{"reason":"r"}`, *recs[1].Detail)
	recs = nil
	require.NoError(t, c.EachStatusRecord(ctx, "log", func(s StatusRecord) error { recs = append(recs, s); return nil }))
	require.Len(t, recs, 1)

	statuses, err = c.StatusCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]map[string]int64{"digest": {"missing": 1}, "log": {"hash_mismatch": 1}}, statuses)
	findings, err = c.FindingRecords(ctx, "gap")
	require.NoError(t, err)
	require.Len(t, findings, 1)
	assert.Equal(t, "c", *findings[0].Chain)
	types, err := c.FindingTypeCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"gap": 1, "coverage": 1}, types)

	files, keys, err := c.TrustAnchors(ctx)
	require.NoError(t, err)
	assert.Equal(t, []TrustAnchorFile{{Path: "/k.json", SHA256: "ff", Size: 3, Keys: 1}}, files)
	require.Len(t, keys, 1)
	assert.Equal(t, TrustAnchorKey{File: "/k.json", FileSHA256: "ff", Fingerprint: "fp", DER: []byte{1}, Encoding: "pkcs1",
		Bits: 2048, Region: "us-east-1"}, keys[0])

	inv, err := c.InventoryCounts(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []InventoryCount{{Kind: KindCloudTrailLog, Status: items[0].Status, Items: 1},
		{Kind: KindUnknown, Items: 1}}, inv)
	kinds, err := c.EvidenceKindCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, []EvidenceKindCount{{Kind: KindCloudTrailLog, Items: 1, Bytes: 10}, {Kind: KindUnknown, Items: 1, Bytes: 3}}, kinds)
}
