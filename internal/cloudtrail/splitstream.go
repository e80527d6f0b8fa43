package cloudtrail

import (
	"bytes"
	"fmt"
	"io"
)

// DefaultWindow is the size of SplitStream's windows of content.
const DefaultWindow = 1 << 20

// StreamOptions bound SplitStream.
type StreamOptions struct {
	// MaxRecord caps the bytes of one record, and of any other value the
	// content's top level holds (and, before its "Records" key, of the
	// whole top-level object); required.
	MaxRecord int
	// Window is the size of a window of content; default DefaultWindow.
	Window int
}

// RecordTooLargeError is a record (or other top-level value) longer than
// StreamOptions.MaxRecord: SplitStream stops there, the records before it
// emitted.
type RecordTooLargeError struct {
	Index  int   // the record's index; -1 for a value that is not a record
	Offset int64 // where it starts
	Cap    int
}

func (e *RecordTooLargeError) Error() string {
	what := fmt.Sprintf("record %d", e.Index)
	if e.Index < 0 {
		what = "top-level value"
	}
	return fmt.Sprintf("%s at byte offset %d is larger than the cap of %d bytes per record", what, e.Offset, e.Cap)
}

// SplitStream is Split for content read from r, a window at a time, so that
// memory is bounded by the largest record, not by the content. buf holds
// the first bytes of the content, already read from r, and its spare
// capacity is the first window. Each record is emitted with the format,
// which is known by then; raw is a sub-slice of a window that is never
// written again, so it stays valid after emit returns.
//
// For the same content SplitStream emits the same records and returns the
// same format and error as Split, except that a record longer than
// opt.MaxRecord ends it with a *RecordTooLargeError, and an error reading r
// ends it with that error.
func SplitStream(r io.Reader, buf []byte, opt StreamOptions, emit func(format string, idx int, raw []byte) error) (string, error) {
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	t := &streamer{r: r, max: opt.MaxRecord, window: opt.Window, pin: -1, countLines: true, emit: emit}
	t.s.b = buf
	format, err := t.split()
	if t.rerr != nil {
		// The content could not be read: whatever was concluded from it
		// is void (the records before stay emitted).
		err = t.rerr
	}
	return format, err
}

// streamer holds a window of the content: s.b holds the bytes from
// absolute offset base on. Positions in its methods are absolute.
type streamer struct {
	s      splitter
	base   int
	r      io.Reader
	eof    bool
	rerr   error
	max    int
	window int
	// pin, when not -1, is the start of the top-level object while it may
	// still turn out to be the first record of an NDJSON file: the window
	// keeps it whole. mark is the earliest position still needed otherwise.
	pin, mark int
	// newlines counts the newlines before the window while the format may
	// still be NDJSON (its errors name lines).
	newlines   int
	countLines bool
	format     string
	emit       func(string, int, []byte) error
}

func (t *streamer) end() int { return t.base + len(t.s.b) }

func (t *streamer) keep() int {
	if t.pin >= 0 {
		return t.pin
	}
	return t.mark
}

// more reads more of the content into the window, dropping what lies
// before keep(); false when there is no more.
func (t *streamer) more() bool {
	if t.eof || t.rerr != nil {
		return false
	}
	b := t.s.b
	if len(b) == cap(b) {
		// A new window: the old one is never written again (emitted
		// records may point into it), so the tail still needed is copied.
		k := t.keep() - t.base
		tail := b[k:]
		if t.countLines {
			t.newlines += bytes.Count(b[:k], []byte{'\n'})
		}
		nb := make([]byte, len(tail), max(t.window, 2*len(tail)))
		copy(nb, tail)
		t.base += k
		b = nb
	}
	for len(b) < cap(b) {
		n, err := t.r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			t.eof = true
			break
		}
		if err != nil {
			t.rerr = err
			break
		}
	}
	t.s.b = b
	return true
}

// has reports whether position p is in the content, reading as needed.
func (t *streamer) has(p int) bool {
	for p >= t.end() {
		if !t.more() {
			return false
		}
	}
	return true
}

func (t *streamer) at(p int) byte { return t.s.b[p-t.base] }

// endErr is the error for content that ends at p where more was wanted.
func (t *streamer) endErr(p int, format string, args ...any) error {
	if t.rerr != nil {
		return t.rerr
	}
	return syntaxErr(p, format, args...)
}

// ws skips JSON whitespace from p.
func (t *streamer) ws(p int) int {
	for {
		i := skipWS(t.s.b, p-t.base) + t.base
		if i < t.end() {
			return i
		}
		t.mark = max(t.mark, i)
		if !t.more() {
			return i
		}
		p = i
	}
}

