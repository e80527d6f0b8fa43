package lake

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// SignFileName is the name CloudTrail gives a query's sign file.
const SignFileName = "result_sign.json"

// resultName matches the name of a result file, also when a copy renamed
// it ("result_1 (1).csv.gz", "<query-id>_result_1.csv.gz").
var resultName = regexp.MustCompile(`(^|[^A-Za-z0-9])result_[0-9]+([^0-9][^/]*)?\.csv\.gz$`)

// exactResultName is the name CloudTrail gives a result file.
var exactResultName = regexp.MustCompile(`^result_[1-9][0-9]*\.csv\.gz$`)

// QueryFolder reports whether p (slash-separated) is a file directly in a
// CloudTrail Lake query folder,
// …/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<query-id>/<file>, and returns
// the query id.
func QueryFolder(p string) (queryID string, ok bool) {
	parts := strings.Split(p, "/")
	n := len(parts)
	if n < 7 || parts[n-7] != "CloudTrail-Lake" || parts[n-6] != "Query" {
		return "", false
	}
	if !digits(parts[n-5], 4) || !digits(parts[n-4], 2) || !digits(parts[n-3], 2) || parts[n-2] == "" {
		return "", false
	}
	return parts[n-2], true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LooksLikeSignFile reports whether the file at p whose first bytes are
// head is a sign file: its name is result_sign.json (in a query folder or
// anywhere), or a copy's renaming of it (a name ending in result_sign.json,
// or starting with result_sign and ending in .json, such as
// "result_sign (1).json"); and head is a JSON object naming the members
// "hashSignature" and "files". head may be a prefix of the file: a sign file
// is small and both members come early, but a head too short to hold them
// is not recognised.
func LooksLikeSignFile(p string, head []byte) bool {
	base := path.Base(p)
	if !strings.HasSuffix(base, SignFileName) && !(strings.HasPrefix(base, "result_sign") && strings.HasSuffix(base, ".json")) {
		return false
	}
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	return hasMember(head, "hashSignature") && hasMember(head, "files")
}

// hasMember reports whether head contains "name" followed by a colon.
func hasMember(head []byte, name string) bool {
	key := []byte(`"` + name + `"`)
	for rest := head; ; {
		i := bytes.Index(rest, key)
		if i < 0 {
			return false
		}
		rest = rest[i+len(key):]
		after := bytes.TrimLeft(rest, " \t\r\n")
		if len(after) > 0 && after[0] == ':' {
			return true
		}
	}
}

// LooksLikeResult reports whether p names a result file in a query folder:
// result_<n>.csv.gz directly under …/CloudTrail-Lake/Query/yyyy/mm/dd/<id>/.
// A result file elsewhere (a local export, a flattened copy) is recognised
// with IsResultName by a caller that knows its folder holds a sign file.
func LooksLikeResult(p string) bool {
	if _, ok := QueryFolder(p); !ok {
		return false
	}
	return exactResultName.MatchString(path.Base(p))
}

// IsResultName reports whether name (a base name) is a result file's name
// as CloudTrail writes it (result_<n>.csv.gz) or as a copy may have renamed
// it to avoid a clash: "result_1 (1).csv.gz", "result_1-2.csv.gz",
// "<query-id>_result_1.csv.gz".
func IsResultName(name string) bool {
	return !strings.Contains(name, "/") && resultName.MatchString(name)
}
