package accesslog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/forensic-dev/forensic/store"
)

const (
	// maxLine caps the bytes held for one line. AWS limits request
	// headers to 8 KiB, so a real line is far shorter; anything longer is
	// damage or an attack and must not make memory grow with the input.
	maxLine = 1 << 20
	// longPrefix is how much of an over-long line Raw keeps (its fields
	// are read from more of it: long.go).
	longPrefix = 4 << 10
	// readBuf is the read buffer; longer lines are gathered in a side
	// buffer up to maxLine.
	readBuf = 64 << 10
)

var bom = []byte("\xef\xbb\xbf")

// readers recycles read buffers: S3 delivers many small log objects, and
// a fresh 64 KiB buffer per file would cost more than parsing it.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBuf) }}

// Parse reads an access-log file as a stream, line by line ("\n"; "\r\n"
// and a missing final newline are tolerated), and calls emit with a
// record for every non-empty line (one record, reused: it is valid only
// during the call, so emit copies what it keeps), LineNo (1-based, counting empty lines
// too) and EvidenceID set. A line longer than maxLine (1 MiB, terminator
// not counted) is not buffered: its record has ParseError "line longer
// than 1 MiB cap (N bytes; …)", Raw holds its first 4 KiB, and the fields
// are read from its first and last 64 KiB (long.go): those that lie whole
// in either are set, one cut by the bytes between is left empty and named
// in ParseError; reading resumes at the next line.
// A UTF-8 byte-order mark before the first line is ignored for parsing
// and kept in Raw.
//
// Parse returns the number of lines read and the first read error, or
// the first error emit returns (which stops the parse). Parse errors are
// not errors here; they are in the records. A line cut short by a read
// error is not emitted.
func Parse(r io.Reader, evidenceID int64, emit func(*store.AccessRecord) error) (lines int, err error) {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil) // drop r
		readers.Put(br)
	}()
	var p lineParser
	var reuse store.AccessRecord
	var acc []byte   // a line that spans several reads
	var long []byte  // first longHead bytes of an over-long line
	var tail []byte  // its last bytes read (at least longTail, at most 2×)
	var longLen int  // its length so far, terminator included
	tooLong := false // the current line passed maxLine
	prevCR := false  // the previous fragment ended in "\r"
	for {
		frag, rerr := br.ReadSlice('\n')
		full := errors.Is(rerr, bufio.ErrBufferFull)
		if rerr != nil && rerr != io.EOF && !full {
			return lines, fmt.Errorf("read access log line %d: %w", lines+1, rerr)
		}
		if rerr == io.EOF && len(frag) == 0 && len(acc) == 0 && !tooLong {
			return lines, nil
		}
		line := frag
		switch {
		case tooLong:
			longLen += len(frag)
			tail = keepLast(tail, frag)
		case len(acc)+len(frag) > maxLine+2: // +2: room for "\r\n"
			tooLong = true
			long = append(long[:0], acc[:min(len(acc), longHead)]...)
			long = append(long, frag[:min(len(frag), longHead-len(long))]...)
			longLen = len(acc) + len(frag)
			tail = keepLast(keepLast(tail[:0], acc[max(0, len(acc)-longTail-2):]), frag)
			acc = acc[:0]
		case len(acc) > 0 || full:
			acc = append(acc, frag...)
			line = acc
		}
		if full {
			prevCR = len(frag) > 0 && frag[len(frag)-1] == '\r'
			continue
		}

		lines++
		var rec *store.AccessRecord
		if tooLong {
			n := longLen - trailer(frag)
			if len(frag) == 1 && frag[0] == '\n' && prevCR {
				n-- // "\r\n" split across two reads
			}
			t := tail[:len(tail)-trailer(tail)]
			t = t[max(0, len(t)-longTail):]
			rec = &reuse
			p.parseLong(string(long), string(t), string(long[:longPrefix]), n, lines == 1, rec)
			tooLong, long, tail = false, long[:0], tail[:0]
		} else if line = line[:len(line)-trailer(line)]; len(line) > maxLine {
			rec = &reuse
			p.parseLong(string(line[:longHead]), string(line[len(line)-longTail:]), string(line[:longPrefix]), len(line), lines == 1, rec)
		} else if len(line) > 0 {
			rec = &reuse // parse resets every field
			s := string(line)
			if lines == 1 && bytes.HasPrefix(line, bom) {
				p.parse(s[len(bom):], rec)
				rec.Raw = s
				for i := 0; i < rec.SpanCount; i++ {
					rec.Spans[i][0] += int32(len(bom))
				}
			} else {
				p.parse(s, rec)
			}
		}
		if rec != nil {
			rec.EvidenceID, rec.LineNo = evidenceID, lines
			if err := emit(rec); err != nil {
				return lines, fmt.Errorf("line %d: %w", lines, err)
			}
		}
		acc, prevCR = acc[:0], false
		if rerr == io.EOF {
			return lines, nil
		}
	}
}

// keepLast appends frag to tail, first dropping all but the last
// longTail+2 bytes when tail would pass twice longTail.
func keepLast(tail, frag []byte) []byte {
	if len(tail)+len(frag) > 2*longTail {
		const n = longTail + 2 // and the line's terminator
		keep := max(0, n-len(frag))
		tail = append(tail[:0], tail[len(tail)-min(keep, len(tail)):]...)
		if len(frag) > n {
			frag = frag[len(frag)-n:]
		}
	}
	return append(tail, frag...)
}

func tooLongError(n, kept int) string {
	return fmt.Sprintf("line longer than 1 MiB cap (%d bytes; Raw keeps the first %d)", n, kept)
}

// trailer is the length of the line terminator at the end of b: "\n",
// "\r\n" or nothing.
func trailer(b []byte) int {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		if n > 1 && b[n-2] == '\r' {
			return 2
		}
		return 1
	}
	return 0
}
