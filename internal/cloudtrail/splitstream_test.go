package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

type splitOutcome struct {
	format string
	recs   []string
	err    string
}

func splitOut(content []byte) splitOutcome {
	format, recs, err := splitAll(content)
	o := splitOutcome{format: format, recs: recs}
	if err != nil {
		o.err = err.Error()
	}
	return o
}

// streamOut runs SplitStream over content read n bytes at a time, the first
// head bytes given in buf, with windows of w bytes.
func streamOut(t testing.TB, content []byte, head, n, w, maxRecord int) splitOutcome {
	head = min(head, len(content))
	buf := make([]byte, head, head+w)
	copy(buf, content)
	var o splitOutcome
	format, err := SplitStream(chunkReader{bytes.NewReader(content[head:]), n}, buf, StreamOptions{MaxRecord: maxRecord, Window: w},
		func(format string, idx int, raw []byte) error {
			if idx != len(o.recs) {
				t.Fatalf("index %d, want %d", idx, len(o.recs))
			}
			o.format = format
			o.recs = append(o.recs, string(raw))
			return nil
		})
	if o.recs != nil && o.format != format {
		t.Fatalf("records emitted as %q, SplitStream returned %q", o.format, format)
	}
	o.format = format
	if err != nil {
		o.err = err.Error()
	}
	return o
}

// streamShapes are the (head, read size, window) shapes every input is
// split with: windows far smaller than a record, and reads of one byte.
var streamShapes = [][3]int{{0, 1, 1}, {0, 1, 7}, {3, 5, 2}, {1, 3, 16}, {0, 64, 64}, {10, 1 << 20, 1 << 20}}

