package s3meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/forensic-dev/forensic/internal/awstime"
)

// ParseError says where an export is wrong: the file, the byte offset into
// it (of the value at fault, or where the JSON stopped making sense) and,
// when one is to blame, the JSON field path such as
// "ObjectParts.Parts[2].Size".
type ParseError struct {
	Name   string
	Offset int64
	Field  string // empty for syntax errors
	Err    error
}

func (e *ParseError) Error() string {
	s := ""
	if e.Name != "" {
		s = e.Name + ": "
	}
	s += "offset " + strconv.FormatInt(e.Offset, 10) + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reason is what err, returned by Parse or ParseExport for name, says is
// wrong, without name: for callers that print the file's name themselves
// ("offset 36: malformed JSON: unexpected end of input").
func Reason(err error, name string) string {
	var pe *ParseError
	if errors.As(err, &pe) {
		c := *pe
		c.Name = ""
		return c.Error()
	}
	if u := errors.Unwrap(err); u != nil && err.Error() == name+": "+u.Error() {
		return u.Error()
	}
	return err.Error()
}

// value is one raw JSON value and the absolute offset of its first byte.
type value struct {
	raw []byte
	off int64
}

// object is one JSON object with its members in document order. Keys are
// matched exactly (encoding/json would match them case-insensitively, so
// "etag" would count as "ETag") and a key given twice is an error: two
// values for one field is ambiguous evidence.
type object struct {
	path string // field path of this object, "" for a document
	off  int64
	keys []string
	vals map[string]value
}

func fieldErr(path string, off int64, format string, args ...any) error {
	return &ParseError{Offset: off, Field: path, Err: fmt.Errorf(format, args...)}
}

// syntaxErr turns a decoder error into a ParseError at an absolute offset.
func syntaxErr(err error, base int64, size int) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		off := se.Offset
		if off > 0 {
			off--
		}
		return &ParseError{Offset: base + off, Err: fmt.Errorf("malformed JSON: %v", se)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &ParseError{Offset: base + int64(size), Err: errors.New("malformed JSON: unexpected end of input")}
	}
	return &ParseError{Offset: base, Err: fmt.Errorf("malformed JSON: %v", err)}
}

// documents splits data into its top-level JSON values. An export is
// normally one object, but pages of one command appended to one file
// (`>>`) are several objects in a row. Every value must be an object.
func documents(data []byte) ([]*object, error) {
	if i := invalidUTF8(data); i >= 0 {
		return nil, &ParseError{Offset: int64(i), Err: errors.New("invalid UTF-8")}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []*object
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, syntaxErr(err, 0, len(data))
		}
		end := dec.InputOffset()
		o, err := decodeObject(raw, end-int64(len(raw)), "")
		if err != nil {
			return nil, err
		}
		docs = append(docs, o)
	}
	if len(docs) == 0 {
		return nil, &ParseError{Offset: int64(len(data)), Err: errors.New("no JSON document")}
	}
	return docs, nil
}

func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// decodeObject reads the members of the JSON object raw, which starts at
// absolute offset off and has already been checked to be valid JSON (by
// the decoder in documents or Detect), so a plain scanner can split it.
func decodeObject(raw []byte, off int64, path string) (*object, error) {
	if k := kind(raw); k != "object" {
		return nil, fieldErr(path, off, "want object, got %s", k)
	}
	o := &object{path: path, off: off, vals: map[string]value{}}
	sc := scanner{b: raw}
	sc.ws()
	sc.i++ // '{'
	sc.ws()
	for !sc.bad && sc.peek() == '"' {
		ks := sc.i
		sc.str()
		key, err := unquote(sc.slice(ks))
		if err != nil {
			return nil, fieldErr(path, off+int64(ks), "object key: %v", err)
		}
		sc.ws()
		sc.i++ // ':'
		sc.ws()
		vs := sc.i
		sc.value()
		if sc.bad {
			break
		}
		v := value{raw: raw[vs:sc.i], off: off + int64(vs)}
		if _, dup := o.vals[key]; dup {
			return nil, fieldErr(o.field(key), v.off, "key appears more than once")
		}
		o.keys = append(o.keys, key)
		o.vals[key] = v
		sc.ws()
		if sc.peek() == ',' {
			sc.i++
			sc.ws()
		}
	}
	if sc.bad {
		return nil, &ParseError{Offset: off + int64(sc.i), Field: path, Err: errors.New("malformed JSON object")}
	}
	return o, nil
}

// elements splits the valid JSON array raw into its elements.
func elements(raw []byte, off int64, path string) ([]value, error) {
	var out []value
	sc := scanner{b: raw}
	sc.ws()
	sc.i++ // '['
	sc.ws()
	for !sc.bad && sc.peek() != ']' {
		vs := sc.i
		sc.value()
		if sc.bad {
			break
		}
		out = append(out, value{raw: raw[vs:sc.i], off: off + int64(vs)})
		sc.ws()
		if sc.peek() == ',' {
			sc.i++
			sc.ws()
		}
	}
	if sc.bad {
		return nil, &ParseError{Offset: off + int64(sc.i), Field: path, Err: errors.New("malformed JSON array")}
	}
	return out, nil
}

