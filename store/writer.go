package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Item is one evidence item with every row parsed from it. The writer
// records an item whole or not at all.
type Item struct {
	Evidence Evidence
	Events   []Event
	Digest   *Digest
	Keys     []PublicKey
	Metas    []ObjectMeta
	Manifest *InventoryManifest
	Access   []AccessRecord // encoded by the writer; ingest hands it AccessRows
	// AccessRows are access-log lines already encoded by the producer.
	AccessRows []AccessRow
	// Lake is a CloudTrail Lake sign file or result file's index.
	Lake *LakeItem
	// RecordCount is what evidence.record_count gets; when zero it is the
	// number of rows in the item.
	RecordCount int
	// EventsSHA256 is HashEvents(Events), which producers compute off the
	// writer's goroutine; the writer computes it when it is empty. For a
	// stream it comes with the final item (End), with EventCount: the
	// events of every part, in order.
	EventsSHA256 string
	EventCount   int64
	// Index, for a CloudTrail log file, says which of its records are
	// indexed (evidence.events_filter, records_seen, records_indexed);
	// nil for other items. For a stream it comes with the final item.
	Index *EventIndex
	// Widen, when set, makes the item more records of a log file already
	// in the case instead of a new item: see Widen.
	Widen *Widen
	// Done, when set, is called once the writer has applied the item (or
	// given up on it), so producers can bound what is in flight.
	Done func()
}

// EventIndex is what the case records of the records of one log file:
// the filter they were indexed by (EventFilter.Encode: "" for all), how
// many the file was split into (-1: not split), and how many are indexed.
type EventIndex struct {
	Filter  string
	Seen    int64
	Indexed int64
}

// Widen adds records to the log file already in the case as evidence
// row ID, whose bytes were read again and hash to SHA256: the item's
// Events are the records of the wider filter that were not indexed
// before, its EventsSHA256 and EventCount the hash and count of all its
// indexed records after (in record order), its Index the state after.
// Before is the state the producer saw; the writer applies the widening
// only if the row still has it (else the item is counted as a duplicate),
// and records it in ct_index_widenings.
//
// A stream (Writer.Begin with Widen set) learns the bytes' SHA-256 only at
// its end: when End's final item has Discard set (the bytes read are not
// the ones recorded) the stream's rows are taken out again and the final
// item is recorded as a new evidence row, with its error.
type Widen struct {
	ID      int64
	SHA256  string
	Before  EventIndex
	Count   int64  // event_count before
	Events  string // events_sha256 before ("" for none)
	Discard bool
}

func (it *Item) rows() int {
	n := len(it.Events) + len(it.Keys) + len(it.Metas) + len(it.Access) + len(it.AccessRows)
	if it.Digest != nil {
		n += 1 + len(it.Digest.LogFiles)
	}
	if it.Manifest != nil {
		n++
	}
	if it.Lake != nil {
		n += 1 + len(it.Lake.Rows)
	}
	return n
}

// LakeItem is what the case keeps of a CloudTrail Lake file: a sign
// file's bytes, or a result file's CSV header, row count and (when asked)
// rows. Folder is the query's folder (see migration 012).
type LakeItem struct {
	Folder string
	Sign   []byte // a sign file: its bytes; nil for a result file
	Header []string
	Count  int64
	Rows   [][]string // the first rows, when ingest indexes them (--lake-rows)
	Error  string     // a result file that could not be read whole
}

// WriterStats counts what a writer added to the case.
type WriterStats struct {
	Items      int            // new evidence rows
	Duplicates int            // items already in the case, skipped
	Rows       int            // child rows written (events, access lines, ...)
	ByKind     map[string]int // new evidence rows per kind
	Widened    int            // log files already in the case whose indexed records were widened
	WidenedAdd int            // records those widenings indexed
}

// Writer is the single goroutine that writes to the case. Ingest workers
// hand it items; it batches them into large transactions, which only ever
// end between items.
type Writer struct {
	c      *Case
	ch     chan msg
	done   chan struct{}
	ready  chan struct{} // closed once the writer's connection is set up
	err    error
	stats  WriterStats
	mu     sync.Mutex
	opened map[int]int64 // stream handle -> evidence id
	// widening holds, for a stream that widens a row already in the
	// case, the Widen and the highest ct_events id before its rows.
	widening map[int]streamWiden
	// BatchRows is how many rows a transaction gathers before it commits
	// (at the next item boundary).
	batchRows int
	maxDelay  time.Duration
	loadInWAL bool
}

type msgKind int

const (
	msgItem msgKind = iota
	msgBegin
	msgRows
	msgEnd
	msgSync
)

type msg struct {
	kind   msgKind
	item   *Item
	stream int
	reply  chan error
}

// WriterOptions tune batching.
type WriterOptions struct {
	BatchRows int           // default 50,000
	MaxDelay  time.Duration // commit at least this often while items flow; default 2 s
	Queue     int           // items buffered between workers and the writer; default 16
	// LoadInWAL keeps the case in WAL mode during the load (for
	// comparison in benchmarks; see setUp).
	LoadInWAL bool
}

