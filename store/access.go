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

// AccessRow is an access-log line as the writer stores it: the fields
// already encoded (AccessFields, AccessExtra). Parsed records are
// pointer-heavy (a string per field, some 500 bytes a record); the ingest
// workers turn each into a row before it queues for the writer, so neither
// the queue's memory nor the garbage collector's scanning grows with the
// field count, and the single writer encodes nothing.
type AccessRow struct {
	LineNo     int
	FieldCount int
	Ambiguous  bool
	Time       string
	Fields     string // JSON array of fields 1-27, "" for an unparsed line
	Extra      string // JSON array of unknown trailing fields, or ""
	ParseError string
	Raw        string
}

// Row encodes the record for the writer.
func (a *AccessRecord) Row() AccessRow {
	return AccessRow{LineNo: a.LineNo, FieldCount: a.FieldCount, Ambiguous: a.Ambiguous, Time: a.Time,
		Fields: AccessFields(a), Extra: AccessExtra(a), ParseError: a.ParseError, Raw: a.Raw}
}
