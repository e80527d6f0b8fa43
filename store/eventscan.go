package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	sqlite3 "modernc.org/sqlite/lib"
)

// The per-file event hashes of a whole case are computed by reading
// ct_events once, in rowid order, through read-only connections of the
// SQLite library itself (rawConn), in two halves split at an item
// boundary, one per core: each value is hashed straight from SQLite's
// memory, and the JSON header of each row (EventsHeaderSQL) is written by
// appendSQLiteJSONString rather than by SQLite's json_array, which costs
// more than the rest of the read (the sqlite3 shell: 4.7 s for the
// json_array of 1,008,000 rows, 1.0 s to read their raw records). A value
// the writer never stores (a REAL or a BLOB in a column, a raw record that
// is not text) sends its row through EventsHeaderSQL itself.

// eventsScanSQL reads the columns of EventsHeaderSQL, in its order, after
// the row and item ids.
const eventsScanSQL = `SELECT id, evidence_id, record_index, event_id, event_time, event_version, event_source, event_name,
	event_type, event_category, aws_region, source_ip, user_agent, principal, identity_type, access_key_id, user_name,
	account_id, recipient_account_id, error_code, error_message, request_id, shared_event_id, read_only,
	management_event, verifiable, raw FROM ct_events WHERE id >= ? AND id < ? ORDER BY id`

const (
	scanFirstHeaderCol = 2  // record_index
	scanLastHeaderCol  = 25 // verifiable
	scanRawCol         = 26
)

// eventRowSQL is one row's hashed bytes, as hex, for the rows the scan
// hands to SQLite.
var eventRowSQL = "SELECT hex(" + blobSafeHeaderSQL + " || char(10) || raw || char(10)) FROM ct_events WHERE id = ?"

// minSplitRows is the fewest rows worth a second connection.
var minSplitRows int64 = 100_000

type evState struct {
	x       *EventsHash
	lastIdx int64
	broken  bool // rows out of record_index order
}

type scanResult struct {
	st  map[int64]*evState
	err error
}

// eventSumsRaw is eventSums for a case with a path, through rawConn.
func (c *Case) eventSumsRaw(ctx context.Context) (map[int64]*evState, error) {
	var lo, hi int64
	if err := c.db.QueryRowContext(ctx, "SELECT coalesce(min(id), 0), coalesce(max(id), 0) + 1 FROM ct_events").Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("hash events: %w", err)
	}
	bounds := []int64{lo, hi}
	if hi-lo >= minSplitRows && runtime.GOMAXPROCS(0) > 1 {
		// The first row after the middle that starts another item.
		mid := lo + (hi-lo)/2
		var split int64
		err := c.db.QueryRowContext(ctx, `SELECT coalesce((SELECT id FROM ct_events WHERE id > ?1 AND evidence_id IS NOT
			(SELECT evidence_id FROM ct_events WHERE id >= ?1 ORDER BY id LIMIT 1) ORDER BY id LIMIT 1), 0)`, mid).Scan(&split)
		if err != nil {
			return nil, fmt.Errorf("hash events: %w", err)
		}
		if split > lo && split < hi {
			bounds = []int64{lo, split, hi}
		}
	}
	res := make([]scanResult, len(bounds)-1)
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].st, res[i].err = scanEventRange(ctx, c.Path, bounds[i], bounds[i+1])
		}()
	}
	wg.Wait()
	out := map[int64]*evState{}
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
		for ev, s := range r.st {
			if prev, ok := out[ev]; ok {
				// An item on both sides of the split: only an edited case
				// has one (its rows are not together); hashed again in order.
				prev.broken = true
				continue
			}
			out[ev] = s
		}
	}
	return out, nil
}

// scanEventRange hashes the events of the rows lo <= id < hi through its
// own read-only connection.
func scanEventRange(ctx context.Context, path string, lo, hi int64) (map[int64]*evState, error) {
	x, err := openRawConnFlags(path, sqlite3.SQLITE_OPEN_READONLY)
	if err != nil {
		return nil, fmt.Errorf("hash events: %w", err)
	}
	defer x.close()
	if _, err := x.exec(ctx, "PRAGMA busy_timeout = 10000"); err != nil { // as the case's own connections wait
		return nil, fmt.Errorf("hash events: %w", err)
	}
	st := map[int64]*evState{}
	s, row, err := x.run(ctx, eventsScanSQL, 0, func(b *binder) { b.int(lo); b.int(hi) })
	if err != nil {
		return nil, fmt.Errorf("hash events: %w", err)
	}
	defer func() {
		if s != 0 {
			x.done(s)
		}
	}()
	tls := x.tls
	var b []byte
	for n := 0; row; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ev := sqlite3.Xsqlite3_column_int64(tls, s, 1)
		idx := sqlite3.Xsqlite3_column_int64(tls, s, 2)
		e := st[ev]
		if e == nil {
			e = &evState{x: NewEventsHash(), lastIdx: idx}
			st[ev] = e
		}
		if idx < e.lastIdx {
			e.broken = true
		}
		e.lastIdx = idx
		b = append(b[:0], '[')
		ok := true
		for col := int32(scanFirstHeaderCol); col <= scanLastHeaderCol && ok; col++ {
			if col > scanFirstHeaderCol {
				b = append(b, ',')
			}
			switch sqlite3.Xsqlite3_column_type(tls, s, col) {
			case sqlite3.SQLITE_INTEGER:
				b = strconv.AppendInt(b, sqlite3.Xsqlite3_column_int64(tls, s, col), 10)
			case sqlite3.SQLITE_NULL:
				b = append(b, "null"...)
			case sqlite3.SQLITE_TEXT:
				p := sqlite3.Xsqlite3_column_text(tls, s, col)
				m := sqlite3.Xsqlite3_column_bytes(tls, s, col)
				b = appendSQLiteJSONString(b, unsafe.String((*byte)(unsafe.Add(nil, p)), int(m)))
			default:
				ok = false
			}
		}
		rt := sqlite3.Xsqlite3_column_type(tls, s, scanRawCol)
		if ok && (rt == sqlite3.SQLITE_TEXT || rt == sqlite3.SQLITE_BLOB) {
			p := sqlite3.Xsqlite3_column_blob(tls, s, scanRawCol)
			m := int(sqlite3.Xsqlite3_column_bytes(tls, s, scanRawCol))
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(m), 10)
			b = append(b, ']', '\n')
			e.x.h.Write(b)
			e.x.h.Write(cmem(p, m))
			e.x.h.Write([]byte{'\n'})
			e.x.n++
		} else {
			line, err := x.queryText(ctx, eventRowSQL, sqlite3.Xsqlite3_column_int64(tls, s, 0))
			if err != nil {
				return nil, fmt.Errorf("hash events: %w", err)
			}
			raw, err := hex.DecodeString(line)
			if err != nil {
				return nil, fmt.Errorf("hash events: %w", err)
			}
			e.x.h.Write(raw)
			e.x.n++
		}
		switch rc := sqlite3.Xsqlite3_step(tls, s); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			row = false
		default:
			return nil, fmt.Errorf("hash events: %w", x.errorf(rc))
		}
	}
	return st, nil
}