// NewWriter starts the writer goroutine.
func (c *Case) NewWriter(opt WriterOptions) *Writer {
	if opt.BatchRows <= 0 {
		opt.BatchRows = 50000
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = 2 * time.Second
	}
	if opt.Queue <= 0 {
		opt.Queue = 16
	}
	w := &Writer{
		c: c, ch: make(chan msg, opt.Queue), done: make(chan struct{}), ready: make(chan struct{}),
		opened: map[int]int64{}, widening: map[int]streamWiden{}, batchRows: opt.BatchRows, maxDelay: opt.MaxDelay, loadInWAL: opt.LoadInWAL,
		stats: WriterStats{ByKind: map[string]int{}},
	}
	go w.run()
	// The connection's journal mode is settled before anyone else opens
	// the case (see run).
	<-w.ready
	return w
}

// Add queues a whole item. It blocks while the queue is full, which is
// how the writer's pace limits memory.
func (w *Writer) Add(it *Item) { w.ch <- msg{kind: msgItem, item: it} }

// Stream is an item whose rows arrive in parts (a large CloudTrail log,
// access log or inventory data file). The evidence row is completed by
// End; if End finds the same item already in the case, every row of the
// stream is removed again before the transaction commits.
type Stream struct {
	w  *Writer
	id int
}

var streamSeq struct {
	sync.Mutex
	n int
}

// Begin opens a stream for ev.
func (w *Writer) Begin(ev Evidence) *Stream {
	streamSeq.Lock()
	streamSeq.n++
	id := streamSeq.n
	streamSeq.Unlock()
	w.ch <- msg{kind: msgBegin, stream: id, item: &Item{Evidence: ev}}
	return &Stream{w: w, id: id}
}

// BeginWiden opens a stream that adds records to the log file already in
// the case as row wd.ID (see Widen); ev is the item as read.
func (w *Writer) BeginWiden(ev Evidence, wd Widen) *Stream {
	streamSeq.Lock()
	streamSeq.n++
	id := streamSeq.n
	streamSeq.Unlock()
	w.ch <- msg{kind: msgBegin, stream: id, item: &Item{Evidence: ev, Widen: &wd}}
	return &Stream{w: w, id: id}
}

// Add queues more rows of the stream's item.
func (s *Stream) Add(part *Item) { s.w.ch <- msg{kind: msgRows, stream: s.id, item: part} }

// End completes the evidence row with final (hashes, size, error, record
// count) and closes the stream.
func (s *Stream) End(final *Item) { s.w.ch <- msg{kind: msgEnd, stream: s.id, item: final} }

// Sync waits until everything queued so far is committed.
func (w *Writer) Sync() error {
	reply := make(chan error, 1)
	w.ch <- msg{kind: msgSync, reply: reply}
	return <-reply
}

// Close commits what is queued, stops the writer and returns its counts
// and the first error it met.
func (w *Writer) Close() (WriterStats, error) {
	close(w.ch)
	<-w.done
	return w.stats, w.err
}

type txState struct {
	x     *rawConn
	open  bool
	rows  int
	since time.Time
}

