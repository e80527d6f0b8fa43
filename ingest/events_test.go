package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/store"
)

// orgSet is a small organization-like set: two accounts, two regions,
// records spread over each hour, so that time, account and region filters
// each cut inside log files.
func orgSet(t *testing.T) (string, *fixtures.Manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "set")
	m, err := fixtures.Generate(dir, fixtures.Options{Seed: 3, Hours: 4, FilesPerHour: 2, EventsPerFile: 12,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"}, Parallel: 2})
	require.NoError(t, err)
	return dir, m
}

func runWith(t *testing.T, c *store.Case, opt Options, paths ...string) *Summary {
	t.Helper()
	sum, err := Run(context.Background(), c, paths, opt)
	require.NoError(t, err)
	// As the CLI does after every run: the custody entry claims what the
	// run recorded (its items and its widenings).
	_, _, err = c.AppendIngestCustody(context.Background(), store.CustodyEntry{Command: "ingest", Tool: "test"}, sum.Added,
		func(cl store.IngestClaim) (json.RawMessage, error) {
			out := map[string]any{"added": sum.Added, "claimed": cl.Claimed, "recovered": cl.Recovered,
				"claimed_events_sha256": cl.EventsSHA256}
			if cl.Widened > 0 {
				out["widened"], out["widened_events_sha256"] = cl.Widened, cl.WidenedEventsSHA256
			}
			return json.Marshal(out)
		})
	require.NoError(t, err)
	return sum
}

// indexedRows are a case's event rows by (path, member, record_index): the
// raw record, for comparing cases.
func indexedRows(t *testing.T, c *store.Case, where string, args ...any) map[string]string {
	t.Helper()
	rows, err := casetest.DB(t, c).Query(`SELECT v.path, v.member, e.record_index, e.raw FROM ct_events e JOIN evidence v ON v.id = e.evidence_id`+where, args...)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var p, m, raw string
		var idx int
		require.NoError(t, rows.Scan(&p, &m, &idx, &raw))
		k := fmt.Sprintf("%s!%s#%d", p, m, idx)
		_, dup := out[k]
		require.False(t, dup, "record %s indexed twice", k)
		out[k] = raw
	}
	require.NoError(t, rows.Err())
	return out
}

// assertCaseConsistent: the case's events are what ingest recorded, and
// its custody log holds.
func assertCaseConsistent(t *testing.T, c *store.Case) {
	t.Helper()
	ev, err := c.CheckEvents(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ev.Problems, "events")
	cc, err := c.CheckCustody(context.Background())
	require.NoError(t, err)
	assert.Empty(t, cc.Problems, "custody")
}

var (
	setStart = fixtures.DefaultStart
	filterFT = store.EventFilter{Restricted: true, Clauses: []store.EventClause{{
		From: setStart.Add(90 * time.Minute), To: setStart.Add(195 * time.Minute),
		Accounts: []string{"444455556666"}, Regions: []string{"eu-west-1"}}}}
)

// SQL over a fully indexed case selecting what filterFT selects.
const filterFTSQL = ` WHERE e.event_time >= ? AND e.event_time < ? AND coalesce(e.recipient_account_id, e.account_id) = '444455556666'
	AND e.aws_region = 'eu-west-1'`

func filterFTArgs() []any {
	return []any{setStart.Add(90 * time.Minute).Format(time.RFC3339), setStart.Add(195 * time.Minute).Format(time.RFC3339)}
}

