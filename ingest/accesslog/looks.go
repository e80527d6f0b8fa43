package accesslog

import (
	"bytes"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// headSize is how much of a file Looks is meant to see.
const headSize = 4 << 10

// operationKinds are the first part of field 7 (FORMATS.md C.1).
var operationKinds = []string{"REST", "SOAP", "WEBSITE", "BATCH", "S3"}

// Looks reports whether head, the first bytes of a file (up to 4 KiB), is
// an S3 server access log, for classifying files by content when their
// names say nothing. The first line must start with a canonical-looking
// Bucket Owner (64 hex digits, or 16-128 letters and digits as in
// anonymised samples), a bracketed time that parses and an Operation of
// the form KIND.WORD[.WORD…] with KIND one of REST, SOAP, WEBSITE, BATCH,
// S3. If the whole first line is in head, it must also parse with no
// error and at least 18 fields; a first line cut off by the end of head
// is judged on its first 7 fields.
func Looks(head []byte) bool {
	head = bytes.TrimPrefix(head, bom)
	line, _, complete := bytes.Cut(head, []byte{'\n'})
	if !complete && len(head) < headSize {
		complete = true // the whole file is one line without a newline
	}
	s := string(bytes.TrimRight(line, "\r"))
	var rec store.AccessRecord
	ParseLine(s, &rec)
	if !ownerLooks(rec.BucketOwner) || rec.Bucket == "" || rec.Time == "" || !operationLooks(rec.Operation) {
		return false
	}
	if complete {
		return rec.ParseError == "" && rec.FieldCount >= minFields
	}
	return true
}

func ownerLooks(v string) bool {
	if len(v) == 64 && allOf(v, cHex) {
		return true
	}
	return len(v) >= 16 && len(v) <= 128 && allOf(v, cAlnum)
}

func operationLooks(v string) bool {
	kind, rest, ok := strings.Cut(v, ".")
	if !ok || rest == "" {
		return false
	}
	known := false
	for _, k := range operationKinds {
		known = known || kind == k
	}
	return known && allOf(rest, cUpper|cDigit|cUnder|cDot)
}
