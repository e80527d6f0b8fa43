package report

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"b":1,"a":[true,false,null]}`, `{"a":[true,false,null],"b":1}`},
		{` { "z" : { "y":2, "x":"1" } } `, `{"z":{"x":"1","y":2}}`},
		{`"<script>&\u2028"`, "\"<script>&\u2028\""},
		{`"a\"b\\c\n\t\u0001\u001f\u007f"`, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f\""},
		{`"\ud83d\ude00"`, "\"\U0001F600\""},
		{`12345678901234567890`, `12345678901234567890`},
		{`{"é":1,"e":2,"E":3}`, `{"E":3,"e":2,"é":1}`},
		{`[]`, `[]`},
		{`{}`, `{}`},
	} {
		got, err := Canonical([]byte(tc.in))
		if err != nil {
			t.Errorf("Canonical(%s): %v", tc.in, err)
			continue
		}
		assert.Equal(t, tc.want, string(got), "Canonical(%s)", tc.in)
	}
	for _, bad := range []string{``, `{`, `{"a":1} {"b":2}`, `[1,]`} {
		_, err := Canonical([]byte(bad))
		assert.Error(t, err, "Canonical(%q)", bad)
		_, err = canonicalStream(strings.NewReader(bad), io.Discard)
		assert.Error(t, err, "canonicalStream(%q)", bad)
	}
}

// TestCanonicalStream: canonicalStream writes what Canonical does when
// the keys of the objects it reads token by token are in order, and says
// when they are not; input is canonical exactly when they are and it
// equals what was written.
func TestCanonicalStream(t *testing.T) {
	for _, tc := range []struct {
		in                string
		sorted, canonical bool
	}{
		{`{"a":[true,false,null],"b":1}`, true, true},
		{` { "z" : { "x":"1", "y":2 } } `, true, false},
		{`[{"":1,"a":{}},[],{},"\u00e9",-0,1.5e300]`, true, false},
		{`{"E":3,"e":2,"é":1}`, true, true},
		{`{"b":1,"a":2}`, false, false},
		{`{"a":1,"a":2}`, false, false},
		{`{"a":{"c":1,"b":2}}`, false, false},
		{`[{"a":{"c":1,"b":2}}]`, true, false}, // decoded whole inside the array
		{`[{"a":1,"a":1}]`, true, false},
		{`"x"`, true, true},
	} {
		var b bytes.Buffer
		sorted, err := canonicalStream(strings.NewReader(tc.in), &b)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.sorted, sorted, "canonicalStream(%s) sorted", tc.in)
		assert.Equal(t, tc.canonical, sorted && b.String() == tc.in, "canonicalStream(%s) canonical", tc.in)
		if sorted {
			want, err := Canonical([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, string(want), b.String(), "canonicalStream(%s)", tc.in)
		}
	}
}

func TestCanonInvalidUTF8(t *testing.T) {
	var b bytes.Buffer
	c := newCanonWriter(&b)
	c.value(map[string]any{"k": "a\xffb"})
	assert.NoError(t, c.flush())
	assert.Equal(t, "{\"k\":\"a\ufffdb\"}", b.String())
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,false,null]}`, `"\u0000\ud800"`, `[1.5e300,-0,{"":""}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c1, err := Canonical(b)
		var sb bytes.Buffer
		sorted, serr := canonicalStream(bytes.NewReader(b), &sb)
		if (err == nil) != (serr == nil) {
			t.Fatalf("Canonical(%q): %v, canonicalStream: %v", b, err, serr)
		}
		if err != nil {
			return
		}
		if sorted && !bytes.Equal(sb.Bytes(), c1) {
			t.Fatalf("canonicalStream(%q) = %q, Canonical %q", b, sb.Bytes(), c1)
		}
		if (sorted && bytes.Equal(sb.Bytes(), b)) != bytes.Equal(c1, b) {
			t.Fatalf("canonicalStream(%q) says canonical %v, Canonical says %v", b, sorted && bytes.Equal(sb.Bytes(), b), bytes.Equal(c1, b))
		}
		if !json.Valid(c1) {
			t.Fatalf("Canonical(%q) = %q: not JSON", b, c1)
		}
		c2, err := Canonical(c1)
		if err != nil || !bytes.Equal(c1, c2) {
			t.Fatalf("Canonical not idempotent: %q -> %q -> %q (%v)", b, c1, c2, err)
		}
		var s bytes.Buffer
		sorted, err = canonicalStream(bytes.NewReader(c1), &s)
		if err != nil || !sorted || !bytes.Equal(c1, s.Bytes()) {
			t.Fatalf("canonicalStream(%q) = %q, sorted %v (%v)", c1, s.Bytes(), sorted, err)
		}
	})
}
