package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// The per-file event hash (evidence.events_sha256, and event counts and
// hashes in reports) covers every indexed column of an item's ct_events
// rows and their raw bytes, so that a renamed, altered, added or deleted
// event changes it. It is the hex SHA-256 of, for each row of the item in
// (record_index, id) order,
//
//	EventsHeaderSQL || char(10) || raw || char(10)
//
// that is: a JSON array, as SQLite's json_array writes it, of
// record_index, the 20 text columns from event_id to shared_event_id,
// read_only, management_event, verifiable and the length of raw in bytes;
// a newline; raw exactly as stored; a newline. Anyone can recompute it
// with the sqlite3 shell (hex() keeps the bytes intact whatever the
// shell's output mode; xxd -r -p or basenc --base16 -d turn them back):
//
//	sqlite3 case.db "SELECT hex(json_array(record_index, ...) || char(10) || raw || char(10))
//	  FROM ct_events WHERE evidence_id = 42 ORDER BY record_index, id" | tr -d '\n' | xxd -r -p | sha256sum
//
// (EventsSQL is the full statement.) An item with no events has no hash.
const EventsHeaderSQL = `json_array(record_index, event_id, event_time, event_version, event_source, event_name, ` +
	`event_type, event_category, aws_region, source_ip, user_agent, principal, identity_type, access_key_id, user_name, ` +
	`account_id, recipient_account_id, error_code, error_message, request_id, shared_event_id, read_only, ` +
	`management_event, verifiable, length(CAST(raw AS BLOB)))`

// EventsSQL is the statement whose output, hex-decoded, hashes to the
// events_sha256 of evidence item ?.
const EventsSQL = `SELECT hex(` + EventsHeaderSQL + ` || char(10) || raw || char(10)) FROM ct_events WHERE evidence_id = ? ORDER BY record_index, id`

// EventsHash hashes the events of one item, given in record_index order,
// exactly as the rows the writer stores for them hash (see
// EventsHeaderSQL): empty strings are NULL, as the writer binds them.
type EventsHash struct {
	h   hash.Hash
	n   int64
	buf []byte
}

// NewEventsHash starts an empty per-file event hash.
func NewEventsHash() *EventsHash { return &EventsHash{h: sha256.New()} }

// Add hashes the next event.
func (x *EventsHash) Add(e *Event) {
	b := x.buf[:0]
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(e.RecordIndex), 10)
	for _, v := range [...]string{e.EventID, e.EventTime, e.EventVersion, e.EventSource, e.EventName,
		e.EventType, e.EventCategory, e.AWSRegion, e.SourceIP, e.UserAgent, e.Principal, e.IdentityType,
		e.AccessKeyID, e.UserName, e.AccountID, e.RecipientAccountID, e.ErrorCode, e.ErrorMessage,
		e.RequestID, e.SharedEventID} {
		b = append(b, ',')
		if v == "" {
			b = append(b, "null"...)
		} else {
			b = appendSQLiteJSONString(b, v)
		}
	}
	for _, v := range [...]*bool{e.ReadOnly, e.ManagementEvent} {
		switch {
		case v == nil:
			b = append(b, ",null"...)
		case *v:
			b = append(b, ",1"...)
		default:
			b = append(b, ",0"...)
		}
	}
	b = append(b, ',', byte('0'+b2i(e.Verifiable)), ',')
	b = strconv.AppendInt(b, int64(len(e.Raw)), 10)
	b = append(b, ']', '\n')
	x.h.Write(b)
	x.h.Write(e.Raw)
	x.h.Write([]byte{'\n'})
	x.buf = b
	x.n++
}

// Count is how many events were added.
func (x *EventsHash) Count() int64 { return x.n }

// Sum is the hex hash ("" when no event was added).
func (x *EventsHash) Sum() string {
	if x.n == 0 {
		return ""
	}
	return hex.EncodeToString(x.h.Sum(nil))
}

