package cloudtrail

import (
	"fmt"
	"strings"
	"time"
)

// File types named in CloudTrail keys (the folder after the account).
const (
	TypeLog     = "CloudTrail"
	TypeDigest  = "CloudTrail-Digest"
	TypeInsight = "CloudTrail-Insight"
	// Network activity events (VPC endpoint events) and aggregated events
	// (5-minute summaries of data events) have folders of their own
	// (AWS, "Finding your CloudTrail log files"). Their file names are not
	// documented; they are parsed as log files' are, with their own type
	// in the name as in the folder.
	TypeNetworkActivity = "CloudTrail-NetworkActivity"
	TypeAggregated      = "CloudTrail-Aggregated"
)

// IsRecordsType reports whether t names a folder of record files (log,
// Insights, network activity or aggregated events), not digests.
func IsRecordsType(t string) bool {
	switch t {
	case TypeLog, TypeInsight, TypeNetworkActivity, TypeAggregated:
		return true
	}
	return false
}

// Time layouts in CloudTrail file names (FORMATS.md D.1, D.2): log files
// carry the delivery minute, digests the end second.
const (
	logTimeLayout    = "20060102T1504Z"
	digestTimeLayout = "20060102T150405Z"
)

// keyExts are the accepted file-name endings, longest first.
var keyExts = []string{".json.gz", ".json", ".gz"}

// KeyInfo is what an S3 key, or a local path ending in one, says about a
// CloudTrail file (FORMATS.md D.1, D.2).
type KeyInfo struct {
	Key        string // the "AWSLogs/..." suffix exactly; "" when FileNameOnly
	Prefix     string // text before "AWSLogs/" without its trailing '/'; may contain '/'
	OrgID      string // o-xxxxxxxxxx for organization trails
	Account    string
	Type       string // TypeLog, TypeDigest, TypeInsight, TypeNetworkActivity or TypeAggregated
	Region     string // delivery Region (folder, else file name)
	Date       string // date folder as YYYY-MM-DD; "" when FileNameOnly
	Trail      string // digests only; may contain '_'
	HomeRegion string // digests only
	Unique     string // log and Insight files only: the 16-character unique string
	Ext        string // ".json.gz", ".json" or ".gz"
	// Time is the delivery time (log files, to the minute) or digest end
	// time (digests, to the second), UTC.
	Time         time.Time
	Backfill     bool // digest name ends "_backfill"
	FileNameOnly bool // no AWSLogs/ part: only the file name was parsed
	// Problems lists disagreements between folders and file name (account,
	// Region, date); a key with problems still parses.
	Problems []string
}

// FileName rebuilds the file name from the parsed fields; for any key
// ParseKey accepts without Problems it equals the key's last component.
func (k KeyInfo) FileName() string {
	switch k.Type {
	case TypeDigest:
		name := k.Account + "_" + k.Type + "_" + k.Region + "_" + k.Trail + "_" + k.HomeRegion + "_" + k.Time.Format(digestTimeLayout)
		if k.Backfill {
			name += "_backfill"
		}
		return name + k.Ext
	default:
		return k.Account + "_" + k.Type + "_" + k.Region + "_" + k.Time.Format(logTimeLayout) + "_" + k.Unique + k.Ext
	}
}

// ParseKey parses path (components separated by '/') as a CloudTrail log,
// Insight or digest key:
//
//	[<prefix>/]AWSLogs/[<o-orgid>/]<account>/<type>/<region>/<YYYY>/<MM>/<DD>/<file>
//	log, Insight: <account>_<type>_<region>_<YYYYMMDDTHHmmZ>_<unique><ext>
//	digest:       <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>[_backfill]<ext>
//
// with <ext> ".json.gz", ".json" or ".gz". Trail names may contain '_', so
// digest names are parsed from both ends. Every "AWSLogs" component is
// tried, first to last. When none gives a CloudTrail key, the last
// component alone is parsed as a file name (FileNameOnly). ok is false
// when neither works.
func ParseKey(path string) (KeyInfo, bool) {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "AWSLogs" {
			continue
		}
		k, ok := parseAWSLogs(parts[i+1:])
		if !ok {
			continue
		}
		k.Prefix = strings.Join(parts[:i], "/")
		k.Key = strings.Join(parts[i:], "/")
		return k, true
	}
	k, ok := parseFileName(parts[len(parts)-1])
	k.FileNameOnly = ok
	return k, ok
}

