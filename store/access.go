package store

import (
	"unicode/utf8"
)

// AccessFields encodes an access-log record's fields 1 to 27 as the JSON
// array stored in s3_access.fields; the named columns of s3_access are
// generated from it. Field 3 is the time as RFC 3339 UTC. Invalid UTF-8 in
// a field becomes U+FFFD here (the raw line keeps the exact bytes).
func AccessFields(a *AccessRecord) string {
	if a.ParseError != "" && a.FieldCount == 0 {
		return ""
	}
	vals := [...]string{a.BucketOwner, a.Bucket, a.Time, a.RemoteIP, a.Requester, a.RequestID, a.Operation, a.Key,
		a.RequestURI, a.HTTPStatus, a.ErrorCode, a.BytesSent, a.ObjectSize, a.TotalTime, a.TurnAroundTime, a.Referer,
		a.UserAgent, a.VersionID, a.HostID, a.SignatureVer, a.CipherSuite, a.AuthType, a.HostHeader, a.TLSVersion,
		a.AccessPointARN, a.ACLRequired, a.SourceRegion}
	n := len(vals)
	if a.FieldCount > 0 && a.FieldCount < n {
		n = a.FieldCount
	}
	size := 2
	for _, v := range vals[:n] {
		size += len(v) + 3
	}
	b := make([]byte, 0, size+16)
	b = append(b, '[')
	for i, v := range vals[:n] {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return string(append(b, ']'))
}

// AccessExtra encodes the unknown trailing fields, or "" when there are none.
func AccessExtra(a *AccessRecord) string {
	if len(a.Extra) == 0 {
		return ""
	}
	b := []byte{'['}
	for i, v := range a.Extra {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return string(append(b, ']'))
}

const hexDigits = "0123456789abcdef"

// jsonPlain marks the bytes a JSON string holds as they are: printable
// ASCII other than '"' and '\\'.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Runs of bytes that need no
// escaping (jsonPlain, and valid UTF-8) are copied in one append; invalid
// UTF-8 becomes \ufffd, byte by byte.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start, i := 0, 0
	for i < len(s) {
		if jsonPlain[s[i]] {
			i++
			continue
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default: // a byte that is not valid UTF-8
			b = append(b, `\ufffd`...)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AccessSpans encodes the record's field spans as the JSON array stored
// in s3_access_lines.spans: [offset, length, offset, length, ...], one pair
// per field in order, byte offsets into the raw line. "" when the record
// has none.
func AccessSpans(a *AccessRecord) string {
	if a.SpanCount == 0 {
		return ""
	}
	// 27 pairs of numbers below 2^20 (a line is at most 1 MiB) fit: built
	// on the stack, so the string is the only allocation.
	var buf [27*2*8 + 2]byte
	b := append(buf[:0], '[')
	for i, sp := range a.Spans[:a.SpanCount] {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUint(b, uint32(sp[0]))
		b = append(b, ',')
		b = appendUint(b, uint32(sp[1]))
	}
	return string(append(b, ']'))
}

// appendUint appends v in decimal (strconv.AppendInt costs twice as much
// for the 54 small numbers of every line).
func appendUint(b []byte, v uint32) []byte {
	var buf [10]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// AccessRow is an access-log line as the writer stores it, encoded by the
// ingest workers. Parsed records are pointer-heavy (a string per field,
// some 700 bytes a record); turning each into a row before it queues for
// the writer keeps neither the queue's memory nor the garbage collector's
// scanning growing with the field count, and the single writer encodes
// nothing.
type AccessRow struct {
	LineNo     int
	FieldCount int
	Ambiguous  bool
	Time       string
	Spans      string // AccessSpans: where each field is in Raw
	Fields     string // AccessFields, only for a record without spans
	Extra      string // JSON array of unknown trailing fields, or ""
	ParseError string
	Raw        string
}

// Row encodes the record for the writer. A parsed record is stored as its
// raw line and the spans of its fields, which the s3_access view cuts
// out of the line: nothing is stored twice, and every field reads back
// byte for byte as logged. A record without spans keeps its fields as a
// JSON array instead.
func (a *AccessRecord) Row() AccessRow {
	r := AccessRow{LineNo: a.LineNo, FieldCount: a.FieldCount, Ambiguous: a.Ambiguous, Time: a.Time,
		Extra: AccessExtra(a), ParseError: a.ParseError, Raw: a.Raw}
	if a.SpanCount > 0 {
		r.Spans = AccessSpans(a)
	} else {
		r.Fields = AccessFields(a)
	}
	return r
}
