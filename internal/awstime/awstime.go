// Package awstime parses the timestamp forms found in AWS CLI and S3 exports.
package awstime

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the timestamp shapes found in AWS CLI output (FORMATS.md
// B.4): RFC 3339 with or without fractional seconds and zone, RFC 1123
// headers (awscli v1 "wire" format), and CloudTrail's own second-precision
// UTC form.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	time.RFC1123,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2006-01-02",
}

// Parse accepts every timestamp form that AWS CLI exports carry:
// RFC 3339 (fractional seconds, Z or ±hh:mm), RFC 1123, and epoch seconds
// as a JSON number or string ("1436317441.0"). Results are in UTC.
func Parse(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty timestamp")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && isEpochText(s) {
		sec, frac := splitEpoch(f)
		return time.Unix(sec, frac).UTC(), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}

func isEpochText(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != 'e' && c != 'E' && c != '+' {
			return false
		}
	}
	return true
}

func splitEpoch(f float64) (int64, int64) {
	sec := int64(f)
	frac := int64((f - float64(sec)) * 1e9)
	// Epoch milliseconds (S3 Inventory creationTimestamp) are far larger
	// than any plausible epoch-seconds value.
	if sec > 1e11 {
		ms := sec
		return ms / 1000, (ms % 1000) * 1e6
	}
	return sec, frac
}
