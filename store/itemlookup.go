package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// ItemLookup finds items in a case before they are parsed, so that a
// re-ingest costs a read and a hash, not a parse (ingest's look-up; the
// Writer checks every item again, and drops one already in the case).
//
// It has its own read-only connection and never waits: while the writer
// holds the case locked (a commit, or a cache spill during a bulk load)
// a look-up fails at once with SQLITE_BUSY, which ingest takes for "not
// known": the item is parsed and the writer decides, so the look-up only
// saves work. A caller for whom the answer decides (ingest, when a run
// may widen the indexed records of log files already in the case) calls
// SetWait(true): then a look-up the writer's lock refused is asked again,
// waiting up to a minute.
//
// Its look-up statement is prepared once and reset after each use (its
// rows are closed), so it holds no lock, and pins no WAL snapshot,
// between uses. Its methods may be called from several goroutines; they
// take turns on the one connection.
type ItemLookup struct {
	ro   *Case
	mu   sync.Mutex
	once sync.Once
	wait bool // ask again, waiting, when the case is locked
	// empty: the case held no item when the look-up was opened, so no
	// item of the run can be in it but for the run's own (the writer
	// drops those): Lookup asks nothing.
	empty bool
	same  *sql.Stmt // sameItem, prepared once
}

// RecordedItem is what the case records of an item an ItemLookup finds:
// its kind, error and record count, and for a log file what it holds of
// its indexed records.
type RecordedItem struct {
	ID      int64
	SHA256  string
	Kind    string
	Error   string // "" when none
	Records int    // record_count (0 when NULL)
	// Filter is the events_filter of a log file whose records were
	// indexed by a filter (an EventFilter.Encode); NULL: every record.
	Filter       sql.NullString
	Events       int64  // event_count (0 when NULL)
	EventsSHA256 string // events_sha256 ("" when NULL)
	Seen         int64  // records_seen, -1 when NULL
}

const recordedItemColumns = `id, sha256, kind, coalesce(error, ''), coalesce(record_count, 0), events_filter,
	coalesce(event_count, 0), coalesce(events_sha256, ''), coalesce(records_seen, -1)`

func scanRecordedItem(sc interface{ Scan(...any) error }) (*RecordedItem, error) {
	var s RecordedItem
	if err := sc.Scan(&s.ID, &s.SHA256, &s.Kind, &s.Error, &s.Records, &s.Filter, &s.Events, &s.EventsSHA256, &s.Seen); err != nil {
		return nil, err
	}
	return &s, nil
}

// NewItemLookup opens a look-up on its own read-only connection to the
// case file (see OpenReadOnly), with a busy timeout of 0.
func (c *Case) NewItemLookup(ctx context.Context) (*ItemLookup, error) {
	ro, err := OpenReadOnly(ctx, c.Path)
	if err != nil {
		return nil, err
	}
	if _, err := ro.db.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		ro.Close()
		return nil, err
	}
	l := &ItemLookup{ro: ro}
	var n int
	if err := ro.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM evidence LIMIT 1)").Scan(&n); err != nil {
		ro.Close()
		return nil, err
	}
	l.empty = n == 0
	if l.same, err = ro.db.PrepareContext(ctx, "SELECT "+recordedItemColumns+" FROM evidence WHERE "+sameItem); err != nil {
		ro.Close()
		return nil, err
	}
	return l, nil
}

// SetWait sets whether a look-up the writer's lock refused is asked
// again, waiting (see ItemLookup).
func (l *ItemLookup) SetWait(wait bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wait = wait
}

// query runs fn on the look-up's connection; when the case is locked and
// the look-up waits, once more with a busy timeout.
func (l *ItemLookup) query(fn func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := fn()
	if err == nil || errors.Is(err, sql.ErrNoRows) || !l.wait {
		return err
	}
	db := l.ro.db
	if _, e := db.Exec("PRAGMA busy_timeout = 60000"); e != nil {
		return err
	}
	defer db.Exec("PRAGMA busy_timeout = 0")
	return fn()
}

// Lookup finds the item ev is (the same bytes, ev.SHA256, at the same
// place: path, member and position) in the case: nil when it is not
// there, or not known (see ItemLookup).
func (l *ItemLookup) Lookup(ev *Evidence) (*RecordedItem, error) {
	if l.empty {
		return nil, nil
	}
	args := []any{ev.Path, ev.Member, ev.SHA256, EncodeMemberIndex(ev.MemberIndex)}
	var s *RecordedItem
	err := l.query(func() error {
		var err error
		s, err = scanRecordedItem(l.same.QueryRow(args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return s, err
}

// PartialAt lists the log files recorded at ev's place (path, member and
// position, whatever their bytes) whose records were indexed by a
// filter, in id order, at most 16 of them.
func (l *ItemLookup) PartialAt(ev *Evidence) ([]*RecordedItem, error) {
	args := []any{ev.Path, ev.Member, EncodeMemberIndex(ev.MemberIndex)}
	var out []*RecordedItem
	err := l.query(func() error {
		out = out[:0]
		rows, err := l.ro.db.Query("SELECT "+recordedItemColumns+" FROM evidence WHERE "+samePlace+
			" AND kind = 'cloudtrail_log' AND events_filter IS NOT NULL ORDER BY id LIMIT 16", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanRecordedItem(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// AnyPartial reports whether the case holds a log file whose records were
// indexed by a filter.
func (l *ItemLookup) AnyPartial() (bool, error) {
	var n int
	err := l.query(func() error {
		return l.ro.db.QueryRow("SELECT count(*) FROM (SELECT 1 FROM evidence WHERE kind = 'cloudtrail_log' AND events_filter IS NOT NULL LIMIT 1)").Scan(&n)
	})
	return n > 0, err
}

// Close closes the look-up's statement and connection. It may be called
// more than once; the calls after the first do nothing.
func (l *ItemLookup) Close() error {
	var err error
	l.once.Do(func() {
		l.same.Close()
		err = l.ro.Close()
	})
	return err
}