func (w *Writer) run() {
	defer close(w.done)
	ctx := context.Background()
	ready := sync.OnceFunc(func() { close(w.ready) })
	defer ready()
	fail := func(err error) {
		w.err = err
		ready()
		w.drain()
	}
	// The case's own connection is held for the writer's whole life, so
	// every other user of c.DB waits for the writer to finish, and it
	// switches the journal mode (which needs the case to itself) before
	// and after the load. The rows go through the writer's rawConn.
	conn, err := w.c.db.Conn(ctx)
	if err != nil {
		fail(fmt.Errorf("writer connection: %w", err))
		return
	}
	defer conn.Close()
	rollbackJournal := w.switchToRollbackJournal(ctx, conn)
	x, err := openRawConn(w.c.Path)
	if err != nil {
		fail(fmt.Errorf("writer connection: %w", err))
		return
	}
	if err := w.setUp(ctx, x, rollbackJournal); err != nil {
		x.close()
		fail(err)
		return
	}
	ready()
	w.loop(ctx, &txState{x: x})
	t0 := time.Now()
	defer func() { debugf("writer close: %v", time.Since(t0)) }()
	// The rows are all written: have the kernel flush them while the
	// indexes are built (CPU work), so that the durable sync at the end
	// waits only for the index pages (1M access-log lines: close 0.95-
	// 1.07 s against 1.35-1.54 s; the flush during the load itself was
	// measured to slow the inserts down).
	early := make(chan error, 1)
	if rollbackJournal {
		go func() { early <- syncFile(w.c.Path) }()
	} else {
		early <- nil
	}
	if w.err == nil {
		// Let SQLite's sorter use a helper thread for the index builds
		// (the parse workers are done by now).
		if _, err := x.exec(ctx, "PRAGMA threads = 2"); err != nil {
			w.err = err
		}
	}
	if w.err == nil {
		// Build what deferIndexes dropped (and what a killed run left
		// unbuilt).
		for _, ix := range bulkIndexes {
			if _, err := x.exec(ctx, ix.create); err != nil {
				w.err = fmt.Errorf("create index %s: %w", ix.name, err)
				break
			}
			debugf("index %s built at %v", ix.name, time.Since(t0))
		}
	}
	// Durable from here. After a load in a rollback journal, the case
	// file and the journal (truncated, not synced, by each commit) are
	// synced from here, which needs no lock; then the case goes back to
	// WAL, its mode at rest. A reader in the middle of a read
	// transaction blocks that switch: after a second the case is left
	// in rollback-journal mode, durable and consistent, and its next
	// open switches it.
	if !rollbackJournal {
		for _, p := range []string{"PRAGMA synchronous = NORMAL", "PRAGMA main.wal_checkpoint(TRUNCATE)"} {
			if _, err := x.exec(ctx, p); err != nil && w.err == nil {
				w.err = fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	x.close()
	if err := <-early; err != nil {
		debugf("early sync: %v", err) // the sync below is the one that counts
	}
	debugf("early sync done at %v", time.Since(t0))
	if !rollbackJournal {
		return
	}
	if err := syncCaseFiles(w.c.Path); err != nil && w.err == nil {
		w.err = fmt.Errorf("sync the case to disk: %w", err)
	}
	debugf("case files synced at %v", time.Since(t0))
	conn.ExecContext(ctx, "PRAGMA busy_timeout = 1000")
	var mode string
	err = conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
	conn.ExecContext(ctx, "PRAGMA busy_timeout = 10000") // as Open sets it
	// Not "wal" here is the blocked switch described above.
	debugf("journal_mode = WAL: %q %v at %v", mode, err, time.Since(t0))
	if mode == "wal" {
		if _, err := conn.ExecContext(ctx, "PRAGMA main.wal_checkpoint(TRUNCATE)"); err != nil && w.err == nil {
			w.err = fmt.Errorf("PRAGMA main.wal_checkpoint(TRUNCATE): %w", err)
		}
	}
}

// drain answers every message with the writer's error, for a writer that
// could not start.
func (w *Writer) drain() {
	for m := range w.ch {
		if m.reply != nil {
			m.reply <- w.err
		}
		if m.item != nil && m.item.Done != nil {
			m.item.Done()
		}
	}
}

// switchToRollbackJournal switches the case, through its own connection
// conn, to a rollback journal for the load, and reports whether it did.
//
// The load runs with a rollback journal (TRUNCATE) instead of WAL. Pages
// appended past the end of the file are never journalled, so each page of
// the load is written once; in WAL mode every page is written to the log
// and again by the checkpoint (`go test -bench Writer ./store` against
// WAL=1: BenchmarkWriterEvents 9.5-11.7 us per row against 11.0-13.4 in
// WAL, BenchmarkWriterAccess 2.0-2.5 against 2.9-3.7). The price: a
// reader waits while a transaction commits or spills its cache, and the
// writer waits for a reader in the middle of a read transaction. The
// switch needs the case to itself: NewWriter returns only after it, so
// opening other connections afterwards is safe, and run switches back to
// WAL, the case's mode at rest. If another connection already has the
// case open the switch is skipped and the load runs in WAL.
func (w *Writer) switchToRollbackJournal(ctx context.Context, conn *sql.Conn) bool {
	if w.loadInWAL {
		return false
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = TRUNCATE").Scan(&mode); err != nil {
		debugf("journal_mode = TRUNCATE: %v; loading in WAL mode", err)
		return false
	}
	debugf("journal mode for the load: %s", mode)
	return mode == "truncate"
}

// setUp prepares the writer's own connection for a bulk load.
//
// Writes run with synchronous=OFF: a killed process still leaves a
// consistent case (the journal, in the OS's cache, rolls an unfinished
// transaction back on the next open); only an OS crash or power loss
// could lose the load, which run then makes durable.
//
// Foreign keys are not enforced on this connection: every child row the
// writer inserts takes the id of the evidence row it has just inserted in
// the same transaction. Enforced, they make every multi-row insert keep a
// statement journal (a copy of each page it touches, to undo that one
// statement), and the inserts use OR FAIL for the same reason: any failed
// insert rolls the whole transaction back anyway (see loop).
// TestWriterForeignKeys checks the finished case.
func (w *Writer) setUp(ctx context.Context, x *rawConn, rollbackJournal bool) error {
	busy := int64(10000) // as Open sets it
	if rollbackJournal {
		// In a rollback journal a reader in the middle of a read
		// transaction holds the writer's next commit (or cache spill)
		// until it ends, where WAL would not; so the writer waits up to
		// writerBusyWait for such a reader.
		busy = writerBusyWait.Milliseconds()
	}
	pragmas := []string{fmt.Sprintf("PRAGMA busy_timeout = %d", busy)}
	if rollbackJournal {
		// A rollback journal's mode is the connection's own, not the
		// file's.
		pragmas = append(pragmas, "PRAGMA journal_mode = TRUNCATE")
	}
	pragmas = append(pragmas, "PRAGMA synchronous = OFF", "PRAGMA foreign_keys = OFF",
		fmt.Sprintf("PRAGMA cache_size = %d", -caseCacheKiB))
	for _, p := range pragmas {
		if _, err := x.exec(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return deferIndexes(ctx, x)
}

// writerBusyWait is how long the writer waits for readers of the case
// to let it commit during a load (see setUp).
const writerBusyWait = 5 * time.Minute

// syncCaseFiles flushes the case file, its rollback journal (if any) and
// their folder to disk. fsync works on any descriptor of a file, so this
// needs no SQLite lock.
func syncCaseFiles(path string) error {
	for _, p := range []string{path, path + "-journal", filepath.Dir(path)} {
		if err := syncFile(p); err != nil && !(os.IsNotExist(err) && p != path) {
			return err
		}
	}
	return nil
}

func syncFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// bulkIndexes are the secondary indexes of the two big tables, exactly as
// the migrations define them. Maintaining them row by row doubles the cost
// of an insert (BenchmarkWriterEvents: 21-26 us with them, 11 us without),
// while building them once from the finished table is a sort; so a writer
// that starts on an empty table drops its indexes and Close builds them.
// Close creates every missing one, so a killed run's case gets them back
// on the next ingest; until then queries work, only slower.
var bulkIndexes = []struct {
	table, name, create string
	keep                bool // cheap to maintain during the load (keys arrive nearly in order)
}{
	{"ct_events", "ct_events_time", "CREATE INDEX IF NOT EXISTS ct_events_time ON ct_events(event_time)", true},
	{"ct_events", "ct_events_name", "CREATE INDEX IF NOT EXISTS ct_events_name ON ct_events(event_name)", false},
	{"ct_events", "ct_events_source_ip", "CREATE INDEX IF NOT EXISTS ct_events_source_ip ON ct_events(source_ip)", false},
	{"ct_events", "ct_events_principal", "CREATE INDEX IF NOT EXISTS ct_events_principal ON ct_events(principal)", false},
	{"s3_access_lines", "s3_access_lines_time", "CREATE INDEX IF NOT EXISTS s3_access_lines_time ON s3_access_lines(time)", false},
}

// deferIndexes drops the bulk indexes of tables that are still empty.
func deferIndexes(ctx context.Context, x *rawConn) error {
	empty := map[string]bool{}
	for _, ix := range bulkIndexes {
		e, seen := empty[ix.table]
		if !seen {
			_, found, err := x.queryInt(ctx, "SELECT 1 FROM "+ix.table+" LIMIT 1")
			if err != nil {
				return err
			}
			e = !found
			empty[ix.table] = e
		}
		if e && !ix.keep {
			if _, err := x.exec(ctx, "DROP INDEX IF EXISTS "+ix.name); err != nil {
				return fmt.Errorf("defer index %s: %w", ix.name, err)
			}
		}
	}
	return nil
}

func (w *Writer) loop(ctx context.Context, st *txState) {
	commit := func() error {
		if !st.open {
			return nil
		}
		_, err := st.x.exec(ctx, "COMMIT")
		st.open, st.rows = false, 0
		return err
	}
	rollback := func() {
		if st.open {
			st.x.exec(ctx, "ROLLBACK")
			st.open, st.rows = false, 0
		}
	}
	for m := range w.ch {
		if w.err != nil {
			if m.reply != nil {
				m.reply <- w.err
			}
			if m.item != nil && m.item.Done != nil {
				m.item.Done()
			}
			continue
		}
		if m.kind == msgSync {
			if len(w.opened) == 0 {
				w.err = commit()
			}
			m.reply <- w.err
			continue
		}
		if !st.open {
			if _, err := st.x.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
				w.err = fmt.Errorf("begin transaction: %w", err)
				continue
			}
			st.open, st.since = true, time.Now()
		}
		n, err := w.apply(ctx, st, m)
		if m.item != nil && m.item.Done != nil {
			m.item.Done()
		}
		if err != nil {
			w.err = err
			rollback()
			continue
		}
		st.rows += n
		if len(w.opened) == 0 && (st.rows >= w.batchRows || time.Since(st.since) >= w.maxDelay) {
			if err := commit(); err != nil {
				w.err = fmt.Errorf("commit: %w", err)
			}
		}
	}
	if w.err != nil {
		rollback()
		return
	}
	if len(w.opened) > 0 {
		// Streams never ended (the producer failed): their rows must not
		// be committed as if complete.
		rollback()
		w.err = fmt.Errorf("%d evidence streams were not completed; their items were not recorded", len(w.opened))
		return
	}
	if err := commit(); err != nil {
		w.err = fmt.Errorf("commit: %w", err)
	}
}

func (w *Writer) apply(ctx context.Context, st *txState, m msg) (int, error) {
	switch m.kind {
	case msgItem:
		it := m.item
		if it.Widen != nil {
			return w.widen(ctx, st, it)
		}
		dup, err := w.exists(ctx, st, &it.Evidence)
		if err != nil || dup {
			if dup {
				w.stats.Duplicates++
			}
			return 0, err
		}
		id, err := w.insertEvidence(ctx, st, it)
		if err != nil {
			return 0, err
		}
		n, err := w.insertRows(ctx, st, id, it)
		if err == nil && len(it.Events) > 0 {
			err = w.recordEventsHash(ctx, st, id, it)
		}
		return n, err
	case msgBegin:
		if wd := m.item.Widen; wd != nil {
			mark, _, err := st.x.queryInt(ctx, "SELECT coalesce(max(id), 0) FROM ct_events")
			if err != nil {
				return 0, err
			}
			w.opened[m.stream] = wd.ID
			w.widening[m.stream] = streamWiden{w: *wd, mark: mark}
			return 0, nil
		}
		id, err := w.insertEvidence(ctx, st, m.item)
		if err != nil {
			return 0, err
		}
		w.opened[m.stream] = id
		return 0, nil
	case msgRows:
		id, ok := w.opened[m.stream]
		if !ok {
			return 0, fmt.Errorf("rows for unknown stream %d", m.stream)
		}
		return w.insertRows(ctx, st, id, m.item)
	case msgEnd:
		id, ok := w.opened[m.stream]
		if !ok {
			return 0, fmt.Errorf("end of unknown stream %d", m.stream)
		}
		delete(w.opened, m.stream)
		if sw, ok := w.widening[m.stream]; ok {
			delete(w.widening, m.stream)
			return w.endWiden(ctx, st, sw, m.item)
		}
		ev := &m.item.Evidence
		_, found, err := st.x.queryInt(ctx, "SELECT id FROM evidence WHERE "+sameItem+" AND id <> ?",
			ev.Path, ev.Member, ev.SHA256, EncodeMemberIndex(ev.MemberIndex), id)
		if err != nil {
			return 0, err
		}
		if found {
			// Already in the case: take the stream's rows out again.
			for _, q := range []string{
				"DELETE FROM s3_access_lines WHERE evidence_id = ?",
				"DELETE FROM ct_events WHERE evidence_id = ?",
				"DELETE FROM s3_object_parts WHERE meta_id IN (SELECT id FROM s3_object_meta WHERE evidence_id = ?)",
				"DELETE FROM s3_object_meta WHERE evidence_id = ?",
			} {
				if _, err := st.x.exec(ctx, q, id); err != nil {
					return 0, err
				}
			}
			if _, err := st.x.exec(ctx, "DELETE FROM evidence WHERE id = ?", id); err != nil {
				return 0, err
			}
			w.stats.Items--
			w.stats.ByKind[m.item.Evidence.Kind]--
			w.stats.Duplicates++
			return 0, nil
		}
		_, err = st.x.exec(ctx, `UPDATE evidence SET size = ?, sha256 = ?, content_sha256 = ?, content_size = ?,
			gzip_trailing = ?, compression = ?, kind = ?, format = ?, record_count = ?, error = ? WHERE id = ?`,
			ev.Size, ev.SHA256, nullStr(ev.ContentSHA256), nullInt(ev.ContentSize, ev.ContentSHA256 != ""),
			b2i(ev.GzipTrailing), ev.Compression, ev.Kind, ev.Format, m.item.RecordCount, nullStr(ev.Error), id)
		if err == nil && m.item.EventsSHA256 != "" {
			_, err = st.x.exec(ctx, "UPDATE evidence SET event_count = ?, events_sha256 = ? WHERE id = ?",
				m.item.EventCount, m.item.EventsSHA256, id)
		}
		if err == nil && m.item.Index != nil {
			err = w.recordIndex(ctx, st, id, m.item.Index)
		}
		return 0, err
	}
	return 0, fmt.Errorf("unknown writer message %d", m.kind)
}

// sameItem selects the evidence rows that are the item (path, member,
// sha256, member_index): the same bytes at the same position of the same
// source. A row recorded before the case kept member_index matches by
// (path, member, sha256) alone, as it did then.
const sameItem = "path = ? AND member = ? AND sha256 = ? AND (member_index = ? OR member_index IS NULL)"

// samePlace selects the evidence rows at the item's place (path,
// member, member_index), whatever their bytes.
const samePlace = "path = ? AND member = ? AND (member_index = ? OR member_index IS NULL)"

// recordEventsHash records the item's event count and per-file event
// hash (see EventsHeaderSQL) on its evidence row.
func (w *Writer) recordEventsHash(ctx context.Context, st *txState, id int64, it *Item) error {
	if it.EventsSHA256 == "" {
		it.EventsSHA256 = HashEvents(it.Events)
	}
	if _, err := st.x.exec(ctx, "UPDATE evidence SET event_count = ?, events_sha256 = ? WHERE id = ?",
		len(it.Events), it.EventsSHA256, id); err != nil {
		return fmt.Errorf("record the events hash of %s %s: %w", it.Evidence.Path, it.Evidence.Member, err)
	}
	return nil
}

func (w *Writer) exists(ctx context.Context, st *txState, ev *Evidence) (bool, error) {
	_, found, err := st.x.queryInt(ctx, "SELECT id FROM evidence WHERE "+sameItem, ev.Path, ev.Member, ev.SHA256, EncodeMemberIndex(ev.MemberIndex))
	return found, err
}

func (w *Writer) insertEvidence(ctx context.Context, st *txState, it *Item) (int64, error) {
	ev := &it.Evidence
	q := `INSERT INTO evidence(source, path, member, size, sha256, content_sha256, content_size,
		gzip_trailing, compression, kind, format, s3_bucket, s3_key, account_id, org_id, region, trail, backfill,
		mode, link_target, mtime, record_count, error, ingested_at, member_path, member_index, name_key,
		events_filter, records_seen, records_indexed)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	var mtime any
	if !ev.ModTime.IsZero() {
		mtime = ev.ModTime.UTC().Format(time.RFC3339Nano)
	}
	rc := it.RecordCount
	if rc == 0 {
		rc = it.rows()
	}
	ix := it.Index
	id, err := st.x.exec(ctx, q, ev.Source, ev.Path, ev.Member, ev.Size, ev.SHA256, nullStr(ev.ContentSHA256),
		nullInt(ev.ContentSize, ev.ContentSHA256 != ""), b2i(ev.GzipTrailing), ev.Compression, ev.Kind, ev.Format,
		nullStr(ev.S3Bucket), nullStr(ev.S3Key), nullStr(ev.Account), nullStr(ev.OrgID), nullStr(ev.Region),
		nullStr(ev.Trail), b2i(ev.Backfill), nullStr(ev.Mode), nullStr(ev.LinkTarget), mtime, rc,
		nullStr(ev.Error), w.c.now(), EncodeMemberPath(ev.MemberPath), EncodeMemberIndex(ev.MemberIndex), ev.NameKey(),
		ix.filter(), ix.seen(), ix.indexed())
	if err != nil {
		return 0, fmt.Errorf("record evidence %s %s: %w", ev.Path, ev.Member, err)
	}
	w.stats.Items++
	w.stats.ByKind[ev.Kind]++
	return id, nil
}

func (w *Writer) insertRows(ctx context.Context, st *txState, id int64, it *Item) (int, error) {
	n := 0
	if len(it.Events) > 0 {
		// Events go eventChunk to a statement (see accessChunk); the rest
		// one at a time.
		evs := it.Events
		for i := 0; i < len(evs); {
			k := eventChunk
			if len(evs)-i < k {
				k = 1
			}
			q := eventInsert
			if k > 1 {
				q = eventInsertChunk
			}
			err := execRows(ctx, st.x, q, evs[i:i+k], (*Event).textSize,
				func(b *binder, e *Event) { bindEvent(b, id, e) })
			if err != nil {
				return n, fmt.Errorf("record events %d-%d: %w", evs[i].RecordIndex, evs[i+k-1].RecordIndex, err)
			}
			i += k
		}
		n += len(it.Events)
	}
	if d := it.Digest; d != nil {
		did, err := st.x.exec(ctx, `INSERT INTO ct_digests(evidence_id, aws_account_id, digest_start_time,
			digest_end_time, digest_s3_bucket, digest_s3_object, digest_public_key_fingerprint,
			digest_signature_algorithm, newest_event_time, oldest_event_time, previous_digest_s3_bucket,
			previous_digest_s3_object, previous_digest_hash_value, previous_digest_hash_algorithm,
			previous_digest_signature, log_file_count, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			id, d.AWSAccountID, d.DigestStartTime, d.DigestEndTime, d.DigestS3Bucket, d.DigestS3Object,
			d.DigestPublicKeyFingerprint, d.DigestSignatureAlgorithm, d.NewestEventTime, d.OldestEventTime,
			d.PreviousDigestS3Bucket, d.PreviousDigestS3Object, d.PreviousDigestHashValue,
			d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature, len(d.LogFiles), d.Raw)
		if err != nil {
			return n, fmt.Errorf("record digest: %w", err)
		}
		q := `INSERT INTO ct_digest_logs(digest_id, idx, s3_bucket, s3_object, hash_value,
			hash_algorithm, newest_event_time, oldest_event_time) VALUES (?,?,?,?,?,?,?,?)`
		for i, l := range d.LogFiles {
			if _, err := st.x.exec(ctx, q, did, i, l.S3Bucket, l.S3Object, l.HashValue, l.HashAlgorithm,
				l.NewestEventTime, l.OldestEventTime); err != nil {
				return n, fmt.Errorf("record digest log entry %d: %w", i, err)
			}
		}
		n += 1 + len(d.LogFiles)
	}
	for _, k := range it.Keys {
		if _, err := st.x.exec(ctx, `INSERT INTO public_keys(evidence_id, fingerprint, listed_fingerprint, der,
			encoding, bits, validity_start, validity_end, region, error) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			id, k.Fingerprint, nullStr(k.ListedFingerprint), k.DER, k.Encoding, k.Bits, nullTime(k.ValidityStart),
			nullTime(k.ValidityEnd), nullStr(k.Region), nullStr(k.Error)); err != nil {
			return n, fmt.Errorf("record public key: %w", err)
		}
		n++
	}
	for i := range it.Metas {
		if err := w.insertMeta(ctx, st, id, &it.Metas[i]); err != nil {
			return n, err
		}
		n++
	}
	if mf := it.Manifest; mf != nil {
		files, _ := json.Marshal(mf.Files)
		if _, err := st.x.exec(ctx, `INSERT INTO s3_inventory_manifests(evidence_id, source_bucket,
			destination_bucket, version, creation_timestamp, file_format, file_schema, files) VALUES (?,?,?,?,?,?,?,?)`,
			id, mf.SourceBucket, mf.DestinationBucket, mf.Version, nullTime(mf.CreationTimestamp), mf.FileFormat,
			mf.FileSchema, string(files)); err != nil {
			return n, fmt.Errorf("record inventory manifest: %w", err)
		}
		n++
	}
	if l := it.Lake; l != nil {
		if l.Sign != nil {
			if _, err := st.x.exec(ctx, `INSERT INTO lake_sign_files(evidence_id, folder, raw) VALUES (?,?,?)`, id, l.Folder, l.Sign); err != nil {
				return n, fmt.Errorf("record lake sign file: %w", err)
			}
		} else {
			var header any
			if l.Header != nil {
				b, _ := json.Marshal(l.Header)
				header = string(b)
			}
			if _, err := st.x.exec(ctx, `INSERT INTO lake_results(evidence_id, folder, header, row_count, error) VALUES (?,?,?,?,?)`,
				id, l.Folder, header, l.Count, nullStr(l.Error)); err != nil {
				return n, fmt.Errorf("record lake result: %w", err)
			}
			for i, r := range l.Rows {
				b, _ := json.Marshal(r)
				if _, err := st.x.exec(ctx, `INSERT INTO lake_rows(evidence_id, row_no, fields) VALUES (?,?,?)`, id, i+1, string(b)); err != nil {
					return n, fmt.Errorf("record lake result row %d: %w", i+1, err)
				}
			}
		}
		n += 1 + len(l.Rows)
	}
	// Most lines parse cleanly and have no unknown fields: they go through
	// a statement without the columns that would be NULL or 0 (every bound
	// value costs the writer a call into SQLite).
	const accessInsert = `INSERT INTO s3_access_lines(evidence_id, line_no, time, spans, fields, field_count, ambiguous, parse_error, extra, raw)
			VALUES (?,?,?,?,?,?,?,?,?,?)`
	insertAccess := func(a *AccessRow) error {
		var err error
		if a.plain() {
			err = st.x.execBound(ctx, accessInsertPlain, a.plainSize(), func(b *binder) { bindPlainAccess(b, id, a) })
		} else {
			_, err = st.x.exec(ctx, accessInsert, id, a.LineNo, nullStr(a.Time), nullStr(a.Spans), nullStr(a.Fields), a.FieldCount,
				b2i(a.Ambiguous), nullStr(a.ParseError), nullStr(a.Extra), a.Raw)
		}
		if err != nil {
			return fmt.Errorf("record access-log line %d: %w", a.LineNo, err)
		}
		return nil
	}
	// Runs of plain lines go accessChunk at a time through one multi-row
	// statement: the per-statement work (opening the cursor, finding the
	// last rowid, ending the statement) is paid once per chunk.
	rows := it.AccessRows
	for i := 0; i < len(rows); {
		if i+accessChunk <= len(rows) && allPlain(rows[i:i+accessChunk]) {
			err := execRows(ctx, st.x, accessInsertChunk, rows[i:i+accessChunk], (*AccessRow).plainSize,
				func(b *binder, a *AccessRow) { bindPlainAccess(b, id, a) })
			if err != nil {
				return n, fmt.Errorf("record access-log lines %d-%d: %w", rows[i].LineNo, rows[i+accessChunk-1].LineNo, err)
			}
			i += accessChunk
			continue
		}
		if err := insertAccess(&rows[i]); err != nil {
			return n, err
		}
		i++
	}
	for i := range it.Access {
		row := it.Access[i].Row()
		if err := insertAccess(&row); err != nil {
			return n, err
		}
	}
	n += len(it.AccessRows) + len(it.Access)
	w.stats.Rows += n
	return n, nil
}

// The multi-row inserts are OR FAIL, not the default ABORT: an ABORT
// statement that writes several rows keeps a statement journal to undo
// itself, where a failed insert ends the whole transaction here anyway
// (see setUp).
const eventInsert = `INSERT OR FAIL INTO ct_events(evidence_id, record_index, event_id, event_time, event_version,
	event_source, event_name, event_type, event_category, aws_region, source_ip, user_agent, principal,
	identity_type, access_key_id, user_name, account_id, recipient_account_id, error_code, error_message,
	request_id, shared_event_id, read_only, management_event, verifiable, raw)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// eventChunk is how many events one multi-row insert writes (26 values
// each).
const eventChunk = 32

var eventInsertChunk = eventInsert + strings.Repeat(",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", eventChunk-1)

// execRows runs the multi-row insert q once for rows: bind binds one
// row's values, size counts its text.
func execRows[T any](ctx context.Context, x *rawConn, q string, rows []T, size func(*T) int, bind func(*binder, *T)) error {
	n := 0
	for i := range rows {
		n += size(&rows[i])
	}
	return x.execBound(ctx, q, n, func(b *binder) {
		for i := range rows {
			bind(b, &rows[i])
		}
	})
}

// bindEvent binds the values of eventInsert for e.
func bindEvent(b *binder, id int64, e *Event) {
	b.int(id)
	b.int(int64(e.RecordIndex))
	for _, v := range [...]string{e.EventID, e.EventTime, e.EventVersion, e.EventSource, e.EventName,
		e.EventType, e.EventCategory, e.AWSRegion, e.SourceIP, e.UserAgent, e.Principal, e.IdentityType,
		e.AccessKeyID, e.UserName, e.AccountID, e.RecipientAccountID, e.ErrorCode, e.ErrorMessage,
		e.RequestID, e.SharedEventID} {
		b.textOrNull(v)
	}
	b.boolOrNull(e.ReadOnly)
	b.boolOrNull(e.ManagementEvent)
	b.int(int64(b2i(e.Verifiable)))
	b.bytesText(e.Raw)
}

// textSize is how many bytes of text bindEvent binds for e.
func (e *Event) textSize() int {
	return len(e.EventID) + len(e.EventTime) + len(e.EventVersion) + len(e.EventSource) + len(e.EventName) +
		len(e.EventType) + len(e.EventCategory) + len(e.AWSRegion) + len(e.SourceIP) + len(e.UserAgent) +
		len(e.Principal) + len(e.IdentityType) + len(e.AccessKeyID) + len(e.UserName) + len(e.AccountID) +
		len(e.RecipientAccountID) + len(e.ErrorCode) + len(e.ErrorMessage) + len(e.RequestID) +
		len(e.SharedEventID) + len(e.Raw)
}

// accessChunk is how many plain access-log lines one multi-row insert
// writes (6 values each).
const accessChunk = 64

const accessInsertPlain = `INSERT OR FAIL INTO s3_access_lines(evidence_id, line_no, time, spans, field_count, raw) VALUES (?,?,?,?,?,?)`

var accessInsertChunk = accessInsertPlain + strings.Repeat(",(?,?,?,?,?,?)", accessChunk-1)

// plain reports whether the line can go through accessInsertPlain: none
// of the columns it leaves out would be set.
func (a *AccessRow) plain() bool {
	return a.Fields == "" && !a.Ambiguous && a.ParseError == "" && a.Extra == ""
}

// bindPlainAccess binds the values of accessInsertPlain for a.
func bindPlainAccess(b *binder, id int64, a *AccessRow) {
	b.int(id)
	b.int(int64(a.LineNo))
	b.textOrNull(a.Time)
	b.textOrNull(a.Spans)
	b.int(int64(a.FieldCount))
	b.text(a.Raw)
}

// plainSize is how many bytes of text bindPlainAccess binds for a.
func (a *AccessRow) plainSize() int { return len(a.Time) + len(a.Spans) + len(a.Raw) }

func allPlain(rows []AccessRow) bool {
	for i := range rows {
		if !rows[i].plain() {
			return false
		}
	}
	return true
}

var checksumColumns = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"}

func (w *Writer) insertMeta(ctx context.Context, st *txState, id int64, m *ObjectMeta) error {
	cs := make([]any, len(checksumColumns))
	for i, a := range checksumColumns {
		cs[i] = nullStr(m.Checksums[a])
	}
	var um any
	if len(m.UserMetadata) > 0 {
		b, _ := json.Marshal(m.UserMetadata)
		um = string(b)
	}
	var parts any
	if m.PartsCount != nil {
		parts = *m.PartsCount
	}
	var size any
	if m.Size != nil {
		size = *m.Size
	}
	args := []any{id, m.Source, m.Bucket, m.Key, nullStr(m.VersionID), nullBool(m.IsLatest), b2i(m.DeleteMarker),
		size, nullStr(m.ETag), nullTime(m.LastModified)}
	args = append(args, cs...)
	args = append(args, nullStr(m.ChecksumType), nullStr(strings.Join(m.Algorithms, ",")), nullStr(m.StorageClass),
		nullStr(m.SSE), nullStr(m.SSECustomer), nullStr(m.KMSKeyID), parts, nullBool(m.Multipart), um,
		nullStr(m.ObjectPath))
	mid, err := st.x.exec(ctx, `INSERT INTO s3_object_meta(evidence_id, source, bucket, key, version_id,
		is_latest, delete_marker, size, etag, last_modified, checksum_crc32, checksum_crc32c, checksum_crc64nvme,
		checksum_sha1, checksum_sha256, checksum_sha512, checksum_md5, checksum_xxhash64, checksum_xxhash3,
		checksum_xxhash128, checksum_type, algorithms, storage_class, sse, sse_customer, kms_key_id, parts_count,
		multipart, user_metadata, object_path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	if err != nil {
		return fmt.Errorf("record object metadata %s: %w", m.Key, err)
	}
	for _, p := range m.Parts {
		b, _ := json.Marshal(p.Checksums) // map keys come out sorted
		var psize any
		if p.Size != nil {
			psize = *p.Size
		}
		if _, err := st.x.exec(ctx, "INSERT OR REPLACE INTO s3_object_parts(meta_id, part_number, size, checksums) VALUES (?,?,?,?)",
			mid, p.PartNumber, psize, string(b)); err != nil {
			return fmt.Errorf("record object part %d: %w", p.PartNumber, err)
		}
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return b2i(*b)
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// debugf prints timing details when FORENSIC_DEBUG is set.
func debugf(format string, a ...any) {
	if os.Getenv("FORENSIC_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "debug: "+format+"\n", a...)
	}
}

// filter, seen and indexed are the values of evidence.events_filter,
// records_seen and records_indexed for x (all NULL for an item that is
// not a log file).
func (x *EventIndex) filter() any {
	if x == nil {
		return nil
	}
	return nullStr(x.Filter)
}

func (x *EventIndex) seen() any {
	if x == nil || x.Seen < 0 {
		return nil
	}
	return x.Seen
}

func (x *EventIndex) indexed() any {
	if x == nil {
		return nil
	}
	return x.Indexed
}