// scan runs f, a scanner of one value in a window, at p, with more of the
// content until f's answer no longer depends on what follows. index names
// the value in a RecordTooLargeError.
func (t *streamer) scan(p, index int, f func(b []byte, i int) (int, error)) (int, error) {
	if t.pin < 0 {
		t.mark = p
	}
	// Over the cap is decided by where the scan ends (or fails), so it does
	// not depend on how the content falls into windows.
	tooLarge := func() error {
		start := t.keep()
		if t.pin >= 0 {
			index = -1
		}
		return &RecordTooLargeError{Index: index, Offset: int64(start), Cap: t.max}
	}
	for {
		end, err := f(t.s.b, p-t.base)
		if end < len(t.s.b) || t.eof || t.rerr != nil {
			if end+t.base-t.keep() > t.max {
				return p, tooLarge()
			}
			return end + t.base, rebase(err, t.base)
		}
		if t.end()-t.keep() > t.max {
			return p, tooLarge()
		}
		t.more()
	}
}

func (t *streamer) value(p, index int) (int, error) { return t.scan(p, index, t.skipAt) }

func (t *streamer) skipAt(b []byte, i int) (int, error) {
	t.s.b = b
	return t.s.skip(i)
}

func (t *streamer) emitRecord(start, end int) error {
	idx := t.s.n
	t.s.n++
	raw := t.s.b[start-t.base : end-t.base : end-t.base]
	return t.emit(t.format, idx, raw)
}

// split mirrors Split.
func (t *streamer) split() (string, error) {
	t.has(len(bom) - 1)
	i := t.ws(skipBOM(t.s.b))
	if !t.has(i) {
		return "", t.endErr(i, "no JSON value")
	}
	switch c := t.at(i); c {
	case '[':
		t.format, t.countLines = FormatArray, false
		end, err := t.elements(i)
		if err != nil {
			return FormatArray, err
		}
		return FormatArray, t.trailing(end)
	case '{':
		return t.object(i)
	default:
		if isDigit(c) {
			t.format = FormatCloudWatchExport
			return FormatCloudWatchExport, t.stamped(i)
		}
		return "", syntaxErr(i, "want '{' or '[' at start of content, found %s", quoteByte(c))
	}
}

// object mirrors splitter.object and walkObject.
func (t *streamer) object(i int) (string, error) {
	t.pin = i
	records := false
	end, err := t.members(i, func(key string, v int) (int, error) {
		if key != "Records" {
			return t.value(v, -1)
		}
		if records {
			return v, syntaxErr(v, "duplicate \"Records\" key")
		}
		if t.at(v) != '[' {
			return v, syntaxErr(v, "\"Records\" is not an array")
		}
		records = true
		t.pin, t.mark = -1, v
		t.format, t.countLines = FormatRecords, false
		return t.elements(v)
	})
	if records {
		if err != nil {
			return FormatRecords, err
		}
		return FormatRecords, t.trailing(end)
	}
	if err != nil {
		return "", err
	}
	t.format = FormatNDJSON
	if err := t.emitRecord(i, end); err != nil {
		return FormatNDJSON, err
	}
	t.pin, t.mark = -1, end
	return FormatNDJSON, t.lines(end)
}

// members mirrors splitter.walkObject.
func (t *streamer) members(i int, member func(key string, v int) (int, error)) (int, error) {
	j := t.ws(i + 1)
	if t.has(j) && t.at(j) == '}' {
		return j + 1, nil
	}
	for {
		k, err := t.scan(j, -1, objectKey)
		if err != nil {
			return k, err
		}
		key, err := decodeKey(t.s.b[j-t.base : k-t.base])
		if err != nil {
			return j, err
		}
		v := t.ws(k)
		if !t.has(v) {
			return v, t.endErr(v, "unexpected end of content: want %s", "':' after object key")
		}
		if c := t.at(v); c != ':' {
			return v, syntaxErr(v, "want %s, found %s", "':' after object key", quoteByte(c))
		}
		v = t.ws(v + 1)
		if !t.has(v) {
			return v, t.endErr(v, "unexpected end of content: want a value for key %q", key)
		}
		end, err := member(key, v)
		if err != nil {
			return end, err
		}
		j = t.ws(end)
		if !t.has(j) {
			return j, t.endErr(j, "unexpected end of content in object starting at offset %d", offsetArg(i))
		}
		switch c := t.at(j); c {
		case ',':
			j = t.ws(j + 1)
		case '}':
			return j + 1, nil
		default:
			return j, syntaxErr(j, "want ',' or '}' in object, found %s", quoteByte(c))
		}
	}
}

