package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
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
	}
}

func TestCanonInvalidUTF8(t *testing.T) {
	var b bytes.Buffer
	c := newCanonWriter(&b)
	c.value(obj{"k": "a\xffb"})
	assert.NoError(t, c.flush())
	assert.Equal(t, "{\"k\":\"a\ufffdb\"}", b.String())
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,false,null]}`, `"\u0000\ud800"`, `[1.5e300,-0,{"":""}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c1, err := Canonical(b)
		if err != nil {
			return
		}
		if !json.Valid(c1) {
			t.Fatalf("Canonical(%q) = %q: not JSON", b, c1)
		}
		c2, err := Canonical(c1)
		if err != nil || !bytes.Equal(c1, c2) {
			t.Fatalf("Canonical not idempotent: %q -> %q -> %q (%v)", b, c1, c2, err)
		}
	})
}
