package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Canonical JSON (report.json): objects with keys sorted by their UTF-8
// bytes, no insignificant white space, strings with only '"', '\\' and
// control characters escaped (\b \f \n \r \t, else \u00XX; invalid UTF-8
// becomes U+FFFD), integers in decimal, no floating-point numbers, and the
// file ends in one newline. Numbers copied from the case keep the text
// they had there.

// canonWriter writes canonical JSON to a buffered writer; the first error
// sticks.
type canonWriter struct {
	w   *bufio.Writer
	err error
}

func newCanonWriter(w io.Writer) *canonWriter { return &canonWriter{w: bufio.NewWriterSize(w, 64<<10)} }

func (c *canonWriter) raw(s string) {
	if c.err == nil {
		_, c.err = c.w.WriteString(s)
	}
}

func (c *canonWriter) flush() error {
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}

// obj is an object whose members are written in key order; values are
// anything value accepts, or a func(*canonWriter) that writes one.
type obj map[string]any

// value writes v: nil, bool, string, the integer types, json.Number,
// json.RawMessage (re-encoded canonically), obj, map[string]any,
// map[string]string, map[string]int, []any, []string, []obj,
// []map[string]any or func(*canonWriter).
func (c *canonWriter) value(v any) {
	if c.err != nil {
		return
	}
	switch t := v.(type) {
	case nil:
		c.raw("null")
	case bool:
		c.raw(strconv.FormatBool(t))
	case string:
		c.str(t)
	case int:
		c.raw(strconv.Itoa(t))
	case int64:
		c.raw(strconv.FormatInt(t, 10))
	case json.Number:
		c.raw(t.String())
	case json.RawMessage:
		if len(bytes.TrimSpace(t)) == 0 {
			c.raw("null")
			return
		}
		d, err := decodeJSON(t)
		if err != nil {
			c.err = fmt.Errorf("canonical json: %w", err)
			return
		}
		c.value(d)
	case func(*canonWriter):
		t(c)
	case obj:
		c.object(map[string]any(t))
	case map[string]any:
		c.object(t)
	case map[string]string:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = v
		}
		c.object(m)
	case map[string]int:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = v
		}
		c.object(m)
	case []any:
		writeArray(c, t, c.value)
	case []string:
		writeArray(c, t, c.str)
	case []obj:
		writeArray(c, t, func(e obj) { c.object(e) })
	case []map[string]any:
		writeArray(c, t, c.object)
	default:
		panic(fmt.Sprintf("canonical json: unsupported type %T", v))
	}
}

func (c *canonWriter) object(m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c.raw("{")
	for i, k := range keys {
		if i > 0 {
			c.raw(",")
		}
		c.str(k)
		c.raw(":")
		c.value(m[k])
	}
	c.raw("}")
}

const hexDigits = "0123456789abcdef"

func (c *canonWriter) str(s string) {
	if c.err != nil {
		return
	}
	w := c.w
	w.WriteByte('"')
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\':
				w.WriteByte('\\')
				w.WriteByte(b)
			case b >= 0x20:
				w.WriteByte(b)
			case b == '\n':
				w.WriteString(`\n`)
			case b == '\r':
				w.WriteString(`\r`)
			case b == '\t':
				w.WriteString(`\t`)
			case b == '\b':
				w.WriteString(`\b`)
			case b == '\f':
				w.WriteString(`\f`)
			default:
				w.WriteString(`\u00`)
				w.WriteByte(hexDigits[b>>4])
				w.WriteByte(hexDigits[b&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.WriteString("\ufffd")
		} else {
			w.WriteString(s[i : i+size])
		}
		i += size
	}
	_, c.err = w.Write([]byte{'"'})
}

// decodeJSON parses one JSON value keeping numbers as json.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// Canonical re-encodes the JSON value b canonically (without the final
// newline).
func Canonical(b []byte) ([]byte, error) {
	v, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	c := newCanonWriter(&out)
	c.value(v)
	if err := c.flush(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// writeArray writes xs as a JSON array, each element with elem.
func writeArray[T any](c *canonWriter, xs []T, elem func(T)) {
	c.raw("[")
	for i, e := range xs {
		if i > 0 {
			c.raw(",")
		}
		elem(e)
	}
	c.raw("]")
}
