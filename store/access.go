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

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Compact encodes the record's fields (AccessFields) and keeps only what
// the writer stores: the line number, time, encoded fields, flags, unknown
// trailing fields and the raw line. Parsed records are pointer-heavy (one
// string per field); compacting them before they queue for the writer keeps
// the garbage collector from rescanning millions of field strings.
func (a *AccessRecord) Compact() {
	*a = AccessRecord{
		EvidenceID: a.EvidenceID, LineNo: a.LineNo, Time: a.Time, Fields: AccessFields(a), Extra: a.Extra,
		FieldCount: a.FieldCount, Ambiguous: a.Ambiguous, ParseError: a.ParseError, Raw: a.Raw,
	}
}
