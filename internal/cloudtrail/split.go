package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
)

// Log-file formats reported by Split. They are stored in evidence.format;
// add, never rename.
const (
	FormatRecords = "records" // {"Records":[...]}: the native, verifiable format
	FormatArray   = "array"   // a top-level JSON array of events
	FormatNDJSON  = "ndjson"  // one JSON object per line
	// FormatCloudWatchExport is a CloudWatch Logs export to S3: each line
	// a time stamp, a space and the event's message (a CloudTrail record).
	FormatCloudWatchExport = "cloudwatch_export"
)

// maxStamp bounds the time stamp before each line's record in a
// CloudWatch Logs export ("2024-03-04T10:00:00.123Z" is 24 bytes).
const maxStamp = 40

// stampChar reports whether c may be part of a line's time stamp: the
// characters of an ISO 8601 or RFC 3339 time, or of epoch milliseconds.
func stampChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == ':' || c == '.' || c == '-' || c == '+'
}

// maxDepth bounds the nesting of arrays and objects, counted from the
// value being scanned. It equals encoding/json's limit, so whatever Split
// accepts encoding/json accepts too.
const maxDepth = 10000

// SyntaxError is malformed JSON at a byte offset of the content given to
// Split (offsets count a leading byte-order mark).
type SyntaxError struct {
	Offset int64
	Msg    string

	// The message's parts, so that SplitStream, which scans a window of
	// the content, can restate its offsets from the content's start.
	format string
	args   []any
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte offset %d: %s", e.Offset, e.Msg)
}

// offsetArg is a message argument that is a byte offset.
type offsetArg int

func syntaxErr(off int, format string, args ...any) error {
	return &SyntaxError{Offset: int64(off), Msg: fmt.Sprintf(format, args...), format: format, args: args}
}

// rebase restates a SyntaxError found in a window that starts at offset
// base of the content; other errors are returned as they are.
func rebase(err error, base int) error {
	se, ok := err.(*SyntaxError)
	if !ok || base == 0 {
		return err
	}
	args := make([]any, len(se.args))
	for i, a := range se.args {
		if o, ok := a.(offsetArg); ok {
			a = o + offsetArg(base)
		}
		args[i] = a
	}
	return &SyntaxError{Offset: se.Offset + int64(base), Msg: fmt.Sprintf(se.format, args...), format: se.format, args: args}
}

// Verifiable reports whether records of a Split format carry the exact
// bytes CloudTrail delivered, so that a digest's hashValue can cover them.
func Verifiable(format string) bool { return format == FormatRecords }

// Split walks a CloudTrail log file's decompressed content and calls emit
// for each record with its index and exact bytes: a sub-slice of content,
// never a copy or a re-serialisation.
//
// Formats: FormatRecords for {"Records":[...]} (other top-level keys are
// validated and ignored; a second "Records" key is an error), FormatArray
// for a top-level array of objects, FormatNDJSON for objects separated by
// newlines (blank lines allowed). A top-level object without a "Records"
// key is the first line of an NDJSON file. FormatCloudWatchExport is content
// that starts with a digit: lines of a time stamp (at most maxStamp bytes
// of digits, letters and ":.+-"), spaces and a record, as a CloudWatch Logs
// export task writes them; each record's bytes are the object alone. A
// leading UTF-8 byte-order mark and JSON whitespace are skipped.
//
// All of content is checked against the JSON grammar (RFC 8259; strings
// may hold invalid UTF-8, as encoding/json allows), and every record must
// be an object. Malformed content gives a *SyntaxError naming the byte
// offset; records emitted before it stay emitted. An error from emit stops
// the walk and is returned as is. format is returned whenever it was
// determined, also with an error.
func Split(content []byte, emit func(idx int, raw []byte) error) (format string, err error) {
	s := splitter{b: content, emit: emit}
	i := skipWS(content, skipBOM(content))
	if i >= len(content) {
		return "", syntaxErr(i, "no JSON value")
	}
	switch content[i] {
	case '[':
		end, err := s.elements(i)
		if err != nil {
			return FormatArray, err
		}
		return FormatArray, s.trailing(end)
	case '{':
		return s.object(i)
	default:
		if isDigit(content[i]) {
			return FormatCloudWatchExport, s.stamped(i)
		}
		return "", syntaxErr(i, "want '{' or '[' at start of content, found %s", quoteByte(content[i]))
	}
}

