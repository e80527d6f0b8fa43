package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addItems writes n items as an ingest does, without a custody entry.
func addItems(t *testing.T, c *Case, prefix string, n int) int {
	t.Helper()
	w := c.NewWriter(WriterOptions{})
	for i := 0; i < n; i++ {
		w.Add(&Item{Evidence: Evidence{Path: fmt.Sprintf("/e/%s-%d.json", prefix, i), SHA256: strings.Repeat("b", 64),
			Kind: KindCloudTrailLog}, Events: awkwardEvents()[:1+i%3]})
	}
	st, err := w.Close()
	require.NoError(t, err)
	return st.Items
}

// claim appends the custody entry of an ingest that added `added` items,
// as forensic ingest does.
func claim(t *testing.T, c *Case, added int) IngestClaim {
	t.Helper()
	_, cl, err := c.AppendIngestCustody(context.Background(), CustodyEntry{Operator: "a", Host: "h", Tool: "t", Command: "ingest"},
		added, func(cl IngestClaim) (json.RawMessage, error) {
			return json.Marshal(map[string]any{"added": cl.Added, "claimed": cl.Claimed, "recovered": cl.Recovered,
				"claimed_events_sha256": cl.EventsSHA256})
		})
	require.NoError(t, err)
	return cl
}

func appendEntry(t *testing.T, c *Case, command string) {
	t.Helper()
	_, err := c.AppendCustody(context.Background(), CustodyEntry{Operator: "a", Host: "h", Tool: "t", Command: command})
	require.NoError(t, err)
}

func checkCustody(t *testing.T, c *Case) *CustodyCheck {
	t.Helper()
	r, err := c.CheckCustody(context.Background())
	require.NoError(t, err)
	return r
}

// anchoredCase has two ingests (the second adding nothing) and a verify.
func anchoredCase(t *testing.T) *Case {
	c := openTemp(t)
	claim(t, c, addItems(t, c, "a", 3))
	claim(t, c, 0)
	appendEntry(t, c, "verify")
	return c
}

