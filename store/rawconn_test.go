package store

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRawConn(t *testing.T) *rawConn {
	t.Helper()
	x, err := openRawConn(openTemp(t).Path)
	require.NoError(t, err)
	t.Cleanup(x.close)
	return x
}

// TestRawConnValues round-trips every argument type through a table and
// reads each back with its SQLite type: "" is empty text and an empty
// non-nil slice an empty blob, not NULL.
func TestRawConnValues(t *testing.T) {
	ctx := context.Background()
	x := newRawConn(t)
	_, err := x.exec(ctx, "CREATE TABLE v (id INTEGER PRIMARY KEY, a ANY) STRICT")
	require.NoError(t, err)
	s := "pointed"
	big := strings.Repeat("x", 3<<20) // larger than the initial buffer
	cases := []struct {
		in       any
		typ      string
		want     any
		wantText string
	}{
		{nil, "null", nil, ""},
		{int64(-7), "integer", int64(-7), "-7"},
		{42, "integer", int64(42), "42"},
		{true, "integer", int64(1), "1"},
		{false, "integer", int64(0), "0"},
		{2.5, "real", 2.5, "2.5"},
		{"", "text", "", ""},
		{"héllo\x00wörld", "text", "héllo\x00wörld", "héllo\x00wörld"},
		{"\xff\xfe not UTF-8", "text", "\xff\xfe not UTF-8", "\xff\xfe not UTF-8"},
		{&s, "text", s, s},
		{(*string)(nil), "null", nil, ""},
		{[]byte{}, "blob", []byte{}, ""},
		{[]byte{0, 1, 2}, "blob", []byte{0, 1, 2}, "\x00\x01\x02"},
		{[]byte(nil), "null", nil, ""},
		{big, "text", big, big},
		{"small after big", "text", "small after big", "small after big"},
	}
	for i, c := range cases {
		id, err := x.exec(ctx, "INSERT INTO v(a) VALUES (?)", c.in)
		require.NoError(t, err, "case %d", i)
		assert.Equal(t, int64(i+1), id, "case %d: last insert id", i)
		typ, err := x.queryText(ctx, "SELECT typeof(a) FROM v WHERE id = ?", id)
		require.NoError(t, err)
		assert.Equal(t, c.typ, typ, "case %d", i)
		got, found, err := x.queryValue(ctx, "SELECT a FROM v WHERE id = ?", id)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, c.want, got, "case %d", i)
		text, err := x.queryText(ctx, "SELECT CAST(a AS TEXT) FROM v WHERE id = ?", id)
		require.NoError(t, err)
		assert.Equal(t, c.wantText, text, "case %d", i)
	}
	// Many values in one statement, each bound from the shared buffer.
	_, err = x.exec(ctx, "INSERT INTO v(a) VALUES (?), (?), (?), (?)", "one", "two", []byte("three"), "four")
	require.NoError(t, err)
	got, err := x.queryText(ctx, "SELECT group_concat(CAST(a AS TEXT), ',') FROM (SELECT a FROM v ORDER BY id DESC LIMIT 4)")
	require.NoError(t, err)
	assert.Equal(t, "four,three,two,one", got)

	n, found, err := x.queryInt(ctx, "SELECT count(*) FROM v")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, int64(len(cases)+4), n)
	_, found, err = x.queryInt(ctx, "SELECT id FROM v WHERE id < 0")
	require.NoError(t, err)
	assert.False(t, found)
}