// stampEnd returns the offset of the record after the time stamp and the
// spaces that start the line at i, or -1 with what is wrong.
func stampEnd(b []byte, i int) (int, string) {
	j := i
	for j < len(b) && j-i <= maxStamp && stampChar(b[j]) {
		j++
	}
	switch {
	case j == i || !isDigit(b[i]):
		return -1, "want a time stamp"
	case j-i > maxStamp:
		return -1, fmt.Sprintf("the time stamp is longer than %d bytes", maxStamp)
	case j >= len(b) || (b[j] != ' ' && b[j] != '\t'):
		return -1, "want a space after the time stamp"
	}
	for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
		j++
	}
	return j, ""
}

// stamped splits a CloudWatch Logs export: from i, lines of a time stamp,
// spaces and a record, separated by newlines (blank lines allowed). Each
// record's raw bytes are the JSON object alone.
func (s *splitter) stamped(i int) error {
	b := s.b
	for first := true; ; first = false {
		if !first {
			var more bool
			var err error
			if i, more, err = s.nextLine(i); !more {
				return err
			}
		}
		j, why := stampEnd(b, i)
		if j < 0 {
			return syntaxErr(i, "line %d of a CloudWatch Logs export: %s", lineOf(b, i), why)
		}
		if j >= len(b) || b[j] != '{' {
			_, err := expectAt(b, j, "a JSON object after the time stamp")
			return err
		}
		end, err := s.skip(j)
		if err != nil {
			return err
		}
		if err := s.emitRecord(j, end); err != nil {
			return err
		}
		i = end
	}
}

type splitter struct {
	b     []byte
	emit  func(int, []byte) error
	n     int // records emitted
	stack []byte
}

// object splits content whose first value is the object at i: either the
// {"Records":[...]} wrapper or the first line of an NDJSON file.
func (s *splitter) object(i int) (string, error) {
	records := false
	end, err := s.walkObject(i, func(key string, v int) (int, error) {
		if key != "Records" {
			return s.skip(v)
		}
		if records {
			return v, syntaxErr(v, "duplicate \"Records\" key")
		}
		if s.b[v] != '[' {
			return v, syntaxErr(v, "\"Records\" is not an array")
		}
		records = true
		return s.elements(v)
	})
	if records {
		if err != nil {
			return FormatRecords, err
		}
		return FormatRecords, s.trailing(end)
	}
	if err != nil {
		// Undecided: a "Records" key might have followed.
		return "", err
	}
	if err := s.emitRecord(i, end); err != nil {
		return FormatNDJSON, err
	}
	return FormatNDJSON, s.lines(end)
}

// nextLine skips the whitespace after a record that ended at i, which
// must hold a newline, to the start of the next line's content; more is
// false at the end of the content (err nil) or on an error.
func (s *splitter) nextLine(i int) (next int, more bool, err error) {
	b := s.b
	newline := false
	for i < len(b) && isSpace(b[i]) {
		newline = newline || b[i] == '\n'
		i++
	}
	if i >= len(b) {
		return i, false, nil
	}
	if !newline {
		return i, false, syntaxErr(i, "want a newline before the next record (line %d)", lineOf(b, i))
	}
	return i, true, nil
}

// lines splits the NDJSON records that follow the first one, which ended
// at i. Records must be separated by at least one newline.
func (s *splitter) lines(i int) error {
	b := s.b
	for {
		var more bool
		var err error
		if i, more, err = s.nextLine(i); !more {
			return err
		}
		if b[i] != '{' {
			return syntaxErr(i, "line %d is not a JSON object: starts with %s", lineOf(b, i), quoteByte(b[i]))
		}
		end, err := s.skip(i)
		if err != nil {
			return err
		}
		if err := s.emitRecord(i, end); err != nil {
			return err
		}
		i = end
	}
}

