package report

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
	"github.com/stretchr/testify/require"
)

// recordIngest appends the custody entry forensic ingest appends (claiming
// the items the run added), so the case is as the command leaves it.
func recordIngest(t *testing.T, c *store.Case, added int) {
	t.Helper()
	_, _, err := c.AppendIngestCustody(context.Background(), store.CustodyEntry{Time: "2024-03-10T10:00:00Z",
		Operator: "analyst", Host: "lab-host", Tool: "forensic test", Command: "ingest", Args: []string{"ingest", "evidence"},
		Inputs: json.RawMessage(`{"sources":[]}`)}, added, func(cl store.IngestClaim) (json.RawMessage, error) {
		return json.Marshal(map[string]any{"added": cl.Added, "claimed": cl.Claimed, "recovered": cl.Recovered,
			"claimed_events_sha256": cl.EventsSHA256})
	})
	require.NoError(t, err)
}

// recordVerify appends the custody entry forensic verify appends for rep.
func recordVerify(t *testing.T, c *store.Case, rep *verify.Report) {
	t.Helper()
	s := rep.Summary
	out, err := json.Marshal(map[string]any{"ok": s.OK, "digests": s.Digests, "logs": s.Logs, "objects": s.Objects,
		"findings": s.Findings, "rehashed": s.Rehashed})
	require.NoError(t, err)
	_, err = c.AppendCustody(context.Background(), store.CustodyEntry{Time: "2024-03-10T10:30:00Z", Operator: "analyst",
		Host: "lab-host", Tool: "forensic test", Command: "verify", Args: []string{"verify"}, Inputs: json.RawMessage(`{}`), Outputs: out})
	require.NoError(t, err)
}

// rechainCustody re-appends every custody entry after the test changed
// their text in the case, so that the chain and its anchor hold again.
func rechainCustody(t *testing.T, c *store.Case) {
	t.Helper()
	ctx := context.Background()
	entries, err := c.Custody(ctx)
	require.NoError(t, err)
	_, err = caseDB(t, c).Exec("DELETE FROM custody")
	require.NoError(t, err)
	_, err = caseDB(t, c).Exec(`UPDATE case_info SET value = CASE key WHEN 'custody_count' THEN '0'
		ELSE '0000000000000000000000000000000000000000000000000000000000000000' END WHERE key IN ('custody_count', 'custody_head')`)
	require.NoError(t, err)
	for _, e := range entries {
		e.Seq, e.PrevHash, e.Hash = 0, "", ""
		_, err := c.AppendCustody(ctx, e)
		require.NoError(t, err)
	}
}
