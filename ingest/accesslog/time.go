package accesslog

import (
	"strings"
	"time"
)

var months = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// fallbackLayouts cover forms seen in docs but not in real logs: a day
// without its leading zero and the full month name (one AWS paragraph
// writes %B).
var fallbackLayouts = []string{
	"2/Jan/2006:15:04:05 -0700",
	"2/January/2006:15:04:05 -0700",
}

// parseLogTime converts field 3 without its brackets,
// "06/Feb/2019:00:00:38 +0000", to "2019-02-06T00:00:38Z". The common
// UTC form is parsed by hand; it is on the hot path.
func parseLogTime(s string) (string, bool) {
	if t, ok := fastUTC(s); ok {
		return t, true
	}
	if t, ok := parseFixed(s); ok {
		return formatUTC(t.UTC()), true
	}
	for _, l := range fallbackLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05Z"), true
		}
	}
	return "", false
}

// logClock is the date and clock of "dd/Mon/yyyy:hh:mm:ss ±hhmm".
type logClock struct{ day, mon, year, hh, mm, ss int }

// splitClock reads the fixed-width fields both parsers share; ok is false
// unless every field is well formed and in range (the day is checked
// against the month).
func splitClock(s string) (c logClock, ok bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return c, false
	}
	for i, m := range months {
		if strings.EqualFold(s[3:6], m) {
			c.mon = i + 1
			break
		}
	}
	var ok1, ok2, ok3, ok4, ok5 bool
	c.day, ok1 = num(s[0:2])
	c.year, ok2 = num(s[7:11])
	c.hh, ok3 = num(s[12:14])
	c.mm, ok4 = num(s[15:17])
	c.ss, ok5 = num(s[18:20])
	ok = c.mon != 0 && ok1 && ok2 && ok3 && ok4 && ok5 && c.day >= 1 && c.day <= daysIn(c.mon, c.year) &&
		c.hh <= 23 && c.mm <= 59 && c.ss <= 59
	return c, ok
}

// fastUTC handles the form every real log uses, "dd/Mon/yyyy:hh:mm:ss
// +0000", by moving bytes; anything else goes to parseFixed.
func fastUTC(s string) (string, bool) {
	c, ok := splitClock(s)
	if !ok || s[20:] != " +0000" {
		return "", false
	}
	b := [20]byte{
		s[7], s[8], s[9], s[10], '-', byte('0' + c.mon/10), byte('0' + c.mon%10), '-', s[0], s[1], 'T',
		s[12], s[13], ':', s[15], s[16], ':', s[18], s[19], 'Z',
	}
	return string(b[:]), true
}

func daysIn(mon, year int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseFixed parses exactly "dd/Mon/yyyy:hh:mm:ss ±hhmm" and rejects
// out-of-range values instead of letting time.Date normalise them.
func parseFixed(s string) (time.Time, bool) {
	c, ok := splitClock(s)
	if !ok || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	zh, ok1 := num(s[22:24])
	zm, ok2 := num(s[24:26])
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	off := zh*3600 + zm*60
	if s[21] == '-' {
		off = -off
	}
	loc := time.UTC
	if off != 0 {
		loc = time.FixedZone("", off)
	}
	return time.Date(c.year, time.Month(c.mon), c.day, c.hh, c.mm, c.ss, 0, loc), true
}

func num(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// formatUTC is t.Format("2006-01-02T15:04:05Z") for years 0-9999,
// without the layout interpreter.
func formatUTC(t time.Time) string {
	y, mo, d := t.Date()
	h, mi, se := t.Clock()
	if y < 0 || y > 9999 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	b := [20]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(mo)/10), byte('0' + int(mo)%10), '-',
		byte('0' + d/10), byte('0' + d%10), 'T',
		byte('0' + h/10), byte('0' + h%10), ':',
		byte('0' + mi/10), byte('0' + mi%10), ':',
		byte('0' + se/10), byte('0' + se%10), 'Z',
	}
	return string(b[:])
}