// elements mirrors splitter.elements.
func (t *streamer) elements(i int) (int, error) {
	j := t.ws(i + 1)
	if t.has(j) && t.at(j) == ']' {
		return j + 1, nil
	}
	for {
		if !t.has(j) {
			return j, t.endErr(j, "unexpected end of content in array starting at offset %d", offsetArg(i))
		}
		if c := t.at(j); c != '{' {
			return j, syntaxErr(j, "record %d is not a JSON object: starts with %s", t.s.n, quoteByte(c))
		}
		end, err := t.value(j, t.s.n)
		if err != nil {
			return end, err
		}
		if err := t.emitRecord(j, end); err != nil {
			return end, err
		}
		t.mark = end
		j = t.ws(end)
		if !t.has(j) {
			return j, t.endErr(j, "unexpected end of content in array starting at offset %d", offsetArg(i))
		}
		switch c := t.at(j); c {
		case ',':
			j = t.ws(j + 1)
		case ']':
			return j + 1, nil
		default:
			return j, syntaxErr(j, "want ',' or ']' after record %d, found %s", t.s.n-1, quoteByte(c))
		}
	}
}

// nextLine mirrors splitter.nextLine; the whitespace does not hold the
// window, and a read error ends it.
func (t *streamer) nextLine(i int) (next int, more bool, err error) {
	newline := false
	for {
		if !t.has(i) {
			return i, false, t.rerr
		}
		c := t.at(i)
		if !isSpace(c) {
			break
		}
		newline = newline || c == '\n'
		i++
		t.mark = i
	}
	if !newline {
		return i, false, syntaxErr(i, "want a newline before the next record (line %d)", t.lineOf(i))
	}
	return i, true, nil
}

// lines mirrors splitter.lines.
func (t *streamer) lines(i int) error {
	for {
		var more bool
		var err error
		if i, more, err = t.nextLine(i); !more {
			return err
		}
		if c := t.at(i); c != '{' {
			return syntaxErr(i, "line %d is not a JSON object: starts with %s", t.lineOf(i), quoteByte(c))
		}
		end, err := t.value(i, t.s.n)
		if err != nil {
			return err
		}
		if err := t.emitRecord(i, end); err != nil {
			return err
		}
		i = end
		t.mark = end
	}
}

// stamped mirrors splitter.stamped. The line's start stays in the window
// while its time stamp (at most maxStamp bytes) is read, for the line
// number of an error; the spaces after it do not hold the window.
func (t *streamer) stamped(i int) error {
	for first := true; ; first = false {
		if !first {
			var more bool
			var err error
			if i, more, err = t.nextLine(i); !more {
				return err
			}
		}
		t.mark = i
		j := i
		for t.has(j) && j-i <= maxStamp && stampChar(t.at(j)) {
			j++
		}
		why := ""
		switch {
		case j == i || !isDigit(t.at(i)):
			why = "want a time stamp"
		case j-i > maxStamp:
			why = fmt.Sprintf("the time stamp is longer than %d bytes", maxStamp)
		case !t.has(j) || (t.at(j) != ' ' && t.at(j) != '\t'):
			why = "want a space after the time stamp"
		}
		if why != "" {
			if t.rerr != nil {
				return t.rerr
			}
			return syntaxErr(i, "line %d of a CloudWatch Logs export: %s", t.lineOf(i), why)
		}
		for t.has(j) && (t.at(j) == ' ' || t.at(j) == '\t') {
			j++
			t.mark = j
		}
		const want = "a JSON object after the time stamp"
		if !t.has(j) {
			return t.endErr(j, "unexpected end of content: want %s", want)
		}
		if c := t.at(j); c != '{' {
			return syntaxErr(j, "want %s, found %s", want, quoteByte(c))
		}
		end, err := t.value(j, t.s.n)
		if err != nil {
			return err
		}
		if err := t.emitRecord(j, end); err != nil {
			return err
		}
		i = end
		t.mark = end
	}
}

// lineOf is the 1-based line number of position p, which is in the window.
func (t *streamer) lineOf(p int) int {
	return t.newlines + bytes.Count(t.s.b[:p-t.base], []byte{'\n'}) + 1
}

// trailing checks that only whitespace follows position i.
func (t *streamer) trailing(i int) error {
	t.mark = i
	i = t.ws(i)
	if t.has(i) {
		return syntaxErr(i, "unexpected %s after the top-level value", quoteByte(t.at(i)))
	}
	return t.rerr
}
