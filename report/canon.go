package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
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

// value writes v: nil, bool, string, the integer types, json.Number,
// json.RawMessage (re-encoded canonically), a json.Marshaler (its JSON
// re-encoded canonically), or a struct, pointer, slice or map[string]T of
// those. A struct is an
// object of its fields named by their json tags (omitempty and omitzero
// as encoding/json has them), in key order; a nil pointer or interface
// is null, a nil slice [] and a nil map {}.
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
		c.rawJSON(t)
	case map[string]any:
		c.object(t)
	case []any:
		writeArray(c, t, c.value)
	case []string:
		writeArray(c, t, c.str)
	default:
		c.reflectValue(reflect.ValueOf(v))
	}
}

// rawJSON writes the JSON value b canonically; empty is null.
func (c *canonWriter) rawJSON(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		c.raw("null")
		return
	}
	d, err := decodeJSON(b)
	if err != nil {
		c.err = fmt.Errorf("canonical json: %w", err)
		return
	}
	c.value(d)
}

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	rawType       = reflect.TypeFor[json.RawMessage]()
)

func (c *canonWriter) reflectValue(v reflect.Value) {
	if c.err != nil {
		return
	}
	if !v.IsValid() {
		c.raw("null")
		return
	}
	t := v.Type()
	if t == rawType {
		c.rawJSON(v.Bytes())
		return
	}
	if t.Implements(marshalerType) && (t.Kind() != reflect.Pointer || !v.IsNil()) {
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			c.err = fmt.Errorf("canonical json: %s: %w", t, err)
			return
		}
		c.rawJSON(b)
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		c.raw(strconv.FormatBool(v.Bool()))
	case reflect.String:
		c.str(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.raw(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		c.raw(strconv.FormatUint(v.Uint(), 10))
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			c.raw("null")
			return
		}
		c.reflectValue(v.Elem())
	case reflect.Slice, reflect.Array:
		c.raw("[")
		for i := range v.Len() {
			if i > 0 {
				c.raw(",")
			}
			c.reflectValue(v.Index(i))
		}
		c.raw("]")
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("canonical json: unsupported type %s", t))
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		c.raw("{")
		for i, k := range keys {
			if i > 0 {
				c.raw(",")
			}
			c.str(k)
			c.raw(":")
			c.reflectValue(v.MapIndex(reflect.ValueOf(k).Convert(t.Key())))
		}
		c.raw("}")
	case reflect.Struct:
		c.structValue(v, nil)
	default:
		panic(fmt.Sprintf("canonical json: unsupported type %s", t))
	}
}

// structValue writes the struct v as an object; the members named in
// streams are written by their function instead of from their field.
func (c *canonWriter) structValue(v reflect.Value, streams map[string]func(*canonWriter)) {
	fields := jsonFields(v.Type())
	c.raw("{")
	n, used := 0, 0
	for _, f := range fields {
		fv := v.Field(f.index)
		stream, ok := streams[f.name]
		if !ok && (f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv)) {
			continue
		}
		if n > 0 {
			c.raw(",")
		}
		c.str(f.name)
		c.raw(":")
		if ok {
			used++
			stream(c)
		} else {
			c.reflectValue(fv)
		}
		n++
	}
	c.raw("}")
	if used != len(streams) {
		panic(fmt.Sprintf("canonical json: %s has no member for some of the streams %v", v.Type(), slices.Sorted(maps.Keys(streams))))
	}
}

// jsonField is a struct field as a JSON member.
type jsonField struct {
	name                string
	index               int
	omitEmpty, omitZero bool
}

var fieldCache sync.Map // reflect.Type → []jsonField

// jsonFields lists the exported fields of the struct type t by JSON name,
// sorted by name. Every exported field must have a json tag, and none may
// be embedded: report.json names each member once, on purpose.
func jsonFields(t reflect.Type) []jsonField {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]jsonField)
	}
	var fs []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, ok := sf.Tag.Lookup("json")
		if !ok || sf.Anonymous {
			panic(fmt.Sprintf("canonical json: field %s.%s has no json tag or is embedded", t, sf.Name))
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := jsonField{name: name, index: i}
		for _, o := range strings.Split(opts, ",") {
			f.omitEmpty = f.omitEmpty || o == "omitempty"
			f.omitZero = f.omitZero || o == "omitzero"
		}
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	for i := 1; i < len(fs); i++ {
		if fs[i].name == fs[i-1].name {
			panic(fmt.Sprintf("canonical json: %s names member %q twice", t, fs[i].name))
		}
	}
	fieldCache.Store(t, fs)
	return fs
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZero is encoding/json's omitzero test: IsZero() when the type has it.
func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
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

// canonicalStream reads one JSON value from r and writes its canonical
// form (without the final newline) to w, holding at most one element of
// an array at a time: objects outside arrays are read token by token and
// must already have their keys in order (sorted is false when some do
// not: then r is not canonical, and what w received is not its canonical
// form); each element of an array is decoded whole and written
// canonically. err is set when r is not one JSON value.
func canonicalStream(r io.Reader, w io.Writer) (sorted bool, err error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	c := newCanonWriter(w)
	s := &canonStream{d: d, c: c, sorted: true}
	tok, err := d.Token()
	if err != nil {
		return false, err
	}
	if err := s.value(tok); err != nil {
		return false, err
	}
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("data after the JSON value")
		}
		return false, err
	}
	return s.sorted, c.flush()
}

type canonStream struct {
	d      *json.Decoder
	c      *canonWriter
	sorted bool
}

// value writes the value that starts with tok.
func (s *canonStream) value(tok json.Token) error {
	switch tok {
	case json.Delim('{'):
		s.c.raw("{")
		last := ""
		for n := 0; s.d.More(); n++ {
			k, err := s.d.Token()
			if err != nil {
				return err
			}
			key := k.(string) // the decoder gives only keys here
			if n > 0 {
				s.c.raw(",")
				if key <= last {
					s.sorted = false
				}
			}
			last = key
			s.c.str(key)
			s.c.raw(":")
			v, err := s.d.Token()
			if err != nil {
				return err
			}
			if err := s.value(v); err != nil {
				return err
			}
		}
		s.c.raw("}")
		_, err := s.d.Token()
		return err
	case json.Delim('['):
		s.c.raw("[")
		for n := 0; s.d.More(); n++ {
			var v any
			if err := s.d.Decode(&v); err != nil {
				return err
			}
			if n > 0 {
				s.c.raw(",")
			}
			s.c.value(v)
		}
		s.c.raw("]")
		_, err := s.d.Token()
		return err
	}
	s.c.value(tok)
	return nil
}
