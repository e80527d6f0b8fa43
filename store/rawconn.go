package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawConn is the writer's own connection to the case, opened and driven
// through the SQLite library itself (modernc.org/sqlite/lib, the library
// behind the database/sql driver the rest of the package uses), with a
// cache of prepared statements kept for the connection's life.
//
// The driver copies every text argument into a fresh C allocation, binds
// it, and after the statement unbinds and frees it again, each step
// taking the connection's mutex; for a row of 26 values that was a fifth
// of the writer's time. rawConn copies all the text and blob arguments of
// a statement into one reused buffer and binds them in place
// (SQLITE_STATIC), and the connection is opened without its mutex (only
// the writer goroutine uses it). `go test -bench Writer ./store`, three
// runs each: 19.9-23.5 us per event through the driver, 13.5-14.8
// through rawConn, 9.5-11.7 once the raw record was bound from its bytes
// instead of a string copy; access-log lines 4.6-5.0 us through the
// driver, 2.0-2.9 through rawConn. The hot inserts bind from typed fields
// (binder, execBound); exec takes a list of values for the rest.
//
// A rawConn is not safe for concurrent use.
type rawConn struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[string]uintptr
	buf   uintptr // argument bytes of the statement being run
	cap   int
	pp    uintptr // out-parameters of open and prepare (2 x 8 bytes)
}

// openRawConn opens the case file at path read-write. It must already
// exist: the Case that owns it created it and its schema.
func openRawConn(path string) (*rawConn, error) {
	return openRawConnFlags(path, sqlite3.SQLITE_OPEN_READWRITE)
}

func openRawConnFlags(path string, flags int32) (*rawConn, error) {
	x := &rawConn{tls: libc.NewTLS(), stmts: map[string]uintptr{}}
	x.pp = libc.Xmalloc(x.tls, 16)
	if x.pp == 0 {
		x.tls.Close()
		return nil, fmt.Errorf("open %s: out of memory", path)
	}
	name, err := libc.CString(path)
	if err != nil {
		x.close()
		return nil, err
	}
	defer libc.Xfree(x.tls, name)
	rc := sqlite3.Xsqlite3_open_v2(x.tls, name, x.pp, flags|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	x.db = readPtr(x.pp)
	if rc != sqlite3.SQLITE_OK {
		err := x.errorf(rc)
		x.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqlite3.Xsqlite3_extended_result_codes(x.tls, x.db, 1)
	return x, nil
}

func (x *rawConn) close() {
	for _, s := range x.stmts {
		sqlite3.Xsqlite3_finalize(x.tls, s)
	}
	x.stmts = nil
	if x.db != 0 {
		sqlite3.Xsqlite3_close_v2(x.tls, x.db)
		x.db = 0
	}
	for _, p := range []*uintptr{&x.buf, &x.pp} {
		if *p != 0 {
			libc.Xfree(x.tls, *p)
			*p = 0
		}
	}
	x.tls.Close()
}

// errorf describes a failed call the way the driver does: the message of
// the result code, SQLite's message when it says more, and the code.
func (x *rawConn) errorf(rc int32) error {
	if x.db != 0 {
		rc = sqlite3.Xsqlite3_extended_errcode(x.tls, x.db)
	}
	s := libc.GoString(sqlite3.Xsqlite3_errstr(x.tls, rc))
	if x.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(x.tls, x.db)); m != "" && m != s {
			s += ": " + m
		}
	}
	return fmt.Errorf("%s (%d)", s, rc)
}

func (x *rawConn) prepare(q string) (uintptr, error) {
	if s, ok := x.stmts[q]; ok {
		return s, nil
	}
	if x.db == 0 {
		return 0, fmt.Errorf("prepare %q: connection closed", q)
	}
	cq, err := libc.CString(q)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(x.tls, cq)
	rc := sqlite3.Xsqlite3_prepare_v3(x.tls, x.db, cq, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, x.pp, x.pp+8)
	s := readPtr(x.pp)
	if rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("prepare %q: %w", q, x.errorf(rc))
	}
	if s == 0 {
		return 0, fmt.Errorf("prepare %q: no statement", q)
	}
	if rest := q[readPtr(x.pp+8)-cq:]; strings.Trim(rest, " \t\r\n;") != "" {
		sqlite3.Xsqlite3_finalize(x.tls, s)
		return 0, fmt.Errorf("prepare %q: one statement at a time (%q follows)", q, shortSQL(rest))
	}
	x.stmts[q] = s
	return s, nil
}

// reserve makes x.buf hold at least need bytes. Its content is not kept:
// call it before binding anything from it.
func (x *rawConn) reserve(need int) error {
	if need > math.MaxInt32 {
		return fmt.Errorf("arguments of %d bytes: too large", need)
	}
	if need > x.cap {
		c := max(need, 2*x.cap, 64<<10)
		p := libc.Xmalloc(x.tls, uint64(c))
		if p == 0 {
			return fmt.Errorf("arguments of %d bytes: out of memory", need)
		}
		if x.buf != 0 {
			libc.Xfree(x.tls, x.buf)
		}
		x.buf, x.cap = p, c
	}
	return nil
}

