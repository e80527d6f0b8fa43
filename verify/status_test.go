package verify

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
)

func logsOf(m *fixtures.Manifest, digestKey string) []string {
	for _, d := range m.Digests {
		if d.Key == digestKey {
			return d.Logs
		}
	}
	return nil
}

// predecessorOf returns the key of the digest before digestKey in its chain.
func predecessorOf(t *testing.T, m *fixtures.Manifest, digestKey string) string {
	for _, d := range m.Digests {
		if d.Key == digestKey {
			for _, p := range m.Digests {
				if p.Chain == d.Chain && p.Index == d.Index-1 {
					return p.Key
				}
			}
		}
	}
	t.Fatalf("no predecessor of %s", digestKey)
	return ""
}

func TestUntamperedSetIsValid(t *testing.T) {
	c, m := set(t, small())
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Empty(t, notValid(rep))
	assert.Empty(t, rep.Findings)
	assert.False(t, rep.Failed())
	assert.Equal(t, Counts{Total: 6, Valid: 6, ByStatus: map[string]int{"valid": 6}}, rep.Summary.Digests)
	assert.Equal(t, Counts{Total: 18, Valid: 18, ByStatus: map[string]int{"valid": 18}}, rep.Summary.Logs)
	require.Len(t, rep.Summary.Chains, 1)
	assert.Equal(t, ChainSummary{Account: "111122223333", Region: "us-east-1", Trail: "management-trail",
		DigestsValid: 6, DigestsTotal: 6, LogsValid: 18, LogsTotal: 18,
		Start: "2024-03-04T00:00:00Z", End: "2024-03-04T06:00:00Z", Gaps: []string{}}, rep.Summary.Chains[0])
	for _, it := range rep.Items {
		assert.NotEmpty(t, it.Path, it.S3Key)
		assert.Equal(t, fixtures.DefaultTrailBucket, it.S3Bucket, it.S3Key)
	}
	// Recorded in the case: one row per item, events all verified.
	st, err := c.ItemStatuses(context.Background())
	require.NoError(t, err)
	assert.Len(t, st, len(rep.Items))
	var events, verified int
	require.NoError(t, casetest.DB(t, c).QueryRow("SELECT count(*), sum(verified) FROM ct_events_status").Scan(&events, &verified))
	assert.Equal(t, m.Events, events)
	assert.Equal(t, m.Events, verified)
	var files, keys int
	require.NoError(t, casetest.DB(t, c).QueryRow("SELECT (SELECT count(*) FROM trust_anchor_files), (SELECT count(*) FROM trust_anchors)").Scan(&files, &keys))
	assert.Equal(t, 1, files)
	assert.Equal(t, 1, keys)
}