// TestEventsFilterSelectsRecords: a filtered ingest indexes exactly the
// records of a full ingest that the filter selects (From inclusive, To
// exclusive, account as recipientAccountId else userIdentity.accountId,
// region as awsRegion), records per file what it saw and indexed, and
// still inventories and hashes every item and parses every digest.
func TestEventsFilterSelectsRecords(t *testing.T) {
	dir, m := orgSet(t)
	full := newCase(t)
	fsum := runWith(t, full, Options{}, dir)
	part := newCase(t)
	psum := runWith(t, part, Options{Events: filterFT}, dir)

	want := indexedRows(t, full, filterFTSQL, filterFTArgs()...)
	got := indexedRows(t, part, "")
	require.NotEmpty(t, want)
	require.Less(t, len(want), m.Events)
	assert.Equal(t, want, got)
	assert.Equal(t, len(want), psum.Events)
	assert.Equal(t, m.Events-len(want), psum.RecordsNotIndexed)
	assert.Equal(t, filterFT.String(), psum.EventsFilter)

	// Everything else is as in the full case.
	for _, tbl := range []string{"evidence", "ct_digests", "ct_digest_logs", "s3_object_meta"} {
		assert.Equal(t, queryInt(t, full, "SELECT count(*) FROM "+tbl), queryInt(t, part, "SELECT count(*) FROM "+tbl), tbl)
	}
	assert.Equal(t, fsum.Items, psum.Items)
	assert.Equal(t, 0, queryInt(t, part, `SELECT count(*) FROM evidence p WHERE kind = 'cloudtrail_log' AND NOT EXISTS
		(SELECT 1 FROM evidence f WHERE f.sha256 = p.sha256 AND f.content_sha256 = p.content_sha256)`), "hashes differ")
	// Per file: the filter, the records seen (all of the file's) and indexed.
	enc := filterFT.Encode()
	assert.Equal(t, len(m.Logs), queryInt(t, part, "SELECT count(*) FROM evidence WHERE kind = 'cloudtrail_log' AND events_filter = ?", enc))
	assert.Equal(t, m.Events, queryInt(t, part, "SELECT sum(records_seen) FROM evidence WHERE kind = 'cloudtrail_log'"))
	assert.Equal(t, len(want), queryInt(t, part, "SELECT sum(records_indexed) FROM evidence WHERE kind = 'cloudtrail_log'"))
	assert.Equal(t, 0, queryInt(t, part, `SELECT count(*) FROM evidence v WHERE kind = 'cloudtrail_log' AND
		records_indexed <> (SELECT count(*) FROM ct_events e WHERE e.evidence_id = v.id)`))
	assert.Greater(t, queryInt(t, part, "SELECT count(*) FROM evidence WHERE kind = 'cloudtrail_log' AND records_indexed > 0 AND records_indexed < records_seen"), 0,
		"some files are indexed in part")
	// A full ingest records every record, without a filter.
	assert.Equal(t, 0, queryInt(t, full, "SELECT count(*) FROM evidence WHERE events_filter IS NOT NULL"))
	assert.Equal(t, m.Events, queryInt(t, full, "SELECT sum(records_indexed) FROM evidence WHERE kind = 'cloudtrail_log' AND records_seen = records_indexed"))
	assertCaseConsistent(t, part)
	assertCaseConsistent(t, full)

	x, err := part.EventIndexing(context.Background())
	require.NoError(t, err)
	assert.True(t, x.Partial())
	assert.Equal(t, int64(len(m.Logs)), x.ByFilter)
	assert.Equal(t, int64(m.Events), x.RecordsSeen)
	assert.Equal(t, int64(len(want)), x.RecordsIndexed)
	fx, err := full.EventIndexing(context.Background())
	require.NoError(t, err)
	assert.False(t, fx.Partial())
	assert.Equal(t, int64(len(m.Logs)), fx.InFull)
}

// TestEventsTimeBounds: --from is inclusive and --to exclusive, on
// records made for it.
func TestEventsTimeBounds(t *testing.T) {
	rec := func(id, tm string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"111122223333"},"eventTime":"` + tm +
			`","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"` + id + `","recipientAccountId":"111122223333"}`
	}
	content := `{"Records":[` + strings.Join([]string{rec("a", "2024-03-04T09:59:59Z"), rec("b", "2024-03-04T10:00:00Z"),
		rec("c", "2024-03-04T10:59:59Z"), rec("d", "2024-03-04T11:00:00Z"), rec("e", "")}, ",") + `]}`
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bucket", logKey), gz(t, []byte(content)))
	c := newCase(t)
	f := store.EventFilter{Restricted: true, Clauses: []store.EventClause{{From: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC),
		To: time.Date(2024, 3, 4, 11, 0, 0, 0, time.UTC)}}}
	runWith(t, c, Options{Events: f}, dir)
	rows, err := casetest.DB(t, c).Query("SELECT event_id FROM ct_events ORDER BY record_index")
	require.NoError(t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, []string{"b", "c"}, ids)
	assert.Equal(t, 5, queryInt(t, c, "SELECT records_seen FROM evidence WHERE kind = 'cloudtrail_log'"))
}