// binder binds the values of one statement in parameter order from typed
// Go values, without boxing each into an interface (execBound). Text is
// copied into the connection's buffer, which the caller sized.
type binder struct {
	x   *rawConn
	s   uintptr
	mem []byte
	off int
	n   int32 // parameters bound so far
	err error
}

func (b *binder) check(rc int32) {
	if rc != sqlite3.SQLITE_OK && b.err == nil {
		b.err = fmt.Errorf("argument %d: %w", b.n, b.x.errorf(rc))
	}
}

func (b *binder) int(v int64) {
	b.n++
	b.check(sqlite3.Xsqlite3_bind_int64(b.x.tls, b.s, b.n, v))
}

func (b *binder) null() {
	b.n++
	b.check(sqlite3.Xsqlite3_bind_null(b.x.tls, b.s, b.n))
}

// text binds v as text; "" is empty text, not NULL.
func (b *binder) text(v string) {
	b.n++
	if m, p, ok := b.take(len(v), "text"); ok {
		copy(m, v)
		b.check(sqlite3.Xsqlite3_bind_text(b.x.tls, b.s, b.n, p, int32(len(v)), 0))
	}
}

// take hands out the next n bytes of the statement's buffer (m, at C
// address p) for argument b.n; past the announced size it sets b.err.
func (b *binder) take(n int, what string) (m []byte, p uintptr, ok bool) {
	if n > len(b.mem)-b.off {
		if b.err == nil {
			b.err = fmt.Errorf("argument %d: %d bytes of %s past the %d announced", b.n, n, what, len(b.mem))
		}
		return nil, 0, false
	}
	m, p = b.mem[b.off:b.off+n], b.x.buf+uintptr(b.off)
	b.off += n
	return m, p, true
}

// textOrNull binds "" as NULL, anything else as text.
func (b *binder) textOrNull(v string) {
	if v == "" {
		b.null()
		return
	}
	b.text(v)
}

// bytesText binds v as text (not as a blob).
func (b *binder) bytesText(v []byte) {
	b.text(unsafe.String(unsafe.SliceData(v), len(v)))
}

// boolOrNull binds nil as NULL, true as 1, false as 0.
func (b *binder) boolOrNull(v *bool) {
	if v == nil {
		b.null()
		return
	}
	b.int(int64(b2i(*v)))
}

// blob binds v as a blob; nil is NULL, []byte{} an empty blob.
func (b *binder) blob(v []byte) {
	if v == nil {
		b.null()
		return
	}
	b.n++
	if m, p, ok := b.take(len(v), "blob"); ok {
		copy(m, v)
		b.check(sqlite3.Xsqlite3_bind_blob(b.x.tls, b.s, b.n, p, int32(len(v)), 0))
	}
}

// args binds values of the types exec takes: nil, int64, int, float64,
// bool, string, *string and []byte (nil pointers and slices are NULL).
func (b *binder) args(args []any) {
	for _, a := range args {
		switch t := a.(type) {
		case nil:
			b.null()
		case int64:
			b.int(t)
		case int:
			b.int(int64(t))
		case float64:
			b.n++
			b.check(sqlite3.Xsqlite3_bind_double(b.x.tls, b.s, b.n, t))
		case bool:
			b.int(int64(b2i(t)))
		case string:
			b.text(t)
		case *string:
			if t == nil {
				b.null()
			} else {
				b.text(*t)
			}
		case []byte:
			b.blob(t)
		default:
			if b.err == nil {
				b.err = fmt.Errorf("argument %d: unsupported type %T", b.n+1, a)
			}
			return
		}
	}
}

// argsSize is how many bytes of text and blobs args binds.
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		switch t := a.(type) {
		case string:
			n += len(t)
		case []byte:
			n += len(t)
		case *string:
			if t != nil {
				n += len(*t)
			}
		}
	}
	return n
}

// execBound runs q with the values fill binds, whose text takes at most
// size bytes in all.
func (x *rawConn) execBound(ctx context.Context, q string, size int, fill func(*binder)) error {
	s, _, err := x.run(ctx, q, size, fill)
	if err != nil {
		return err
	}
	x.done(s)
	return nil
}

