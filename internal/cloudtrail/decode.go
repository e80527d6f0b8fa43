package cloudtrail

import (
	"github.com/goccy/go-json/jsontext"
	gojson "github.com/goccy/go-json/v2"
)

// recordOptions are encoding/json/v2 semantics (as implemented by
// github.com/goccy/go-json/v2): names match case-sensitively, a name given
// twice in any object of the record is an error, and a JSON string must
// not go into a Go string field unless it is a string. Invalid UTF-8 is
// allowed (and replaced by U+FFFD in the extracted columns) because Split
// accepts it too and Raw keeps the exact bytes.
//
// Measured on the invictus corpus (PERF-BASELINE §4 method): split +
// goccy/v2 ≈ 370 MB/s; goccy v1 with DecodeNoCopyString ≈ 520 MB/s, but
// v1 matches names case-insensitively and lets the last duplicate win, so a
// crafted record could read differently here than in another tool. Either
// is several times faster than the SQLite writer (PERF-BASELINE §5), so
// the stricter semantics cost no end-to-end throughput.
var recordOptions = jsontext.AllowInvalidUTF8(true)

func decodeRecord(raw []byte, r *record) error {
	return gojson.Unmarshal(raw, r, recordOptions)
}
