package accesslog

import (
	"fmt"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

const (
	fixedFields = 27 // fields AWS defines today (FORMATS.md C.1)
	minFields   = 18 // through Version Id; the oldest logs we accept
	// maxSteps bounds the candidate splits tried per line (workFactor
	// bounds the bytes scanned); real lines need fewer than ten.
	maxSteps = 256
)

// Field positions, 0-based.
const (
	fOwner = iota
	fBucket
	fTime
	fRemoteIP
	fRequester
	fRequestID
	fOperation
	fKey
	fRequestURI
	fStatus
	fErrorCode
	fBytesSent
	fObjectSize
	fTotalTime
	fTurnAround
	fReferer
	fUserAgent
	fVersionID
	fHostID
	fSigVer
	fCipher
	fAuthType
	fHostHeader
	fTLS
	fAccessPoint
	fACLRequired
	fSourceRegion
)

var fieldNames = [fixedFields]string{
	"Bucket Owner", "Bucket", "Time", "Remote IP", "Requester", "Request ID",
	"Operation", "Key", "Request-URI", "HTTP status", "Error Code",
	"Bytes Sent", "Object Size", "Total Time", "Turn-Around Time", "Referer",
	"User-Agent", "Version Id", "Host Id", "Signature Version",
	"Cipher Suite", "Authentication Type", "Host Header", "TLS version",
	"Access Point ARN", "aclRequired", "Source Region",
}

// Hard faults: the line cannot be read as an access-log record.
const (
	_ = iota // no hard fault
	hardTooFew
	hardQuote   // quoted field without a closing quote
	hardBracket // "[" without "]"
)

// ParseLine parses one access-log line, without its newline, into rec.
// Trailing spaces, tabs and "\r" are ignored. It sets every parsed field,
// FieldCount, Extra, Ambiguous, ParseError and Raw (= line); EvidenceID
// and LineNo are left as the caller set them, everything else is reset.
// A line that cannot be parsed gets ParseError, keeps Raw and has as many
// fields filled as could be split; it is never dropped.
func ParseLine(line string, rec *store.AccessRecord) {
	var p lineParser
	p.parse(line, rec)
}

type span struct{ s, e int }

// faults counts what is wrong with a (partial) split.
type faults struct {
	hard   int // the line cannot be read: too few fields, an unterminated quote or bracket
	hardAt int // field index of the first hard fault
	kind   int // kind of the first hard fault
	// shape counts fields that do not look like their kind; a bad HTTP
	// status counts twice, being the strongest sign of a wrong split.
	shape     int
	badStatus bool // also a parse error if this split wins
	n         int  // fixed fields present; more is better
	extraQ    bool // a quote in the unknown trailing fields
}

func (f *faults) addHard(at, kind int) {
	if f.hard == 0 {
		f.hardAt, f.kind = at, kind
	}
	f.hard++
}

// less orders splits: fewer hard faults, fewer shape faults, more fixed
// fields (less swallowed by a quoted field), then no quote in the unknown
// trailing fields (where a split that closed a quoted field too early
// leaves the real closing quote).
func (f faults) less(g faults) bool {
	switch {
	case f.hard != g.hard:
		return f.hard < g.hard
	case f.shape != g.shape:
		return f.shape < g.shape
	case f.n != g.n:
		return f.n > g.n
	}
	return !f.extraQ && g.extraQ
}

func (f faults) clean() bool { return f.hard == 0 && f.shape == 0 }

type split struct {
	f    [fixedFields]span
	n    int // fixed fields present
	tail int // offset of the first field after field 27; > len(line) if none
	flt  faults
}

// lineParser holds the search state for one line and a one-entry cache
// of the last time stamp (consecutive lines usually share it). It is
// reused across the lines of a file.
type lineParser struct {
	line      string // without trailing blanks
	lastQuote int    // offset of the last '"' in line, -1 if none
	cur, best split
	haveBest  bool
	steps     int // candidate splits tried
	work      int // bytes scanned by the search
	budget    int // limit on work: linear in the line length
	clean     int // fault-free splits seen
	ties      int // splits as good as best
	exhausted bool

	lastTimeRaw, lastTime string
}

// workFactor bounds the bytes the search may scan per byte of line, so
// parsing stays linear however a line is built; a real line needs
// about 2.
const workFactor = 32

func (p *lineParser) parse(line string, rec *store.AccessRecord) {
	id, no := rec.EvidenceID, rec.LineNo
	*rec = store.AccessRecord{EvidenceID: id, LineNo: no, Raw: line}

	end := len(line)
	for end > 0 && (line[end-1] == ' ' || line[end-1] == '\r' || line[end-1] == '\t') {
		end--
	}
	p.line = line[:end]
	p.lastQuote = lastQuote(p.line)
	p.haveBest, p.steps, p.work, p.clean, p.ties, p.exhausted = false, 0, 0, 0, 0, false
	p.budget = workFactor*end + 4096
	if end == 0 {
		rec.ParseError = "no fields: line is blank"
		return
	}

	p.head()
	if !p.haveBest {
		panic("accesslog: search ended without a split") // the first path always reaches a leaf
	}
	b := &p.best
	p.fill(rec)
	rec.Ambiguous = p.exhausted || p.clean > 1 || (p.clean == 0 && p.ties > 1)

	switch {
	case b.flt.hard > 0:
		rec.ParseError = p.hardMessage(b, rec.FieldCount)
	case b.flt.badStatus:
		v := p.line[b.f[fStatus].s:b.f[fStatus].e]
		rec.ParseError = fmt.Sprintf("field %d (%s) %q is not a 3-digit code or -", fStatus+1, fieldNames[fStatus], v)
	case rec.Time == "":
		rec.ParseError = fmt.Sprintf("field 3 (Time) %q is not [dd/Mon/yyyy:hh:mm:ss +zzzz]", p.line[b.f[fTime].s:b.f[fTime].e])
	}
}

func (p *lineParser) hardMessage(b *split, fields int) string {
	at := b.flt.hardAt
	switch b.flt.kind {
	case hardTooFew:
		return fmt.Sprintf("only %d fields, want at least %d", fields, minFields)
	case hardQuote:
		return fmt.Sprintf("unterminated quote in field %d (%s)", at+1, fieldNames[at])
	case hardBracket:
		return fmt.Sprintf("unterminated [ in field %d (%s)", at+1, fieldNames[at])
	}
	return "internal error: unknown fault"
}

// fill copies the best split into rec.
func (p *lineParser) fill(rec *store.AccessRecord) {
	b := &p.best
	l := p.line
	rec.FieldCount = b.n
	dst := fieldPtrs(rec)
	for i := 0; i < b.n; i++ {
		rec.Spans[i] = [2]int32{int32(b.f[i].s), int32(b.f[i].e - b.f[i].s)}
	}
	rec.SpanCount = b.n
	for i := 0; i < b.n; i++ {
		if i == fTime {
			rec.Time = p.formatTime(l[b.f[i].s:b.f[i].e])
			continue
		}
		*dst[i] = l[b.f[i].s:b.f[i].e]
	}
	if b.n == fixedFields && b.tail < len(l) {
		for pos := b.tail; pos < len(l); {
			var t span
			t, pos = p.extraToken(pos)
			rec.Extra = append(rec.Extra, l[t.s:t.e])
		}
		rec.FieldCount += len(rec.Extra)
	}
}

func (p *lineParser) formatTime(raw string) string {
	if raw == p.lastTimeRaw && raw != "" {
		return p.lastTime
	}
	t, ok := parseLogTime(raw)
	if !ok {
		return ""
	}
	p.lastTimeRaw, p.lastTime = raw, t
	return t
}

// token returns the token at pos, up to the next space, and where the
// following token starts (> len(line) at the end of the line).
func (p *lineParser) token(pos int) (span, int) {
	l := p.line
	if i := strings.IndexByte(l[pos:], ' '); i >= 0 {
		p.work += i + 1
		return span{pos, pos + i}, pos + i + 1
	}
	p.work += len(l) - pos
	return span{pos, len(l)}, len(l) + 1
}

// closes reports whether the quote at j can close a quoted field.
func (p *lineParser) closes(j int) bool {
	return j+1 == len(p.line) || p.line[j+1] == ' '
}

// over reports whether the search has spent its budget. The first path
// is always finished, so there is a split to report.
func (p *lineParser) over() bool {
	if p.haveBest && (p.work > p.budget || p.steps > maxSteps) {
		p.exhausted = true
	}
	return p.exhausted
}

// pruned reports whether a partial split is already worse than the best
// or the budget is spent.
func (p *lineParser) pruned(f faults) bool {
	if !p.haveBest {
		return false
	}
	b := p.best.flt
	return f.hard > b.hard || (f.hard == b.hard && f.shape > b.shape) || p.over()
}

// head splits fields 1-8, which never branch, then searches the rest.
func (p *lineParser) head() {
	l := p.line
	var f faults
	pos := 0
	for i := fOwner; i <= fKey; i++ {
		if pos >= len(l) {
			p.leaf(i, pos, f)
			return
		}
		if i == fTime && l[pos] == '[' {
			j := pos + 1
			for {
				k := strings.IndexByte(l[j:], ']')
				if k < 0 {
					p.cur.f[i] = span{pos + 1, len(l)}
					f.addHard(i, hardBracket)
					p.leaf(i+1, len(l)+1, f)
					return
				}
				j += k
				if j+1 == len(l) || l[j+1] == ' ' {
					break
				}
				j++
			}
			p.cur.f[i] = span{pos + 1, j}
			pos = j + 2
			continue
		}
		p.cur.f[i], pos = p.token(pos)
	}
	p.work = 0 // fields 1-8 are split once; only the search is budgeted
	p.quoted(fRequestURI, pos, f)
}

// quoted splits quoted field i (Request-URI, Referer or User-Agent) at
// pos in every possible way and continues the search after it.
func (p *lineParser) quoted(i, pos int, f faults) {
	l := p.line
	if pos >= len(l) {
		p.leaf(i, pos, f)
		return
	}
	if l[pos] != '"' {
		t, next := p.token(pos)
		p.cur.f[i] = t
		if v := l[t.s:t.e]; v != "-" && (i != fReferer || v == "" || strings.IndexByte(v, '"') >= 0) {
			f.shape++ // the AWS regex allows a bare Referer, nothing else
		}
		p.after(i, next, f)
		return
	}
	found := false
	// try takes the quote at j as the field's end, if it can close it, and
	// goes on with the next field; false means the search budget is spent.
	try := func(j int) bool {
		if !p.closes(j) {
			return !p.over()
		}
		p.steps++
		if p.over() {
			return false
		}
		found = true
		p.cur.f[i] = span{pos + 1, j}
		p.after(i, j+2, f)
		return true
	}
	if i == fUserAgent {
		// The last field that may hold a quote: its true end is most
		// likely the last candidate, so try from the right.
		for end := p.lastQuote + 1; end > pos+1; {
			j := strings.LastIndexByte(l[pos+1:end], '"')
			if j < 0 {
				break
			}
			j += pos + 1
			p.work += end - j
			end = j
			if !try(j) {
				return
			}
		}
	} else {
		for from := pos + 1; from < len(l); {
			j := strings.IndexByte(l[from:], '"')
			if j < 0 {
				break
			}
			j += from
			p.work += j - from + 1
			from = j + 1
			if !try(j) {
				return
			}
		}
	}
	if !found && !p.exhausted {
		p.cur.f[i] = span{pos + 1, len(l)}
		f.addHard(i, hardQuote)
		p.leaf(i+1, len(l)+1, f)
	}
}

// after continues the search once quoted field i has been split and the
// next field starts at pos.
func (p *lineParser) after(i, pos int, f faults) {
	if p.pruned(f) {
		return
	}
	switch i {
	case fRequestURI:
		p.middle(pos, f)
	case fReferer:
		p.quoted(fUserAgent, pos, f)
	default:
		p.trailing(pos, f)
	}
}

// middle splits fields 10-15 (status, error code, sizes, times).
func (p *lineParser) middle(pos int, f faults) {
	l := p.line
	for i := fStatus; i <= fTurnAround; i++ {
		if pos >= len(l) {
			p.leaf(i, pos, f)
			return
		}
		var t span
		t, pos = p.token(pos)
		p.cur.f[i] = t
		v := l[t.s:t.e]
		switch i {
		case fStatus:
			if !isStatus(v) {
				f.shape += 2
				f.badStatus = true
			}
		case fErrorCode:
			if !isAlnumOrDash(v) {
				f.shape++
			}
		default:
			if !isDigitsOrDash(v) {
				f.shape++
			}
		}
		if p.pruned(f) {
			return
		}
	}
	p.quoted(fReferer, pos, f)
}

// trailing splits fields 18-27; the rest are unknown extras.
func (p *lineParser) trailing(pos int, f faults) {
	l := p.line
	for i := fVersionID; i < fixedFields; i++ {
		if pos >= len(l) {
			p.leaf(i, pos, f)
			return
		}
		var t span
		t, pos = p.token(pos)
		p.cur.f[i] = t
		if !shapeOK(i, l[t.s:t.e]) {
			f.shape++
		}
		if p.pruned(f) {
			return
		}
	}
	p.leaf(fixedFields, pos, f)
}

// leaf scores a complete split: n fixed fields, unknown extras from pos
// (only when n is 27; a shorter split ended with the line). It costs O(1)
// so that trying many splits stays linear.
func (p *lineParser) leaf(n, pos int, f faults) {
	if n < minFields && f.hard == 0 { // an unterminated field already explains it
		f.addHard(n, hardTooFew)
	}
	f.n = n
	f.extraQ = pos < len(p.line) && p.lastQuote >= pos
	if f.clean() {
		p.clean++
	}
	switch {
	case !p.haveBest || f.less(p.best.flt):
		p.best.f = p.cur.f
		p.best.n, p.best.tail, p.best.flt = n, pos, f
		p.haveBest = true
		p.ties = 1
	case !p.best.flt.less(f):
		p.ties++
	}
}

// extraToken returns an unknown trailing field at pos: a quoted token runs
// to the first quote followed by a space or the end of the line.
func (p *lineParser) extraToken(pos int) (t span, next int) {
	l := p.line
	if l[pos] == '"' {
		for from := pos + 1; from < len(l); {
			j := strings.IndexByte(l[from:], '"')
			if j < 0 {
				break
			}
			j += from
			if p.closes(j) {
				return span{pos, j + 1}, j + 2
			}
			from = j + 1
		}
		return span{pos, len(l)}, len(l) + 1
	}
	return p.token(pos)
}

// lastQuote is strings.LastIndexByte(l, '"'), found forwards with the
// vectorised IndexByte: lines hold few quotes and a long quote-free tail.
func lastQuote(l string) int {
	last := -1
	for {
		i := strings.IndexByte(l[last+1:], '"')
		if i < 0 {
			return last
		}
		last += i + 1
	}
}
