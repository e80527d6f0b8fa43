package sigma

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/store"
)

// caseWith is a case whose ct_events hold the records, with event_name
// and event_time as ingest indexes them.
func caseWith(t *testing.T, records []string) *store.Case {
	t.Helper()
	p := filepath.Join(t.TempDir(), "case.db")
	c, err := store.Open(context.Background(), p)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	db, err := sql.Open("sqlite", p)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO evidence(id, source, path, kind, ingested_at) VALUES (1, '/e', '/e/x', 'cloudtrail_log', '2024')`)
	require.NoError(t, err)
	for i, raw := range records {
		var m struct {
			EventName *string `json:"eventName"`
			EventTime *string `json:"eventTime"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &m), raw)
		_, err := db.Exec("INSERT INTO ct_events(evidence_id, record_index, event_name, event_time, verifiable, raw) VALUES (1, ?, ?, ?, 1, ?)",
			i, m.EventName, m.EventTime, raw)
		require.NoError(t, err)
	}
	return c
}

func hits(t *testing.T, c *store.Case, r *Rule) int64 {
	t.Helper()
	q, err := Compile(r)
	require.NoError(t, err)
	res, err := c.Detect(context.Background(), []store.DetectRule{q.DetectRule(r, false)})
	require.NoError(t, err)
	n := int64(0)
	for _, v := range res[0].Hits {
		n += v
	}
	return n
}

// TestBuiltinRules: every built-in rule is supported, has a stable id, a
// level, an ATT&CK technique and its own test events, matches its
// positive events and none of its negative ones.
func TestBuiltinRules(t *testing.T) {
	set, err := Builtin()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(set.Rules), 40)
	ids := map[string]string{}
	for _, r := range set.Rules {
		t.Run(r.Source, func(t *testing.T) {
			require.Empty(t, r.Unsupported)
			require.Len(t, r.ID, 36, "a UUID")
			if prev, ok := ids[r.ID]; ok {
				t.Fatalf("id %s also in %s", r.ID, prev)
			}
			ids[r.ID] = r.Source
			assert.Contains(t, []string{"low", "medium", "high", "critical"}, r.Level)
			require.NotEmpty(t, r.Techniques(), "an ATT&CK technique")
			require.NotEmpty(t, r.TestsMatch, "positive events")
			require.NotEmpty(t, r.TestsNoMatch, "negative events")
			assert.Positive(t, hits(t, caseWith(t, r.TestsMatch), r), "its positive events")
			assert.Zero(t, hits(t, caseWith(t, r.TestsNoMatch), r), "its negative events")
		})
	}
}