// TestEventsNoneDoesNotSplit: --events none hashes a log file without
// splitting it: content after the head that is not JSON goes unnoticed
// (an indexing run reports it), its format is told from its head, and it
// gets the same hashes.
func TestEventsNoneDoesNotSplit(t *testing.T) {
	broken := strings.Replace(recordsA, `"eventName":"PutObject"`, `"eventName":PutObject"`, 1)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bucket", logKey), gz(t, []byte(broken)))
	none := newCase(t)
	sum := runWith(t, none, Options{Events: store.NoEvents}, dir)
	assert.Empty(t, sum.Errors)
	assert.Equal(t, 1, sum.LogsNotSplit)
	all := newCase(t)
	sumAll := runWith(t, all, Options{}, dir)
	require.Len(t, sumAll.Errors, 1, "the indexing run splits the file and finds the damage")
	assert.Contains(t, sumAll.Errors[0].Error, "cloudtrail log")
	q := "SELECT kind || ' ' || format || ' ' || sha256 || ' ' || content_sha256 FROM evidence WHERE kind = 'cloudtrail_log'"
	var a, b string
	require.NoError(t, casetest.DB(t, none).QueryRow(q).Scan(&a))
	require.NoError(t, casetest.DB(t, all).QueryRow(q).Scan(&b))
	assert.Equal(t, b, a)
	assert.Equal(t, 0, queryInt(t, none, "SELECT count(*) FROM ct_events"))
	assert.Equal(t, 1, queryInt(t, none, "SELECT count(*) FROM evidence WHERE events_filter = '[]' AND records_seen IS NULL AND records_indexed = 0"))
}

// TestEventsWidening: a later ingest with a wider filter (a second one,
// then all) indexes exactly the records the earlier runs left out, never
// one twice, without adding items; the per-file event hashes then equal
// a full ingest's, and the events and the custody log check out after
// every run. The same whether items are buffered or streamed.
func TestEventsWidening(t *testing.T) {
	dir, m := orgSet(t)
	full := newCase(t)
	runWith(t, full, Options{}, dir)
	fullHashes := eventHashes(t, full)

	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("streamed=%v", streamed), func(t *testing.T) {
			opt := Options{}
			if streamed {
				opt.MaxBuffered = 1 // every item is read as a stream by the walker
			}
			c := newCase(t)
			opt.Events = store.NoEvents
			runWith(t, c, opt, dir)
			assert.Equal(t, 0, queryInt(t, c, "SELECT count(*) FROM ct_events"))
			items := queryInt(t, c, "SELECT count(*) FROM evidence")

			opt.Events = filterFT
			sum := runWith(t, c, opt, dir)
			assert.Equal(t, indexedRows(t, full, filterFTSQL, filterFTArgs()...), indexedRows(t, c, ""))
			assert.Equal(t, len(m.Logs), sum.Widened)
			assert.Equal(t, 0, sum.Added)
			assertCaseConsistent(t, c)

			opt.Events = store.EventFilter{Restricted: true, Clauses: []store.EventClause{{Accounts: []string{"111122223333"}}}}
			sum = runWith(t, c, opt, dir)
			wantN := len(indexedRows(t, full, filterFTSQL+" OR coalesce(e.recipient_account_id, e.account_id) = '111122223333'", filterFTArgs()...))
			assert.Equal(t, wantN, queryInt(t, c, "SELECT count(*) FROM ct_events"))
			assert.Greater(t, sum.WidenedEvents, 0)
			assertCaseConsistent(t, c)

			// The same filter again: nothing to widen, nothing read twice.
			sum = runWith(t, c, opt, dir)
			assert.Equal(t, 0, sum.Widened)
			assert.Equal(t, wantN, queryInt(t, c, "SELECT count(*) FROM ct_events"))

			opt.Events = store.AllEvents
			sum = runWith(t, c, opt, dir)
			assert.Equal(t, len(m.Logs), sum.Widened)
			assert.Equal(t, m.Events-wantN, sum.WidenedEvents)
			assert.Equal(t, indexedRows(t, full, ""), indexedRows(t, c, ""))
			assert.Equal(t, fullHashes, eventHashes(t, c), "per-file event hashes after widening to all")
			assert.Equal(t, items, queryInt(t, c, "SELECT count(*) FROM evidence"), "no item added")
			assert.Equal(t, 0, queryInt(t, c, "SELECT count(*) FROM evidence WHERE events_filter IS NOT NULL"))
			assert.Equal(t, 3*len(m.Logs), queryInt(t, c, "SELECT count(*) FROM ct_index_widenings"))
			assertCaseConsistent(t, c)
		})
	}
}

// eventHashes are the per-file event hashes and counts of a case by path.
func eventHashes(t *testing.T, c *store.Case) map[string]string {
	t.Helper()
	rows, err := casetest.DB(t, c).Query("SELECT path, member, coalesce(event_count, 0), coalesce(events_sha256, '') FROM evidence WHERE kind = 'cloudtrail_log'")
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var p, m, sha string
		var n int
		require.NoError(t, rows.Scan(&p, &m, &n, &sha))
		out[p+"!"+m] = fmt.Sprintf("%d %s", n, sha)
	}
	return out
}

