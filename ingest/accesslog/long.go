package accesslog

import (
	"fmt"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// An over-long line (more than maxLine bytes) is not buffered whole:
// Parse keeps its first longHead and last longTail bytes and reads the
// fields from the two joined, as if the bytes between were not there. A
// real line is short in every field but the client-controlled ones
// (Request-URI, Referer, User-Agent), so the fields before and after a
// long one are read as logged. A field that runs up to or across the
// join is cut: it is left empty and ParseError names it. Raw keeps only
// the first longPrefix bytes, so such a record stores its fields
// (SpanCount 0), not spans into Raw.
const (
	longHead = 64 << 10
	longTail = 64 << 10
)

// parseLong fills rec from an over-long line of n bytes (terminator not
// counted) whose first bytes are head and last bytes tail; raw is what
// Raw keeps. bomFirst: it is the first line, which may open with a
// byte-order mark.
func (p *lineParser) parseLong(head, tail, raw string, n int, bomFirst bool, rec *store.AccessRecord) {
	if bomFirst && strings.HasPrefix(head, string(bom)) {
		head = head[len(bom):]
	}
	p.parse(head+tail, rec)
	join := len(head)
	dst := fieldPtrs(rec)
	var cut []string
	for i := 0; i < rec.SpanCount; i++ {
		s, e := int(rec.Spans[i][0]), int(rec.Spans[i][0]+rec.Spans[i][1])
		// Whole only if a byte of its own piece follows (head) or
		// precedes (tail) it: the bytes between may continue it.
		if e < join || s > join {
			continue
		}
		cut = append(cut, fmt.Sprintf("field %d (%s)", i+1, fieldNames[i]))
		if i == fTime {
			rec.Time = ""
		} else {
			*dst[i] = ""
		}
	}
	rec.Extra = nil
	if rec.SpanCount == fixedFields {
		// Unknown trailing fields lie at the end, in the tail.
		for pos := p.best.tail; pos < len(p.line); {
			var t span
			t, pos = p.extraToken(pos)
			if t.s > join {
				rec.Extra = append(rec.Extra, p.line[t.s:t.e])
			}
		}
	}
	msg := tooLongError(n, len(raw)) + fmt.Sprintf("; fields read from its first %d and last %d bytes", len(head), len(tail))
	if len(cut) > 0 {
		msg += ", " + strings.Join(cut, ", ") + " cut by the bytes between and left empty"
	}
	if rec.ParseError != "" {
		msg += "; " + rec.ParseError
	}
	rec.ParseError = msg
	rec.Raw = raw
	rec.Spans, rec.SpanCount = [fixedFields][2]int32{}, 0
}

// fieldPtrs are rec's fields 1-27 by position (nil for Time, which is
// stored formatted).
func fieldPtrs(rec *store.AccessRecord) [fixedFields]*string {
	return [fixedFields]*string{
		&rec.BucketOwner, &rec.Bucket, nil, &rec.RemoteIP, &rec.Requester,
		&rec.RequestID, &rec.Operation, &rec.Key, &rec.RequestURI,
		&rec.HTTPStatus, &rec.ErrorCode, &rec.BytesSent, &rec.ObjectSize,
		&rec.TotalTime, &rec.TurnAroundTime, &rec.Referer, &rec.UserAgent,
		&rec.VersionID, &rec.HostID, &rec.SignatureVer, &rec.CipherSuite,
		&rec.AuthType, &rec.HostHeader, &rec.TLSVersion, &rec.AccessPointARN,
		&rec.ACLRequired, &rec.SourceRegion,
	}
}