// HashEvents returns the per-file event hash of events, in order.
func HashEvents(events []Event) string {
	x := NewEventsHash()
	for i := range events {
		x.Add(&events[i])
	}
	return x.Sum()
}

// appendSQLiteJSONString appends s as SQLite's json_quote writes a text value:
// '"' and '\' escaped with a backslash, \b \t \n \f \r, other bytes below
// 0x20 as \u00xx (lowercase hex), every other byte as it is (invalid
// UTF-8 included).
func appendSQLiteJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs escaping.
		if i+8 <= len(s) && !needsEscape8(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))) {
			i += 8
			continue
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// needsEscape8 reports whether any of the eight bytes of x is below 0x20,
// '"' or '\\' (the classic "has a byte less than n" and "has a zero
// byte" tests; a false positive only sends the bytes to the slow path).
func needsEscape8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lt20 := (x - ones*0x20) & ^x & highs
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return lt20|((q-ones) & ^q & highs)|((bs-ones) & ^bs & highs) != 0
}

// EventsSum is the events of one evidence item: how many, and their hash.
type EventsSum struct {
	Count  int64
	SHA256 string // "" when Count is 0
}

// EventsCheck is the outcome of CheckEvents.
type EventsCheck struct {
	// ByEvidence holds the events in the case now, per evidence id (items
	// without events are absent).
	ByEvidence map[int64]EventsSum
	Problems   []string // events that differ from what ingest recorded
	Notes      []string
}

// CheckEvents hashes the events of every evidence item as the case holds
// them now (one pass over ct_events in rowid order) and compares each with
// what ingest recorded for it (evidence.event_count and events_sha256): a
// renamed, altered, added or deleted event is a problem. Items recorded
// before the case had these columns are counted in a note. It reads only.
func (c *Case) CheckEvents(ctx context.Context) (*EventsCheck, error) {
	sums, err := c.eventSums(ctx)
	if err != nil {
		return nil, err
	}
	r := &EventsCheck{ByEvidence: sums}
	var hasColumn int
	if err := c.db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('evidence') WHERE name = 'events_sha256'").Scan(&hasColumn); err != nil {
		return nil, fmt.Errorf("read the case schema: %w", err)
	}
	cols := "id, path, member, 0, NULL, NULL"
	if hasColumn > 0 {
		cols = "id, path, member, coalesce(custody_seq, -1), event_count, events_sha256"
	}
	rows, err := c.db.QueryContext(ctx, "SELECT "+cols+" FROM evidence ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	known := map[int64]bool{}
	unrecorded := 0
	for rows.Next() {
		var id, seq int64
		var path, member string
		var count sql.NullInt64
		var sha sql.NullString
		if err := rows.Scan(&id, &path, &member, &seq, &count, &sha); err != nil {
			return nil, err
		}
		known[id] = true
		now := sums[id]
		name := fmt.Sprintf("%q", path)
		if member != "" {
			name = fmt.Sprintf("%q!/%q", path, member)
		}
		switch {
		case sha.Valid:
			if now.SHA256 != sha.String || !count.Valid || now.Count != count.Int64 {
				r.Problems = append(r.Problems, fmt.Sprintf("the events of evidence %d (%s) are not those ingest recorded: "+
					"%s events with events_sha256 %q at ingest, %d with %s now (events renamed, altered, added or deleted)",
					id, name, nullCount(count), sha.String, now.Count, orNone(now.SHA256)))
			}
		case now.Count == 0:
		case seq == 0:
			unrecorded++ // recorded before version 5: nothing to compare with
		default:
			r.Problems = append(r.Problems, fmt.Sprintf("evidence %d (%s) had no events at ingest and has %d now (events added)", id, name, now.Count))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var orphans []string
	var orphanEvents int64
	for id, s := range sums {
		if !known[id] {
			orphans = append(orphans, strconv.FormatInt(id, 10))
			orphanEvents += s.Count
		}
	}
	if len(orphans) > 0 {
		sort.Strings(orphans)
		if len(orphans) > 10 {
			orphans = append(orphans[:10], "...")
		}
		r.Problems = append(r.Problems, fmt.Sprintf("%d events name evidence items that are not in the case (evidence_id %s)",
			orphanEvents, strings.Join(orphans, ", ")))
	}
	if unrecorded > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("the events of %d items were recorded before the case kept per-file event hashes: not compared", unrecorded))
	}
	return r, nil
}