// TestStatuses tampers the small set in exactly one way per case and
// checks the exact status of every item that is not valid.
func TestStatuses(t *testing.T) {
	tests := []struct {
		tamper fixtures.Tampering
		want   func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string
		// finding is a finding type the tampering must produce.
		finding string
	}{
		{fixtures.DigestSignatureInvalid, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			// The successor's copy of the signature verifies, but a digest
			// whose own saved signature does not vouches for nothing.
			w := map[string]string{"digest " + ti.DigestKeys[0]: StatusSignatureInvalid}
			for _, l := range logsOf(m, ti.DigestKeys[0]) {
				w["log "+l] = StatusUnverified
			}
			return w
		}, FindingConflict},
		{fixtures.DigestSignatureUnavailable, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{"digest " + ti.DigestKeys[0]: StatusSignatureUnavailable}
			for _, l := range logsOf(m, ti.DigestKeys[0]) {
				w["log "+l] = StatusUnverified
			}
			return w
		}, ""},
		{fixtures.DigestKeyUnknown, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{"digest " + ti.DigestKeys[0]: StatusKeyUnknown}
			for _, l := range logsOf(m, ti.DigestKeys[0]) {
				w["log "+l] = StatusUnverified
			}
			return w
		}, ""},
		{fixtures.DigestKeyNotValidAtTime, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{}
			for _, k := range ti.DigestKeys {
				w["digest "+k] = StatusKeyNotValidAtTime
				for _, l := range logsOf(m, k) {
					w["log "+l] = StatusUnverified
				}
			}
			return w
		}, ""},
		{fixtures.DigestFormatInvalid, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{"digest " + ti.DigestKeys[0]: StatusFormatInvalid}
			for _, l := range logsOf(m, ti.DigestKeys[0]) {
				w["log "+l] = StatusUnreferenced
			}
			return w
		}, ""},
		{fixtures.DigestMoved, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			return map[string]string{"digest " + ti.DigestKeys[0]: StatusMoved}
		}, ""},
		{fixtures.DigestMissing, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{"digest " + ti.DigestKeys[0]: StatusMissing}
			for _, l := range logsOf(m, ti.DigestKeys[0]) {
				w["log "+l] = StatusUnreferenced
			}
			return w
		}, ""},
		{fixtures.DigestChainMismatch, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			// The successor (the tampered digest) says the predecessor's
			// content had another hash: the predecessor does not match.
			return map[string]string{"digest " + predecessorOf(t, m, ti.DigestKeys[0]): StatusChainMismatch}
		}, ""},
		{fixtures.DigestTailDeleted, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{}
			for _, k := range ti.DigestKeys {
				for _, l := range logsOf(m, k) {
					w["log "+l] = StatusUnreferenced
				}
			}
			return w
		}, FindingCoverage},
		{fixtures.LogHashMismatch, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			return map[string]string{"log " + ti.LogKeys[0]: StatusHashMismatch}
		}, ""},
		{fixtures.LogMissing, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			return map[string]string{"log " + ti.LogKeys[0]: StatusMissing}
		}, ""},
		{fixtures.LogFormatInvalid, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			return map[string]string{"log " + ti.LogKeys[0]: StatusFormatInvalid}
		}, ""},
		{fixtures.LogTrailingData, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			return map[string]string{"log " + ti.LogKeys[0]: StatusTrailingData}
		}, ""},
		{fixtures.LogUnreferenced, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			return map[string]string{"log " + ti.LogKeys[0]: StatusUnreferenced}
		}, ""},
		{fixtures.LogUnverified, func(t *testing.T, m *fixtures.Manifest, ti fixtures.TamperInfo) map[string]string {
			w := map[string]string{"digest " + ti.DigestKeys[0]: StatusSignatureInvalid}
			for _, l := range ti.LogKeys {
				w["log "+l] = StatusUnverified
			}
			return w
		}, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.tamper), func(t *testing.T) {
			t.Parallel()
			c, m := set(t, small(), tt.tamper)
			ti := m.Tampered[0]
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			want := tt.want(t, m, ti)
			assert.Equal(t, want, notValid(rep), "statuses other than valid")
			assert.True(t, rep.Failed())
			types := map[string]int{}
			for _, f := range rep.Findings {
				types[f.Type]++
			}
			if tt.finding != "" {
				assert.Equal(t, 1, types[tt.finding], "findings: %v", rep.Findings)
			}
			for typ := range types {
				assert.Equal(t, tt.finding, typ, "unexpected finding: %v", rep.Findings)
			}
			for _, it := range rep.Items {
				if it.Status != StatusValid {
					assert.NotEmpty(t, det(it.Detail)["reason"], "%s %s: detail has no reason", it.Kind, it.S3Key)
				}
			}
		})
	}
}

// TestEventsCarryLogStatus: ct_events_status marks the records of a log
// file whose hash does not match as not verified, every other as verified.
func TestEventsCarryLogStatus(t *testing.T) {
	c, m := set(t, small(), fixtures.LogHashMismatch)
	runVerify(t, c, Options{Anchors: anchors(t, m)})
	var bad int
	for _, l := range m.Logs {
		if l.Key == m.Tampered[0].LogKeys[0] {
			bad = l.Records
		}
	}
	require.NotZero(t, bad)
	rows, err := casetest.DB(t, c).Query("SELECT coalesce(log_status, ''), verified, count(*) FROM ct_events_status GROUP BY 1, 2 ORDER BY 1")
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var s string
		var v, n int
		require.NoError(t, rows.Scan(&s, &v, &n))
		got[fmt.Sprintf("%s/%d", s, v)] = n
	}
	assert.Equal(t, map[string]int{"hash_mismatch/0": bad, "valid/1": m.Events - bad}, got)
}