// run prepares (or finds) q, binds the values fill binds (at most size
// bytes of text and blobs) and steps it once. The caller reads the row,
// if any, then calls done.
func (x *rawConn) run(ctx context.Context, q string, size int, fill func(*binder)) (s uintptr, row bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	s, err = x.prepare(q)
	if err != nil {
		return 0, false, err
	}
	// One byte more than the text, so that "" and []byte{} bind a
	// pointer, not NULL.
	if err := x.reserve(size + 1); err != nil {
		return 0, false, fmt.Errorf("%s: %w", shortSQL(q), err)
	}
	b := binder{x: x, s: s, mem: cmem(x.buf, size)}
	fill(&b)
	if want := sqlite3.Xsqlite3_bind_parameter_count(x.tls, s); b.err == nil && b.n != want {
		b.err = fmt.Errorf("statement takes %d arguments, got %d", want, b.n)
	}
	if b.err != nil {
		x.done(s)
		return 0, false, fmt.Errorf("%s: %w", shortSQL(q), b.err)
	}
	switch rc := sqlite3.Xsqlite3_step(x.tls, s); rc {
	case sqlite3.SQLITE_DONE:
		return s, false, nil
	case sqlite3.SQLITE_ROW:
		return s, true, nil
	default:
		err := x.errorf(rc)
		x.done(s)
		return 0, false, err
	}
}

// done resets s and lets go of its arguments (they point into x.buf).
// A buffer grown past keepBuf for one statement (a record of many MB) is
// given back after it, so one odd item does not hold its size in C
// memory, outside the Go heap limit, for the rest of the load.
func (x *rawConn) done(s uintptr) {
	sqlite3.Xsqlite3_reset(x.tls, s)
	sqlite3.Xsqlite3_clear_bindings(x.tls, s)
	if x.cap > keepBuf {
		libc.Xfree(x.tls, x.buf)
		x.buf, x.cap = 0, 0
	}
}

// keepBuf is the largest argument buffer kept between statements: 32
// events of a few KiB fit many times over.
const keepBuf = 4 << 20

// exec runs a statement and returns the last inserted row id.
func (x *rawConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	s, _, err := x.run(ctx, q, argsSize(args), func(b *binder) { b.args(args) })
	if err != nil {
		return 0, err
	}
	x.done(s)
	return sqlite3.Xsqlite3_last_insert_rowid(x.tls, x.db), nil
}

// queryInt returns the first column of the first row as an integer, and
// whether there was a row.
func (x *rawConn) queryInt(ctx context.Context, q string, args ...any) (int64, bool, error) {
	v, found, err := x.queryValue(ctx, q, args...)
	if err != nil || !found {
		return 0, found, err
	}
	switch v := v.(type) {
	case int64:
		return v, true, nil
	case nil:
		return 0, true, nil
	}
	return 0, true, fmt.Errorf("query %q: column is %T, not an integer", q, v)
}

// queryText returns the first column of the first row as text ("" when
// there is no row).
func (x *rawConn) queryText(ctx context.Context, q string, args ...any) (string, error) {
	v, _, err := x.queryValue(ctx, q, args...)
	switch v := v.(type) {
	case string:
		return v, err
	case []byte:
		return string(v), err
	}
	return "", err
}

// queryValue returns the first column of the first row (nil, int64,
// float64, string or []byte), and whether there was a row.
func (x *rawConn) queryValue(ctx context.Context, q string, args ...any) (any, bool, error) {
	s, row, err := x.run(ctx, q, argsSize(args), func(b *binder) { b.args(args) })
	if err != nil || !row {
		if s != 0 {
			x.done(s)
		}
		return nil, false, err
	}
	defer x.done(s)
	if sqlite3.Xsqlite3_column_count(x.tls, s) == 0 {
		return nil, true, nil
	}
	switch sqlite3.Xsqlite3_column_type(x.tls, s, 0) {
	case sqlite3.SQLITE_INTEGER:
		return sqlite3.Xsqlite3_column_int64(x.tls, s, 0), true, nil
	case sqlite3.SQLITE_FLOAT:
		return sqlite3.Xsqlite3_column_double(x.tls, s, 0), true, nil
	case sqlite3.SQLITE_TEXT:
		p := sqlite3.Xsqlite3_column_text(x.tls, s, 0)
		n := sqlite3.Xsqlite3_column_bytes(x.tls, s, 0)
		return string(cmem(p, int(n))), true, nil
	case sqlite3.SQLITE_BLOB:
		p := sqlite3.Xsqlite3_column_blob(x.tls, s, 0)
		n := sqlite3.Xsqlite3_column_bytes(x.tls, s, 0)
		b := make([]byte, n)
		if n > 0 {
			copy(b, cmem(p, int(n)))
		}
		return b, true, nil
	}
	return nil, true, nil
}

// shortSQL is q cut for an error message.
func shortSQL(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 60 {
		q = q[:60] + "..."
	}
	return q
}

// cmem is the n bytes of C memory (allocated by the SQLite library, never
// by Go) at p.
func cmem(p uintptr, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(nil, p)), n)
}

// readPtr reads the pointer stored in C memory at p.
func readPtr(p uintptr) uintptr { return *(*uintptr)(unsafe.Add(nil, p)) }