func nullCount(n sql.NullInt64) string {
	if !n.Valid {
		return "no count of"
	}
	return strconv.FormatInt(n.Int64, 10)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// eventSums hashes the events of every item. Rows are read in rowid
// order, in which the writer stores each item's events in record_index
// order; the items whose rows are not in that order (only an edited case
// has them) are hashed again in a second pass that sorts just their rows.
func (c *Case) eventSums(ctx context.Context) (map[int64]EventsSum, error) {
	var st map[int64]*evState
	var err error
	if c.Path != "" {
		st, err = c.eventSumsRaw(ctx)
	} else {
		st, err = c.eventStatesSQL(ctx, "ORDER BY id")
	}
	if err != nil {
		return nil, err
	}
	var broken []string
	for ev, s := range st {
		if s.broken {
			broken = append(broken, strconv.FormatInt(ev, 10))
		}
	}
	if len(broken) > 0 {
		sort.Strings(broken)
		// The ids go as one JSON array, so the statement's size does not
		// grow with them (a widened item's rows are out of order too).
		again, err := c.eventStatesSQL(ctx, "WHERE coalesce(CAST(evidence_id AS INTEGER), 0) IN (SELECT value FROM json_each(?))"+
			" ORDER BY 2, record_index, id", "["+strings.Join(broken, ",")+"]")
		if err != nil {
			return nil, err
		}
		for ev, s := range again {
			st[ev] = s
		}
	}
	out := make(map[int64]EventsSum, len(st))
	for ev, s := range st {
		out[ev] = EventsSum{Count: s.x.Count(), SHA256: s.x.Sum()}
	}
	return out, nil
}

// blobSafeHeaderSQL is EventsHeaderSQL with every BLOB value read as
// text, where json_array would fail (every other value is as in
// EventsHeaderSQL): only an edited case has a BLOB in these columns.
var blobSafeHeaderSQL = func() string {
	inner := strings.TrimSuffix(strings.TrimPrefix(EventsHeaderSQL, "json_array("), ")")
	cols := strings.Split(inner, ", ")
	for i, col := range cols {
		if !strings.HasPrefix(col, "length(") {
			cols[i] = "CASE WHEN typeof(" + col + ") = 'blob' THEN CAST(" + col + " AS TEXT) ELSE " + col + " END"
		}
	}
	return "json_array(" + strings.Join(cols, ", ") + ")"
}()

// eventStatesSQL hashes the rows `SELECT ... FROM ct_events <rest>`
// selects through the case's own connection, each row's bytes made by
// SQLite from the documented expression.
func (c *Case) eventStatesSQL(ctx context.Context, rest string, args ...any) (map[int64]*evState, error) {
	st := map[int64]*evState{}
	rows, err := c.db.QueryContext(ctx, "SELECT coalesce(CAST(record_index AS INTEGER), 0), coalesce(CAST(evidence_id AS INTEGER), 0), "+
		"CAST("+blobSafeHeaderSQL+" || char(10) || raw || char(10) AS BLOB) FROM ct_events "+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("hash events: %w", err)
	}
	defer rows.Close()
	var line []byte
	for rows.Next() {
		var idx, ev int64
		if err := rows.Scan(&idx, &ev, &line); err != nil {
			return nil, fmt.Errorf("hash events: %w", err)
		}
		s := st[ev]
		if s == nil {
			s = &evState{x: NewEventsHash(), lastIdx: idx}
			st[ev] = s
		}
		if idx < s.lastIdx {
			s.broken = true
		}
		s.lastIdx = idx
		s.x.h.Write(line)
		s.x.n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hash events: %w", err)
	}
	return st, nil
}