// parseAWSLogs parses the components after "AWSLogs".
func parseAWSLogs(p []string) (KeyInfo, bool) {
	var org string
	if len(p) > 0 && isOrgID(p[0]) {
		org, p = p[0], p[1:]
	}
	if len(p) != 7 || !isAccount(p[0]) || !isRegionish(p[2]) {
		return KeyInfo{}, false
	}
	if p[1] != TypeDigest && !IsRecordsType(p[1]) {
		return KeyInfo{}, false
	}
	date, err := time.Parse("2006/01/02", p[3]+"/"+p[4]+"/"+p[5])
	if err != nil || len(p[3]) != 4 || len(p[4]) != 2 || len(p[5]) != 2 {
		return KeyInfo{}, false
	}
	k, ok := parseFileName(p[6])
	if !ok || k.Type != p[1] {
		return KeyInfo{}, false
	}
	if k.Account != p[0] {
		k.Problems = append(k.Problems, fmt.Sprintf("file name account %s differs from folder account %s", k.Account, p[0]))
	}
	if k.Region != p[2] {
		k.Problems = append(k.Problems, fmt.Sprintf("file name region %s differs from folder region %s", k.Region, p[2]))
	}
	k.Date = date.Format(time.DateOnly)
	if d := k.Time.Format(time.DateOnly); d != k.Date {
		k.Problems = append(k.Problems, fmt.Sprintf("file name date %s differs from date folder %s", d, k.Date))
	}
	k.OrgID, k.Account, k.Region = org, p[0], p[2]
	return k, true
}

// parseFileName parses a CloudTrail file name (no folders).
func parseFileName(name string) (KeyInfo, bool) {
	var k KeyInfo
	for _, ext := range keyExts {
		if strings.HasSuffix(name, ext) {
			k.Ext, name = ext, strings.TrimSuffix(name, ext)
			break
		}
	}
	if k.Ext == "" {
		return KeyInfo{}, false
	}
	f := strings.Split(name, "_")
	if len(f) < 5 || !isAccount(f[0]) || !isRegionish(f[2]) {
		return KeyInfo{}, false
	}
	k.Account, k.Type, k.Region = f[0], f[1], f[2]
	var err error
	switch {
	case IsRecordsType(k.Type):
		// The unique string has no '_' in any key seen; keep any that
		// follow with it rather than reject the file.
		k.Unique = strings.Join(f[4:], "_")
		if k.Unique == "" || len(f[3]) != len(logTimeLayout) {
			return KeyInfo{}, false
		}
		k.Time, err = parseDigits(logTimeLayout, f[3])
	case k.Type == TypeDigest:
		if f[len(f)-1] == "backfill" {
			k.Backfill, f = true, f[:len(f)-1]
		}
		if len(f) < 6 {
			return KeyInfo{}, false
		}
		k.Trail = strings.Join(f[3:len(f)-2], "_")
		k.HomeRegion = f[len(f)-2]
		ts := f[len(f)-1]
		if k.Trail == "" || !isRegionish(k.HomeRegion) || len(ts) != len(digestTimeLayout) {
			return KeyInfo{}, false
		}
		k.Time, err = parseDigits(digestTimeLayout, ts)
	default:
		return KeyInfo{}, false
	}
	if err != nil {
		return KeyInfo{}, false
	}
	return k, true
}

// parseDigits parses a file-name timestamp whose digits must be exactly
// where layout has them (time.Parse alone accepts a one-digit hour).
func parseDigits(layout, s string) (time.Time, error) {
	for i := 0; i < len(s); i++ {
		if isDigit(layout[i]) != isDigit(s[i]) {
			return time.Time{}, fmt.Errorf("timestamp %q does not match %s", s, layout)
		}
	}
	return time.Parse(layout, s)
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isOrgID matches AWS Organizations IDs: "o-" and 10 to 32 lower-case
// letters or digits.
func isOrgID(s string) bool {
	if len(s) < 12 || len(s) > 34 || !strings.HasPrefix(s, "o-") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// isRegionish accepts Region-shaped names, also ones not yet in IsRegion's
// list: lower-case letters, digits and '-', starting with a letter,
// ending with a digit, with at least two '-'.
func isRegionish(s string) bool {
	if len(s) < 5 || s[0] < 'a' || s[0] > 'z' || !isDigit(s[len(s)-1]) || strings.Count(s, "-") < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && c != '-' && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}