// TestSplitStreamMatchesSplit: the same records, format and error as Split
// for every case of TestSplit and the corpus, however the content is cut.
func TestSplitStreamMatchesSplit(t *testing.T) {
	inputs := []string{
		`{"Records":[{"a":1},{"b":[2,3]}]}`,
		"\xEF\xBB\xBF \r\n\t{\"Records\":[ {\"a\":1} , {\"b\":2} ]}  \n",
		`{"x":{"Records":[{"no":1}]},"Records":[{"a":1}],"y":[1,{"z":null}],"n":12345}`,
		`{"n":12345,"Records":[{"a":1}],"m":-1.5e+3}`,
		`{"Records":[{"s":"\"}]"},{"t":"\\","u":"\u00e9\/\b\f\n\r\t"}]}`,
		"[\n   {\n      \"a\": 1\n   },\n   {\"b\":2}\n]\n",
		"\n\n{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}",
		"{\"a\":1}\n{\"b\":2}\n{\"c\":3} {\"d\":4}",
		"\n{\"a\":1}\n\n[1]",
		`{}`, `[]`, ``, "\xEF\xBB\xBF  ", "hello", `{"Records":[{"a":1},{"b":"xy`, `{"Records":[{"a":1}`,
		`{"Records":[{"a":1}]`, `{"Records":[{"a":1},2]}`, `{"Records":{"a":1}}`, `{"x":1,`,
		`{"Records":[{"a":1}],"Records":[{"b":1}]}`, `{"Records":[{"a":1}]}x`, `{"Records":[]}{"Records":[]}`,
		`[{"a":1},]`, `[1,2]`, `{"Records":[{"a":"\x"}]}`, `{"Records":[{"a":"\u12G4"}]}`, `{"Records":[{"a":"\u12`,
		"{\"Records\":[{\"a\":\"x\ny\"}]}", `{"Records":[{"a":01}]}`, `{"Records":[{"a":nul}]}`, `{"Records":[{"a":tr`,
		`{"Records":[{"a" 1}]}`, `{"Records":[{a:1}]}`, `{"Records":[{"a":[1}]}`, `{'Records':[]}`, `{"a"`, `{"a":`,
		`{"a\u0041":1}`, `{"a\q":1}`, `[{"a":1}`, `[{"a":1} x`, `{"Records":[{"a":1} x`, `{"Records":[{"a":1}] x`,
		`{"x":1 "y":2}`, `{"x":1.}`, `{"x":1e}`, `{"x":-}`, `{"x":"\`,
		"2024-03-04T10:00:00.123Z {\"a\":1}\n2024-03-04T10:00:01.000Z  {\"b\":2}\r\n\n1709546402000\t{\"c\":3}\n",
		"2024-03-04T10:00:00Z {\"a\":1} 2024-03-04T10:00:00Z {\"b\":2}", "2024-03-04T10:00:00Z {\"a\":1}\n{\"b\":2}",
		"2024-03-04T10:00:00Z{\"a\":1}", strings.Repeat("1", 41) + " {}", strings.Repeat("1", 40) + " {}", "2024-03-04T10:00:00Z hello",
		"2024-03-04T10:00:00Z ", "2024-03-04T10:00:00Z {\"a\":", "12", "1 {}\n\n\n2 x", "1" + strings.Repeat(" ", 100) + "{}\n2 {}",
	}
	for _, f := range corpusFiles(t, "invictus-aws-dataset/CloudTrail/*.json")[:3] {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		want := splitOut([]byte(in))
		for _, sh := range streamShapes {
			got := streamOut(t, []byte(in), sh[0], sh[1], sh[2], len(in)+1)
			require.Equal(t, want, got, "%q cut as %v", head([]byte(in)), sh)
		}
	}
}

// TestSplitStreamRecordCap: a record over the cap ends the split there, the
// records before it emitted; one at the cap passes; so does the whitespace
// between records, however long.
func TestSplitStreamRecordCap(t *testing.T) {
	rec := func(n int) string { return `{"a":"` + strings.Repeat("x", n-8) + `"}` }
	content := `{"Records":[` + rec(100) + "," + rec(101) + "," + rec(10) + `]}`
	got := streamOut(t, []byte(content), 0, 7, 16, 100)
	assert.Equal(t, []string{rec(100)}, got.recs)
	assert.Equal(t, "record 1 at byte offset 113 is larger than the cap of 100 bytes per record", got.err)

	spaced := `{"Records":[` + rec(50) + strings.Repeat(" ", 10000) + "," + strings.Repeat("\n", 10000) + rec(50) + `]}`
	got = streamOut(t, []byte(spaced), 0, 64, 64, 50)
	assert.Equal(t, "", got.err)
	assert.Len(t, got.recs, 2)

	// The top-level object is kept whole until its "Records" key.
	prefix := `{"x":"` + strings.Repeat("y", 200) + `","Records":[` + rec(10) + `]}`
	got = streamOut(t, []byte(prefix), 0, 64, 64, 100)
	assert.Equal(t, "top-level value at byte offset 0 is larger than the cap of 100 bytes per record", got.err)
	// NDJSON lines are records too.
	nd := rec(20) + "\n" + rec(200) + "\n"
	got = streamOut(t, []byte(nd), 0, 64, 64, 100)
	assert.Equal(t, []string{rec(20)}, got.recs)
	var tl *RecordTooLargeError
	_, err := SplitStream(strings.NewReader(nd), nil, StreamOptions{MaxRecord: 100, Window: 64}, func(string, int, []byte) error { return nil })
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, RecordTooLargeError{Index: 1, Offset: 21, Cap: 100}, *tl)
}

// TestSplitStreamReadError: an error reading the content is returned as
// is, whatever was concluded from the bytes before it.
func TestSplitStreamReadError(t *testing.T) {
	boom := errors.New("boom")
	content := `{"Records":[{"a":1},{"b":2}]}`
	for cut := 0; cut < len(content); cut++ {
		r := io.MultiReader(strings.NewReader(content[:cut]), iotest.ErrReader(boom))
		_, err := SplitStream(r, nil, StreamOptions{MaxRecord: 1 << 10, Window: 4}, func(string, int, []byte) error { return nil })
		assert.ErrorIs(t, err, boom, "cut at %d", cut)
	}
}

// TestSplitStreamRawStays: records emitted earlier are not overwritten by
// later windows.
func TestSplitStreamRawStays(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"pad":"%s"}`, i, strings.Repeat("p", i%37))
	}
	b.WriteString(`]}`)
	var raws [][]byte
	_, err := SplitStream(chunkReader{strings.NewReader(b.String()), 13}, nil, StreamOptions{MaxRecord: 1 << 10, Window: 100},
		func(_ string, _ int, raw []byte) error { raws = append(raws, raw); return nil })
	require.NoError(t, err)
	_, want, err := splitAll([]byte(b.String()))
	require.NoError(t, err)
	require.Len(t, raws, len(want))
	for i := range raws {
		require.Equal(t, want[i], string(raws[i]), "record %d", i)
	}
}

// FuzzSplitStream: SplitStream agrees with Split on any content, cut into
// windows and reads of any size.
func FuzzSplitStream(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"a":1},{"b":[2,3]}]}`,
		"\xEF\xBB\xBF[{\"a\":\"\\\"}]\"}]",
		"{\"a\":1}\n{\"b\":2}\n",
		`{"x":1,"Records":[{"eventVersion":"1.08","eventTime":"2020-01-01T00:00:00Z"}],"y":2}`,
		`{"Records":[{"a":1},`, `[]`, `{}`, `x`, "\n\n{\"a\":1}\n\n{\"b\":2} {\"c\":3}",
		"2024-03-04T10:00:00.123Z {\"a\":1}\n1709546402000  {\"b\":[2]}\n",
	} {
		f.Add([]byte(s), uint8(0), uint8(1), uint8(3))
	}
	f.Fuzz(func(t *testing.T, content []byte, head, n, w uint8) {
		want := splitOut(content)
		got := streamOut(t, content, int(head), int(n)+1, int(w)+1, len(content)+1)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Fatalf("SplitStream(%q) = %+v, Split = %+v", content, got, want)
		}
	})
}