// TestCustodyAnchor: a removed last entry, an emptied log, an edited
// anchor, and items moved, removed or re-hashed behind the custody log's
// back are all problems, and the log refuses appends that would hide the
// truncation; an untouched case has none.
func TestCustodyAnchor(t *testing.T) {
	c := anchoredCase(t)
	r := checkCustody(t, c)
	assert.Empty(t, r.Problems)
	assert.Empty(t, r.Notes)
	assert.True(t, r.Anchored)
	assert.Equal(t, int64(3), r.Anchor.Count)
	assert.Equal(t, r.Entries[2].Hash, r.Anchor.Head)

	for _, tc := range []struct {
		name, sql string
		want      []string
		refused   bool // AppendCustody refuses to add to the log
	}{
		{"last entry removed", "DELETE FROM custody WHERE seq = 3", []string{"the last 1 entries were removed"}, true},
		{"last two entries removed", "DELETE FROM custody WHERE seq >= 2", []string{"the last 2 entries were removed"}, true},
		{"all entries removed", "DELETE FROM custody",
			[]string{"the last 3 entries were removed", "name custody entry 1, which is not in the log"}, true},
		{"anchor count edited", "UPDATE case_info SET value = '2' WHERE key = 'custody_count'", []string{"added without moving the anchor"}, true},
		{"anchor head edited", "UPDATE case_info SET value = 'ab' WHERE key = 'custody_head'", []string{`the case's anchor says "ab"`}, true},
		{"anchor removed", "DELETE FROM case_info WHERE key LIKE 'custody_%'", []string{"holds no custody anchor"}, true},
		{"anchor not a number", "UPDATE case_info SET value = 'three' WHERE key = 'custody_count'", []string{`custody_count is "three"`}, true},
		{"last entry removed, anchor moved back", `DELETE FROM custody WHERE seq >= 2;
			UPDATE case_info SET value = '1' WHERE key = 'custody_count';
			UPDATE case_info SET value = (SELECT hash FROM custody WHERE seq = 1) WHERE key = 'custody_head'`, nil, false},
		{"item removed", "DELETE FROM ct_events WHERE evidence_id = 2; DELETE FROM evidence WHERE id = 2",
			[]string{"ingest entry 1 claimed 3 evidence items; 2 name it"}, false},
		{"item moved to the verify entry", "UPDATE evidence SET custody_seq = 3 WHERE id = 2",
			[]string{"which is a \"verify\" entry", "claimed 3 evidence items; 2 name it"}, false},
		{"item unclaimed", "UPDATE evidence SET custody_seq = NULL WHERE id = 2",
			[]string{"1 evidence items are named by no custody entry", "2 name it"}, false},
		{"item marked as older than the anchor", "UPDATE evidence SET custody_seq = 0 WHERE id = 2",
			[]string{"marked as recorded before the custody anchor", "2 name it"}, false},
		{"per-file event hash rewritten", "UPDATE evidence SET events_sha256 = '" + strings.Repeat("0", 64) + "' WHERE id = 2",
			[]string{"recorded claimed_events_sha256"}, false},
		{"claim rewritten", "UPDATE custody SET outputs = replace(outputs, '\"claimed\":3', '\"claimed\":2') WHERE seq = 1",
			[]string{"entry altered"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := anchoredCase(t)
			_, err := c.db.Exec("PRAGMA foreign_keys = OFF; " + tc.sql)
			require.NoError(t, err)
			r := checkCustody(t, c)
			if tc.want == nil {
				// What a deliberate rewrite of the log and its anchor
				// leaves: entry 2 claimed nothing and nothing names it. Only
				// a copy of the head held outside the case (a report) shows
				// it.
				assert.Empty(t, r.Problems)
				return
			}
			all := strings.Join(r.Problems, "\n")
			for _, w := range tc.want {
				assert.Contains(t, all, w)
			}
			_, err = c.AppendCustody(context.Background(), CustodyEntry{Command: "verify"})
			if tc.refused {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "refusing to add to it")
				assert.Equal(t, r.Problems, checkCustody(t, c).Problems, "the refused append changed nothing")
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// TestIngestClaimRecoversUnclaimedItems: items an ingest recorded without
// ever writing its custody entry are a problem until the next ingest's
// entry claims them, and says so.
func TestIngestClaimRecoversUnclaimedItems(t *testing.T) {
	c := openTemp(t)
	claim(t, c, addItems(t, c, "first", 2))
	lost := addItems(t, c, "killed", 3) // the run died before its entry
	r := checkCustody(t, c)
	require.Len(t, r.Problems, 1)
	assert.Contains(t, r.Problems[0], "3 evidence items are named by no custody entry")

	cl := claim(t, c, addItems(t, c, "resumed", 1))
	assert.Equal(t, IngestClaim{Added: 1, Claimed: 4, Recovered: lost, EventsSHA256: cl.EventsSHA256}, cl)
	assert.Empty(t, checkCustody(t, c).Problems)
	var n int
	require.NoError(t, c.db.QueryRow("SELECT count(*) FROM evidence WHERE custody_seq = 2").Scan(&n))
	assert.Equal(t, 4, n)
	// The claim hash is the documented query's.
	got, err := claimedEventsHash(context.Background(), c.db, 2)
	require.NoError(t, err)
	assert.Equal(t, cl.EventsSHA256, got)
	assert.Len(t, got, 64)
}

// oldCase makes a case as a forensic before the custody anchor left it
// (schema version 3): two items, an ingest and a verify entry.
func oldCase(t *testing.T) string {
	t.Helper()
	c := openTemp(t)
	_, err := c.db.Exec(`DROP VIEW evidence_claimed_events;
		DROP TABLE ct_index_widenings;
		ALTER TABLE evidence DROP COLUMN events_filter;
		ALTER TABLE evidence DROP COLUMN records_seen;
		ALTER TABLE evidence DROP COLUMN records_indexed;
		DELETE FROM schema_migrations WHERE name = 'migrations/006_events_index.sql';
		DROP INDEX evidence_unclaimed;
		ALTER TABLE evidence DROP COLUMN custody_seq;
		ALTER TABLE evidence DROP COLUMN event_count;
		ALTER TABLE evidence DROP COLUMN events_sha256;
		DELETE FROM case_info WHERE key LIKE 'custody_%';
		DELETE FROM schema_migrations WHERE name = 'migrations/005_custody.sql';
		INSERT INTO evidence(source, path, kind, ingested_at) VALUES ('/e', '/e/a', 'unknown', 't'), ('/e', '/e/b', 'unknown', 't');`)
	require.NoError(t, err)
	prev := custodyGenesis
	for seq, cmd := range []string{"ingest", "verify"} {
		e := CustodyEntry{Seq: int64(seq + 1), Time: "t", Operator: "a", Host: "h", Tool: "old", Command: cmd, Args: []string{},
			Inputs: json.RawMessage("null"), Outputs: json.RawMessage(`{"added":2}`), PrevHash: prev}
		e.Hash, err = EntryHash(e)
		require.NoError(t, err)
		_, err = c.db.Exec(`INSERT INTO custody(seq, time, operator, host, tool, command, args, inputs, outputs, prev_hash, hash)
			VALUES (?,?,?,?,?,?,'[]',?,?,?,?)`, e.Seq, e.Time, e.Operator, e.Host, e.Tool, e.Command, string(e.Inputs), string(e.Outputs), e.PrevHash, e.Hash)
		require.NoError(t, err)
		prev = e.Hash
	}
	require.NoError(t, c.Close())
	return c.Path
}

// TestCustodyOldCase: a case made before the anchor opens and verifies,
// with a note saying what cannot be checked; emptying its log is still
// caught; its first read-write open anchors it, and from then on a removed
// last entry is caught.
func TestCustodyOldCase(t *testing.T) {
	ctx := context.Background()
	ro, err := OpenReadOnly(ctx, oldCase(t))
	require.NoError(t, err)
	defer ro.Close()
	r := checkCustody(t, ro)
	assert.False(t, r.Anchored)
	assert.Empty(t, r.Problems)
	require.Len(t, r.Notes, 1)
	assert.Contains(t, r.Notes[0], "predates the custody anchor")
	ev, err := ro.CheckEvents(ctx)
	require.NoError(t, err)
	assert.Empty(t, ev.Problems)

	// Emptied: evidence, and no ingest entry.
	emptied := oldCase(t)
	db, err := sql.Open("sqlite", "file:"+emptied)
	require.NoError(t, err)
	_, err = db.Exec("DELETE FROM custody")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	ro2, err := OpenReadOnly(ctx, emptied)
	require.NoError(t, err)
	defer ro2.Close()
	r = checkCustody(t, ro2)
	require.Len(t, r.Problems, 1)
	assert.Contains(t, r.Problems[0], "the case holds 2 evidence items and its custody log no ingest entry")

	// Anchored by the next read-write open.
	c, err := Open(ctx, oldCase(t))
	require.NoError(t, err)
	defer c.Close()
	r = checkCustody(t, c)
	assert.True(t, r.Anchored)
	assert.Empty(t, r.Problems)
	require.Len(t, r.Notes, 1)
	assert.Contains(t, r.Notes[0], "entries 1-2 and the evidence items recorded with them predate the custody anchor")
	claim(t, c, addItems(t, c, "new", 2))
	appendEntry(t, c, "verify")
	r = checkCustody(t, c)
	assert.Empty(t, r.Problems)
	ev, err = c.CheckEvents(ctx)
	require.NoError(t, err)
	assert.Empty(t, ev.Problems)
	_, err = c.db.Exec("DELETE FROM custody WHERE seq = 4")
	require.NoError(t, err)
	r = checkCustody(t, c)
	require.Len(t, r.Problems, 1)
	assert.Contains(t, r.Problems[0], "the last 1 entries were removed")
}