// TestEventsWideningChangedFile: a log file whose bytes changed after a
// filtered ingest is, on widening, an item of its own with an error, none
// of its records indexed; the recorded file keeps its records as they
// were. Buffered and streamed alike.
func TestEventsWideningChangedFile(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("streamed=%v", streamed), func(t *testing.T) {
			dir, m := orgSet(t)
			opt := Options{Events: filterFT}
			if streamed {
				opt.MaxBuffered = 1
			}
			c := newCase(t)
			runWith(t, c, opt, dir)
			before := indexedRows(t, c, "")
			info, err := fixtures.Tamper(m, fixtures.LogHashMismatch)
			require.NoError(t, err)
			changed := info.Changed[0]

			opt.Events = store.AllEvents
			sum := runWith(t, c, opt, dir)
			require.Len(t, sum.Errors, 1, "%v", sum.Errors)
			assert.Equal(t, changed, sum.Errors[0].Path)
			assert.Contains(t, sum.Errors[0].Error, "changed since an earlier ingest")
			assert.Equal(t, 2, sum.Added, "the changed file, and the folder whose listing it changed")
			assert.Equal(t, len(m.Logs)-1, sum.Widened)
			// The new bytes: recorded, hashed, not indexed.
			var id, n int
			var errText, filter string
			require.NoError(t, casetest.DB(t, c).QueryRow(`SELECT id, coalesce(error, ''), coalesce(events_filter, 'all'), records_indexed FROM evidence
				WHERE path = ? ORDER BY id DESC LIMIT 1`, changed).Scan(&id, &errText, &filter, &n))
			assert.Contains(t, errText, "changed since an earlier ingest")
			assert.Equal(t, "[]", filter)
			assert.Equal(t, 0, n)
			assert.Equal(t, 0, queryInt(t, c, "SELECT count(*) FROM ct_events WHERE evidence_id = ?", id))
			// The recorded file: its records as they were, not widened.
			after := indexedRows(t, c, " WHERE v.path = ?", changed)
			for k, raw := range after {
				assert.Equal(t, before[k], raw, k)
			}
			assert.Equal(t, filterFT.Encode(), queryString(t, c, "SELECT events_filter FROM evidence WHERE path = ? ORDER BY id LIMIT 1", changed))
			assertCaseConsistent(t, c)
		})
	}
}

// TestEventsWideningTamperDetected: after a widening, editing an item's
// recorded event hash, or the widening record, breaks the custody check.
func TestEventsWideningTamperDetected(t *testing.T) {
	dir, _ := orgSet(t)
	c := newCase(t)
	runWith(t, c, Options{Events: filterFT}, dir)
	runWith(t, c, Options{}, dir)
	assertCaseConsistent(t, c)
	for _, edit := range []string{
		"UPDATE ct_index_widenings SET events_sha256_before = 'x' WHERE id = (SELECT min(id) FROM ct_index_widenings WHERE events_sha256_before IS NOT NULL)",
		"UPDATE ct_index_widenings SET events_sha256 = 'x' WHERE id = 1",
		"UPDATE evidence SET events_filter = '[]' WHERE id = (SELECT evidence_id FROM ct_index_widenings WHERE id = 1)",
		"DELETE FROM ct_index_widenings WHERE id = 1",
	} {
		t.Run(edit, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "case.db")
			_, err := casetest.DB(t, c).Exec("VACUUM INTO ?", cp)
			require.NoError(t, err)
			e, err := store.Open(context.Background(), cp)
			require.NoError(t, err)
			defer e.Close()
			_, err = casetest.DB(t, e).Exec(edit)
			require.NoError(t, err)
			cc, err := e.CheckCustody(context.Background())
			require.NoError(t, err)
			assert.NotEmpty(t, cc.Problems)
		})
	}
}

// TestEventsForPerItem: EventsFor gives one item another filter than the
// run's (report verify re-ingests each item by the filter its case used).
func TestEventsForPerItem(t *testing.T) {
	dir, m := orgSet(t)
	target := m.Logs[0].Path
	c := newCase(t)
	runWith(t, c, Options{Events: store.NoEvents, EventsFor: func(ev *store.Evidence) (store.EventFilter, bool) {
		return store.AllEvents, ev.Path == target
	}}, dir)
	assert.Equal(t, m.Logs[0].Records, queryInt(t, c, "SELECT count(*) FROM ct_events"))
	assert.Equal(t, m.Logs[0].Records, queryInt(t, c, "SELECT count(*) FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE v.path = ?", target))
}