// elements splits the array at i (b[i] == '[') into records and returns
// the offset after its ']'.
func (s *splitter) elements(i int) (int, error) {
	b := s.b
	j := skipWS(b, i+1)
	if j < len(b) && b[j] == ']' {
		return j + 1, nil
	}
	for {
		if j >= len(b) {
			return j, syntaxErr(j, "unexpected end of content in array starting at offset %d", offsetArg(i))
		}
		if b[j] != '{' {
			return j, syntaxErr(j, "record %d is not a JSON object: starts with %s", s.n, quoteByte(b[j]))
		}
		end, err := s.skip(j)
		if err != nil {
			return end, err
		}
		if err := s.emitRecord(j, end); err != nil {
			return end, err
		}
		j = skipWS(b, end)
		if j >= len(b) {
			return j, syntaxErr(j, "unexpected end of content in array starting at offset %d", offsetArg(i))
		}
		switch b[j] {
		case ',':
			j = skipWS(b, j+1)
		case ']':
			return j + 1, nil
		default:
			return j, syntaxErr(j, "want ',' or ']' after record %d, found %s", s.n-1, quoteByte(b[j]))
		}
	}
}

func (s *splitter) emitRecord(start, end int) error {
	idx := s.n
	s.n++
	return s.emit(idx, s.b[start:end:end])
}

// trailing checks that only whitespace follows offset i.
func (s *splitter) trailing(i int) error {
	i = skipWS(s.b, i)
	if i < len(s.b) {
		return syntaxErr(i, "unexpected %s after the top-level value", quoteByte(s.b[i]))
	}
	return nil
}

// walkObject walks the members of the object at i (b[i] == '{'). For each
// member it calls member with the decoded key and the offset of the value
// (whitespace skipped); member must consume the value and return the
// offset after it. walkObject returns the offset after the closing '}'.
func (s *splitter) walkObject(i int, member func(key string, v int) (int, error)) (int, error) {
	b := s.b
	j := skipWS(b, i+1)
	if j < len(b) && b[j] == '}' {
		return j + 1, nil
	}
	for {
		k, err := objectKey(b, j)
		if err != nil {
			return k, err
		}
		key, err := decodeKey(b[j:k])
		if err != nil {
			return j, err
		}
		v := skipWS(b, k)
		if v >= len(b) || b[v] != ':' {
			return expectAt(b, v, "':' after object key")
		}
		v = skipWS(b, v+1)
		if v >= len(b) {
			return v, syntaxErr(v, "unexpected end of content: want a value for key %q", key)
		}
		end, err := member(key, v)
		if err != nil {
			return end, err
		}
		j = skipWS(b, end)
		if j >= len(b) {
			return j, syntaxErr(j, "unexpected end of content in object starting at offset %d", offsetArg(i))
		}
		switch b[j] {
		case ',':
			j = skipWS(b, j+1)
		case '}':
			return j + 1, nil
		default:
			return j, syntaxErr(j, "want ',' or '}' in object, found %s", quoteByte(b[j]))
		}
	}
}

// objectKey scans the key string at i and returns the offset after it.
func objectKey(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return expectAt(b, i, "'\"' to start an object key")
	}
	return scanString(b, i)
}

// decodeKey turns a scanned key string (with its quotes) into Go text.
func decodeKey(q []byte) (string, error) {
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var key string
	if err := json.Unmarshal(q, &key); err != nil {
		return "", fmt.Errorf("decode object key %s: %w", q, err)
	}
	return key, nil
}

// skip validates the JSON value at i (no leading whitespace) and returns
// the offset just after it. It keeps a stack of open containers, not a
// tree, and allocates only when the nesting outgrows the stack.
func (s *splitter) skip(i int) (int, error) {
	b := s.b
	stack := s.stack[:0]
	defer func() { s.stack = stack[:0] }()
	for {
		// A value starts at i.
		if i >= len(b) {
			return i, syntaxErr(i, "unexpected end of content: want a value")
		}
		var err error
		switch c := b[i]; c {
		case '{', '[':
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			j := skipWS(b, i+1)
			if j < len(b) && b[j] == closer {
				i = j + 1
				break
			}
			if len(stack) >= maxDepth {
				return i, syntaxErr(i, "nesting deeper than %d levels", maxDepth)
			}
			stack = append(stack, closer)
			if c == '{' {
				if i, err = memberValue(b, j); err != nil {
					return i, err
				}
			} else {
				i = j
			}
			continue
		case '"':
			i, err = scanString(b, i)
		case 't':
			i, err = literal(b, i, "true")
		case 'f':
			i, err = literal(b, i, "false")
		case 'n':
			i, err = literal(b, i, "null")
		default:
			i, err = scanNumber(b, i)
		}
		if err != nil {
			return i, err
		}
		// A value ended at i: close containers until one takes another element.
	closing:
		for {
			if len(stack) == 0 {
				return i, nil
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, syntaxErr(i, "unexpected end of content: want ',' or %s", quoteByte(stack[len(stack)-1]))
			}
			top := stack[len(stack)-1]
			switch b[i] {
			case ',':
				if top == '}' {
					if i, err = memberValue(b, skipWS(b, i+1)); err != nil {
						return i, err
					}
				} else {
					i = skipWS(b, i+1)
				}
				break closing
			case top:
				stack = stack[:len(stack)-1]
				i++
			default:
				return i, syntaxErr(i, "want ',' or %s, found %s", quoteByte(top), quoteByte(b[i]))
			}
		}
	}
}

