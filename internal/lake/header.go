package lake

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Limits on one CSV record of a result file. A Lake row is one event's
// selected columns; CloudTrail itself omits requestParameters over 100 KB,
// so a record of several MiB or thousands of columns is not a query
// result. They bound ResultHeader's memory (about three times
// MaxRecordSize: encoding/csv keeps the raw line, the unquoted fields and
// the record).
const (
	MaxRecordSize = 4 << 20
	MaxFields     = 10000
)

// Errors ResultHeader wraps when a record exceeds a limit.
var (
	ErrRecordTooLarge = errors.New("record too large")
	ErrTooManyFields  = errors.New("record has too many fields")
)

// ResultHeader reads a gzip-compressed CSV result file from r and returns
// its header (the first record) and the number of records after it. Lines
// starting with '#' before the header are skipped as a preamble. Parsing
// is RFC 4180 (encoding/csv, strict quotes, every record as wide as the
// header); an error names the row (the header is row 0) and its line in
// the uncompressed text. An empty file has no header and no rows. Memory
// is bounded by MaxRecordSize and MaxFields, whatever the input.
func ResultHeader(r io.Reader) (header []string, rows int64, err error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("result file: empty, not gzip")
		}
		return nil, 0, fmt.Errorf("result file: not gzip: %w", err)
	}
	defer zr.Close()
	return ReadResultCSV(zr, nil)
}

// ReadResultCSV reads a result file's CSV text (decompressed) from r as
// ResultHeader does, and calls row, when not nil, with each record after
// the header (the slice is reused between calls; an error from row stops
// the read and is returned).
func ReadResultCSV(r io.Reader, row func(rec []string) error) (header []string, rows int64, err error) {
	lim := &recordLimiter{r: r, line: 1, start: 1, atStart: true, preamble: true}
	// encoding/csv uses a *bufio.Reader of at least its default size as is.
	br := bufio.NewReaderSize(lim, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil || b[0] != '#' {
			break
		}
		for {
			_, err := br.ReadSlice('\n')
			if err != bufio.ErrBufferFull {
				break
			}
		}
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return header, rows, nil
		}
		n := rows
		if header != nil {
			n++
		}
		if header == nil && err == nil {
			header = append([]string(nil), rec...)
			continue
		}
		if err != nil {
			if lim.err != nil && errors.Is(err, lim.err) {
				return header, rows, lim.wrap(n)
			}
			return header, rows, fmt.Errorf("result csv row %d: %w", n, err)
		}
		rows++
		if row != nil {
			if err := row(rec); err != nil {
				return header, rows, err
			}
		}
	}
}

// recordLimiter passes the uncompressed CSV through, following RFC 4180
// quoting to find record boundaries, and fails once a record exceeds
// MaxRecordSize bytes or MaxFields fields. It tracks the text itself rather
// than encoding/csv's position, which runs ahead by its buffer. For valid
// CSV its boundaries are exact (a quote only opens, closes or doubles
// inside a quoted field); for invalid CSV encoding/csv reports the error.
type recordLimiter struct {
	r        io.Reader
	err      error // sticky: a limit was exceeded, or r failed
	line     int   // current line, 1-based
	start    int   // line the current record starts on
	size     int   // bytes of the current record so far
	fields   int   // separators seen in the current record
	inQuote  bool
	atStart  bool // at the first byte of a record
	preamble bool // no record seen yet: '#' lines are comments
	comment  bool // inside a preamble comment line
	failedIn bool // the limit was exceeded in a preamble line
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		if l.atStart {
			l.atStart = false
			l.comment = l.preamble && c == '#'
			if !l.comment {
				l.preamble = false
			}
		}
		l.size++
		switch {
		case c == '\n' && !l.inQuote:
			l.line++
			l.start, l.size, l.fields, l.atStart, l.comment = l.line, 0, 0, true, false
			continue
		case c == '\n':
			l.line++
		case l.comment:
		case c == '"':
			l.inQuote = !l.inQuote
		case c == ',' && !l.inQuote:
			l.fields++
		}
		switch {
		case l.size > MaxRecordSize:
			l.err = ErrRecordTooLarge
		case l.fields >= MaxFields:
			l.err = ErrTooManyFields
		}
		if l.err != nil {
			l.failedIn = l.comment
			return i, nil
		}
	}
	if err != nil {
		l.err = err
	}
	return n, err
}

// limited reports whether a record exceeded a limit.
func (l *recordLimiter) limited() bool {
	return errors.Is(l.err, ErrRecordTooLarge) || errors.Is(l.err, ErrTooManyFields)
}

// wrap names the row (or preamble line) at which l.err happened.
func (l *recordLimiter) wrap(row int64) error {
	if !l.limited() {
		return fmt.Errorf("result file row %d (line %d): %w", row, l.line, l.err)
	}
	limit := fmt.Sprintf("%d bytes", MaxRecordSize)
	if errors.Is(l.err, ErrTooManyFields) {
		limit = fmt.Sprintf("%d fields", MaxFields)
	}
	if l.failedIn {
		return fmt.Errorf("result csv preamble line %d: over %s: %w", l.start, limit, l.err)
	}
	return fmt.Errorf("result csv row %d (line %d): over %s: %w", row, l.start, limit, l.err)
}