// scanner walks JSON text that is already known to be valid. It still
// checks every index, so a bug cannot turn into a panic: running off the
// end sets bad.
type scanner struct {
	b   []byte
	i   int
	bad bool
}

func (s *scanner) peek() byte {
	if s.i >= len(s.b) {
		s.bad = true
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) slice(from int) []byte {
	if s.bad || s.i > len(s.b) {
		return nil
	}
	return s.b[from:s.i]
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// str skips a string starting at its opening quote.
func (s *scanner) str() {
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
	s.bad = true
}

// value skips one value of any type.
func (s *scanner) value() {
	switch s.peek() {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for !s.bad {
			switch s.peek() {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return
			}
			s.i++
		}
	}
}

// unquote decodes a JSON string literal. Without escapes the bytes are
// taken as they are (valid UTF-8 has been checked by Parse).
func unquote(lit []byte) (string, error) {
	if len(lit) < 2 {
		return "", errors.New("malformed string")
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1]), nil
	}
	var s string
	err := json.Unmarshal(lit, &s)
	return s, err
}

// kind names the JSON type of a valid raw value.
func kind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (o *object) field(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func (o *object) has(key string) bool {
	_, ok := o.vals[key]
	return ok
}

// get returns the member key, treating JSON null like an absent key (AWS
// CLI v2 prints null for some unset members).
func (o *object) get(key string) (value, bool) {
	v, ok := o.vals[key]
	if !ok || kind(v.raw) == "null" {
		return value{}, false
	}
	return v, true
}

func (o *object) wrongType(key, want string) error {
	v := o.vals[key]
	return fieldErr(o.field(key), v.off, "want %s, got %s", want, kind(v.raw))
}

func (o *object) str(key string) (string, bool, error) {
	v, ok := o.get(key)
	if !ok {
		return "", false, nil
	}
	if kind(v.raw) != "string" {
		return "", false, o.wrongType(key, "string")
	}
	s, err := unquote(v.raw)
	if err != nil {
		return "", false, fieldErr(o.field(key), v.off, "%v", err)
	}
	return s, true, nil
}

func (o *object) boolean(key string) (*bool, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	if kind(v.raw) != "boolean" {
		return nil, o.wrongType(key, "boolean")
	}
	b := v.raw[0] == 't'
	return &b, nil
}

// count reads a non-negative integer (a size, a part number, a count).
func (o *object) count(key string) (*int64, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	if kind(v.raw) != "number" {
		return nil, o.wrongType(key, "integer")
	}
	n, err := strconv.ParseInt(string(v.raw), 10, 64)
	if err != nil {
		return nil, fieldErr(o.field(key), v.off, "want integer, got %s", v.raw)
	}
	if n < 0 {
		return nil, fieldErr(o.field(key), v.off, "negative value %d", n)
	}
	return &n, nil
}

// timestamp reads a time as a string (RFC 1123 or ISO 8601) or an epoch
// number, the forms AWS CLI prints (FORMATS.md B.4).
func (o *object) timestamp(key string) (*time.Time, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	var text string
	switch kind(v.raw) {
	case "string":
		s, _, err := o.str(key)
		if err != nil {
			return nil, err
		}
		text = s
	case "number":
		text = string(v.raw)
	default:
		return nil, o.wrongType(key, "timestamp string")
	}
	t, err := awstime.Parse(text)
	if err != nil {
		return nil, fieldErr(o.field(key), v.off, "%v", err)
	}
	return &t, nil
}

func (o *object) object(key string) (*object, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	return decodeObject(v.raw, v.off, o.field(key))
}

// array returns the elements of the array member key.
func (o *object) array(key string) ([]value, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	if kind(v.raw) != "array" {
		return nil, o.wrongType(key, "array")
	}
	return elements(v.raw, v.off, o.field(key))
}

// objects returns the elements of the array member key, each an object.
func (o *object) objects(key string) ([]*object, error) {
	elems, err := o.array(key)
	if err != nil {
		return nil, err
	}
	out := make([]*object, 0, len(elems))
	for i, e := range elems {
		eo, err := decodeObject(e.raw, e.off, fmt.Sprintf("%s[%d]", o.field(key), i))
		if err != nil {
			return nil, err
		}
		out = append(out, eo)
	}
	return out, nil
}

func (o *object) strings(key string) ([]string, error) {
	elems, err := o.array(key)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, e := range elems {
		if kind(e.raw) != "string" {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", o.field(key), i), e.off, "want string, got %s", kind(e.raw))
		}
		s, err := unquote(e.raw)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", o.field(key), i), e.off, "%v", err)
		}
		out = append(out, s)
	}
	return out, nil
}
