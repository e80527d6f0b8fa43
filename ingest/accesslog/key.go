package accesslog

import (
	"strings"
	"time"
)

// Key layouts (KeyInfo.Layout).
const (
	LayoutSimple      = "simple"
	LayoutPartitioned = "partitioned"
)

// KeyInfo describes an access-log object key (FORMATS.md C.4).
type KeyInfo struct {
	Layout string // LayoutSimple or LayoutPartitioned
	// Prefix is everything before the account (partitioned) or before the
	// time stamp (simple). For a local path it includes the folders, as
	// the key's own prefix cannot be told apart from them.
	Prefix       string
	AccountID    string // partitioned only
	Region       string // partitioned only
	SourceBucket string // partitioned only
	Unique       string // the UniqueString after the time stamp
	Time         time.Time
}

// stampLen is len("2006-01-02-15-04-05").
const stampLen = 19

// ParseKey recognises an access-log object key in either layout:
//
//	SimplePrefix:      [prefix]YYYY-MM-DD-hh-mm-ss-UNIQUE
//	PartitionedPrefix: [prefix]<SourceAccountId>/<SourceRegion>/<SourceBucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
//
// path may be a full local path; only "/" separates components and only
// the trailing components are matched. UNIQUE is 1-64 letters and digits
// (AWS writes 16 hex digits), so a name with an extension (".json.gz",
// ".log") is not a delivered access-log key. A partitioned key needs a
// 12-digit account at the end of its component, a region such as
// us-east-1, a bucket name, and YYYY/MM/DD equal to the name's date;
// otherwise the key is read as simple. Time is UTC.
func ParseKey(path string) (KeyInfo, bool) {
	slash := strings.LastIndexByte(path, '/')
	dir, name := path[:slash+1], path[slash+1:]
	dash := strings.LastIndexByte(name, '-')
	if dash < stampLen {
		return KeyInfo{}, false
	}
	unique := name[dash+1:]
	if unique == "" || len(unique) > 64 || !allOf(unique, cAlnum) {
		return KeyInfo{}, false
	}
	stamp := name[dash-stampLen : dash]
	t, ok := parseStamp(stamp)
	if !ok {
		return KeyInfo{}, false
	}
	info := KeyInfo{Layout: LayoutSimple, Prefix: dir + name[:dash-stampLen], Unique: unique, Time: t}
	if dash == stampLen {
		if p, ok := partitioned(dir, stamp); ok {
			p.Unique, p.Time = unique, t
			return p, true
		}
	}
	return info, true
}

// partitioned matches dir = [prefix]acct/region/bucket/YYYY/MM/DD/.
func partitioned(dir, stamp string) (KeyInfo, bool) {
	if !strings.HasSuffix(dir, "/") {
		return KeyInfo{}, false
	}
	var c [6]string // acct+prefix, region, bucket, YYYY, MM, DD
	rest := dir[:len(dir)-1]
	for i := len(c) - 1; i > 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return KeyInfo{}, false
		}
		c[i], rest = rest[j+1:], rest[:j]
	}
	j := strings.LastIndexByte(rest, '/')
	c[0] = rest[j+1:]
	if c[3]+"-"+c[4]+"-"+c[5] != stamp[:10] {
		return KeyInfo{}, false
	}
	if len(c[0]) < 12 || !allOf(c[0][len(c[0])-12:], cDigit) || !regionLooks(c[1]) || !bucketLooks(c[2]) {
		return KeyInfo{}, false
	}
	acct := c[0][len(c[0])-12:]
	return KeyInfo{
		Layout:       LayoutPartitioned,
		Prefix:       rest[:j+1] + c[0][:len(c[0])-12],
		AccountID:    acct,
		Region:       c[1],
		SourceBucket: c[2],
	}, true
}

// parseStamp parses "2006-01-02-15-04-05" strictly (no normalising).
func parseStamp(s string) (time.Time, bool) {
	for i := 0; i < len(s); i++ {
		if (i == 4 || i == 7 || i == 10 || i == 13 || i == 16) != (s[i] == '-') {
			return time.Time{}, false
		}
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	h, ok4 := num(s[11:13])
	mi, ok5 := num(s[14:16])
	se, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// regionLooks accepts names like us-east-1, us-gov-west-1, cn-north-1.
func regionLooks(v string) bool {
	return strings.Count(v, "-") >= 2 && isLower(v[0]) && isDigit(v[len(v)-1]) &&
		allOf(v, cLower|cDigit|cDash)
}

// bucketLooks accepts S3 bucket names, legacy ones (capitals, "_") included.
func bucketLooks(v string) bool {
	return len(v) >= 3 && len(v) <= 255 &&
		allOf(v, cAlnum|cDot|cDash|cUnder)
}