// TestRawConnErrors checks that misuse and SQLite's own errors are
// reported with what went wrong, and that the connection goes on working.
func TestRawConnErrors(t *testing.T) {
	ctx := context.Background()
	x := newRawConn(t)
	_, err := x.exec(ctx, "CREATE TABLE u (a TEXT NOT NULL UNIQUE)")
	require.NoError(t, err)

	_, err = x.exec(ctx, "INSERT INTO u(a) VALUES (?)")
	assert.ErrorContains(t, err, "statement takes 1 arguments, got 0")
	_, err = x.exec(ctx, "INSERT INTO u(a) VALUES (?)", struct{}{})
	assert.ErrorContains(t, err, "argument 1: unsupported type struct {}")
	_, err = x.exec(ctx, "SELECT * FROM nowhere")
	assert.ErrorContains(t, err, "no such table: nowhere")
	_, err = x.exec(ctx, "SELECT 1; SELECT 2")
	assert.ErrorContains(t, err, "one statement at a time")
	_, err = x.exec(ctx, "SELECT 1;  ")
	assert.NoError(t, err, "a trailing semicolon is one statement")

	_, err = x.exec(ctx, "INSERT INTO u(a) VALUES (?)", "k")
	require.NoError(t, err)
	_, err = x.exec(ctx, "INSERT INTO u(a) VALUES (?)", "k")
	assert.ErrorContains(t, err, "UNIQUE constraint failed: u.a")
	_, err = x.exec(ctx, "INSERT INTO u(a) VALUES (?)", nil)
	assert.ErrorContains(t, err, "NOT NULL constraint failed: u.a")
	// The failed statements were reset: the next ones run.
	_, err = x.exec(ctx, "INSERT INTO u(a) VALUES (?)", "l")
	require.NoError(t, err)
	n, _, err := x.queryInt(ctx, "SELECT count(*) FROM u")
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = x.exec(cctx, "SELECT 1")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRawConnExecBound(t *testing.T) {
	ctx := context.Background()
	x := newRawConn(t)
	_, err := x.exec(ctx, "CREATE TABLE b (i INTEGER, t TEXT, n TEXT, r TEXT, f INTEGER)")
	require.NoError(t, err)
	yes := true
	fill := func(b *binder) {
		b.int(7)
		b.text("")
		b.textOrNull("")
		b.bytesText([]byte(`{"raw":1}`))
		b.boolOrNull(&yes)
	}
	require.NoError(t, x.execBound(ctx, "INSERT INTO b VALUES (?,?,?,?,?)", 9, fill))
	empty, err := x.queryText(ctx, "SELECT typeof(?)", "") // exec's path
	require.NoError(t, err)
	assert.Equal(t, "text", empty)
	require.NoError(t, x.execBound(ctx, "INSERT INTO b(r) VALUES (?)", 0, func(b *binder) { b.bytesText([]byte{}) }))
	typ, err := x.queryText(ctx, "SELECT typeof(r) FROM b WHERE i IS NULL")
	require.NoError(t, err)
	assert.Equal(t, "text", typ, "empty bytes bind empty text, not NULL")
	_, err = x.exec(ctx, "DELETE FROM b WHERE i IS NULL")
	require.NoError(t, err)
	got, err := x.queryText(ctx, "SELECT quote(i)||','||quote(t)||','||quote(n)||','||quote(r)||','||quote(f) FROM b")
	require.NoError(t, err)
	assert.Equal(t, `7,'',NULL,'{"raw":1}',1`, got)

	// Text past the announced size, or a wrong count, is an error, and
	// nothing is written.
	err = x.execBound(ctx, "INSERT INTO b VALUES (?,?,?,?,?)", 8, fill)
	assert.ErrorContains(t, err, "argument 4: 9 bytes of text past the 8 announced")
	err = x.execBound(ctx, "INSERT INTO b VALUES (?,?,?,?,?)", 9, func(b *binder) { b.int(1) })
	assert.ErrorContains(t, err, "statement takes 5 arguments, got 1")
	n, _, err := x.queryInt(ctx, "SELECT count(*) FROM b")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

// textSize must count every text field bindEvent binds: a field added to
// Event and bound, but not counted, would fail every insert.
func TestEventTextSizeCountsEveryField(t *testing.T) {
	var e Event
	v := reflect.ValueOf(&e).Elem()
	want := 0
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(strings.Repeat("s", i+1))
			want += i + 1
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				f.SetBytes([]byte(strings.Repeat("r", 100)))
				want += 100
			}
		}
	}
	assert.Equal(t, want, e.textSize())
	x := newRawConn(t)
	ctx := context.Background()
	id, err := x.exec(ctx, "INSERT INTO evidence(source, path, kind, ingested_at) VALUES ('s', 'p', 'k', 't')")
	require.NoError(t, err)
	require.NoError(t, x.execBound(ctx, eventInsert, e.textSize(), func(b *binder) { bindEvent(b, id, &e) }))
}

// A statement with megabytes of text grows the argument buffer for its
// own run only.
func TestRawConnBufferGivenBack(t *testing.T) {
	ctx := context.Background()
	x := newRawConn(t)
	_, err := x.exec(ctx, "CREATE TABLE g (t TEXT)")
	require.NoError(t, err)
	_, err = x.exec(ctx, "INSERT INTO g VALUES (?)", "small")
	require.NoError(t, err)
	assert.Equal(t, 64<<10, x.cap)
	huge := strings.Repeat("h", keepBuf+1)
	_, err = x.exec(ctx, "INSERT INTO g VALUES (?)", huge)
	require.NoError(t, err)
	assert.Zero(t, x.cap, "a buffer past keepBuf is freed after its statement")
	require.NoError(t, x.execBound(ctx, "INSERT INTO g VALUES (?)", len(huge), func(b *binder) { b.text(huge) }))
	assert.Zero(t, x.cap)
	n, _, err := x.queryInt(ctx, "SELECT sum(length(t)) FROM g")
	require.NoError(t, err)
	assert.Equal(t, int64(5+2*len(huge)), n)
	_, err = x.exec(ctx, "INSERT INTO g VALUES (?)", "small again")
	require.NoError(t, err)
	assert.Equal(t, 64<<10, x.cap)
}