// memberValue scans `"key" :` at i and returns the offset of the value.
func memberValue(b []byte, i int) (int, error) {
	i, err := objectKey(b, i)
	if err != nil {
		return i, err
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return expectAt(b, i, "':' after object key")
	}
	return skipWS(b, i+1), nil
}

// stringSafe[c] is true for bytes that may appear unescaped in a string
// and need no further look: not '"', not '\\', not a control character.
var stringSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString scans the string at i (b[i] == '"') and returns the offset
// after its closing quote.
func scanString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		// Eight bytes at a time (SWAR): a byte equal to '"' or '\\', or
		// below 0x20, sets its high bit in m. A borrow only runs towards
		// higher bytes, so the lowest set bit marks the first such byte
		// exactly; bits above it may be false and are never used.
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j : j+8])
			q := w ^ (lsb * '"')
			s := w ^ (lsb * '\\')
			if m := ((q - lsb) &^ q) | ((s - lsb) &^ s) | ((w - lsb*0x20) &^ w); m&msb != 0 {
				j += bits.TrailingZeros64(m&msb) / 8
				goto special
			}
			j += 8
		}
		for j < len(b) && stringSafe[b[j]] {
			j++
		}
	special:
		if j >= len(b) {
			return j, syntaxErr(j, "unexpected end of content in string starting at offset %d", offsetArg(i))
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			if j+1 >= len(b) {
				return j + 1, syntaxErr(j+1, "unexpected end of content in string starting at offset %d", offsetArg(i))
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := j + 2; k < j+6; k++ {
					if k >= len(b) {
						return k, syntaxErr(k, "unexpected end of content in string starting at offset %d", offsetArg(i))
					}
					if !isHex(b[k]) {
						return k, syntaxErr(k, "invalid \\u escape: %s is not a hex digit", quoteByte(b[k]))
					}
				}
				j += 6
			default:
				return j + 1, syntaxErr(j+1, "invalid escape \\%c in string", b[j+1])
			}
		default:
			return j, syntaxErr(j, "control character %s in string", quoteByte(c))
		}
	}
}

// scanNumber scans a number (RFC 8259 grammar) at i.
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		if j >= len(b) {
			return j, syntaxErr(j, "unexpected end of content in number")
		}
		return j, syntaxErr(j, "invalid character %s: want a value", quoteByte(b[j]))
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return expectAt(b, j, "digit after decimal point")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			return expectAt(b, j, "digit in exponent")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	return j, nil
}

func literal(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, syntaxErr(i+k, "unexpected end of content in literal %s", lit)
		}
		if b[i+k] != lit[k] {
			return i + k, syntaxErr(i+k, "invalid character %s in literal %s", quoteByte(b[i+k]), lit)
		}
	}
	return i + len(lit), nil
}

func expectAt(b []byte, i int, want string) (int, error) {
	if i >= len(b) {
		return i, syntaxErr(i, "unexpected end of content: want %s", want)
	}
	return i, syntaxErr(i, "want %s, found %s", want, quoteByte(b[i]))
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func skipBOM(b []byte) int {
	if bytes.HasPrefix(b, bom) {
		return len(bom)
	}
	return 0
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// quoteByte shows a byte in an error message.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// lineOf is the 1-based line number of offset i.
func lineOf(b []byte, i int) int {
	return bytes.Count(b[:i], []byte{'\n'}) + 1
}
