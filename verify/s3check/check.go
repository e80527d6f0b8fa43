package s3check

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// Result statuses. They are a public contract: add, never rename.
const (
	StatusValid            = "valid"
	StatusChecksumMismatch = "checksum_mismatch"
	StatusSizeMismatch     = "size_mismatch"
	StatusUnverifiable     = "unverifiable"
)

// Check types.
const (
	TypeFullObject    = "FULL_OBJECT"
	TypeComposite     = "COMPOSITE"
	TypeMultipartETag = "MULTIPART_ETAG"
	TypeSingleETag    = "SINGLE_ETAG"
	TypePart          = "PART" // one part's exported checksum (ObjectParts.Parts[].Checksum<ALG>)
)

// Result is the outcome of checking one object copy.
type Result struct {
	// Status is valid (at least one check ran, every check that ran
	// matched, and the size matched), size_mismatch (the bytes read differ
	// from a size the metadata claims; checksum checks are still
	// recorded), checksum_mismatch, or unverifiable (nothing could be
	// checked, or the object could not be read).
	Status string
	Size   int64 // bytes read
	// ExpectedSize is Plan.Size: the size the metadata claims, nil if none.
	ExpectedSize *int64
	Checks       []Check // one per value checked or skipped, then one per exported part checksum
	// Verdict is every check as {name, status, want, got}: readable,
	// size, one per Checks entry, verifiable; Status is derived from it by
	// Order.
	Verdict []verdict.Check
	// Reason says why the status is not valid: for unverifiable, why
	// nothing could be checked; for the others, what differed.
	Reason    string
	Conflicts []Conflict // Plan.Conflicts: each is a finding
	Notes     []string   // Plan.Notes
	Err       error      // the read error, when Status is unverifiable because reading failed
}

// Check is one exported value compared with the object bytes.
type Check struct {
	Algorithm string // "CRC32", ..., "XXHASH128", or "ETAG"
	Type      string // FULL_OBJECT, COMPOSITE, MULTIPART_ETAG, SINGLE_ETAG, PART; "" when never decided
	Expected  string // as exported
	Computed  string // same encoding as Expected; "" when nothing comparable was computed
	Match     bool
	// Method says how Computed was obtained: "full object", "parts from
	// ObjectParts (3 parts)", "assumed uniform part size 8 MiB
	// (consistent, not proven)", ...
	Method string
	// Skipped checks were not decided either way (an ETag that is not an
	// MD5, a composite value whose part sizes are unknown and no candidate
	// matched, a malformed value); Reason says why. They are never
	// mismatches and never make a result valid.
	Skipped bool
	Reason  string
}

// Verify is NewPlan followed by (*Plan).Check.
func Verify(metas []store.ObjectMeta, r io.Reader) (Result, error) {
	p, err := NewPlan(metas)
	if err != nil {
		return Result{}, err
	}
	return p.Check(r), nil
}

// Check reads the object once from r and computes, in that single pass,
// every digest the plan needs: whole-object digests, per-part digests at
// the exported part boundaries, and per-part digests along each candidate
// part size. A read error makes the result unverifiable (Result.Err).
func (p *Plan) Check(r io.Reader) Result {
	var units []unit
	fullH := make([]hash.Hash, len(p.full))
	for i, a := range p.full {
		fullH[i] = algorithms[a].newHash()
		units = append(units, hashUnit{fullH[i], algorithms[a].cost})
	}
	var known map[string]*layout
	if len(p.known) > 0 {
		known = map[string]*layout{}
		for _, a := range p.known {
			_, keep := p.keepParts[a]
			known[a] = newLayout(0, p.PartSizes, a, keep)
			units = append(units, known[a])
		}
	}
	uniSizes := make([]int64, 0, len(p.uniform))
	for c := range p.uniform {
		uniSizes = append(uniSizes, c)
	}
	slices.Sort(uniSizes)
	uni := map[int64]map[string]*layout{}
	for _, c := range uniSizes {
		uni[c] = map[string]*layout{}
		for _, a := range p.uniform[c] {
			uni[c][a] = newLayout(c, nil, a, false)
			units = append(units, uni[c][a])
		}
	}

	size, readErr := feed(r, units, p.Parallel)
	for _, u := range units {
		if l, ok := u.(*layout); ok {
			l.end()
		}
	}
	fullD := map[string][]byte{}
	for i, a := range p.full {
		fullD[a] = fullH[i].Sum(nil)
	}

	res := Result{Size: size, ExpectedSize: p.Size, Conflicts: p.Conflicts, Notes: p.Notes}
	ev := evaluation{p: p, size: size, full: fullD, known: known, uni: uni}
	for _, e := range p.expects {
		res.Checks = append(res.Checks, ev.check(e))
	}
	res.Checks = append(res.Checks, p.skipped...)
	if known != nil {
		res.Checks = append(res.Checks, ev.partChecks()...)
	}
	p.status(&res, readErr)
	return res
}

// Names of the checks of a Result's Verdict (a public contract: add,
// never rename): readable, size, one per algorithm in lower case
// ("crc32", ..., "xxhash128", "etag"; "<algorithm>_part" for an exported
// part checksum), and verifiable (at least one value compared).
const (
	CheckReadable   = "readable"
	CheckSize       = "size"
	CheckVerifiable = "verifiable"
)

// CheckName is the verdict check name of c.
func CheckName(c Check) string {
	n := strings.ToLower(c.Algorithm)
	if c.Type == TypePart {
		n += "_part"
	}
	return n
}

// Order is the severity order of a Result's Verdict: reading, size, then
// every checksum and ETag check, then whether any value was compared.
var Order = func() verdict.Order {
	o := verdict.Order{Valid: StatusValid, Rules: []verdict.Rule{
		{Check: CheckReadable, Status: StatusUnverifiable},
		{Check: CheckSize, Status: StatusSizeMismatch},
	}}
	for _, a := range append(append([]string{}, algorithmOrder...), "ETAG") {
		o.Rules = append(o.Rules, verdict.Rule{Check: strings.ToLower(a), Status: StatusChecksumMismatch, Optional: true})
	}
	for _, a := range algorithmOrder {
		o.Rules = append(o.Rules, verdict.Rule{Check: strings.ToLower(a) + "_part", Status: StatusChecksumMismatch, Optional: true})
	}
	o.Rules = append(o.Rules, verdict.Rule{Check: CheckVerifiable, Status: StatusUnverifiable})
	return o
}()

// status records the Verdict — reading, the size, every check — derives
// Status from it by Order, and says why in Reason.
func (p *Plan) status(res *Result, readErr error) {
	var v []verdict.Check
	add := func(name, status, want, got, reason string) {
		v = append(v, verdict.Check{Name: name, Status: status, Want: want, Got: got, Reason: reason})
	}
	if readErr != nil {
		add(CheckReadable, verdict.Fail, "the object's bytes read to the end", fmt.Sprintf("%v after %d bytes", readErr, res.Size),
			fmt.Sprintf("read object: %v (after %d bytes)", readErr, res.Size))
	} else {
		add(CheckReadable, verdict.Pass, "the object's bytes read to the end", fmt.Sprintf("%d bytes", res.Size), "")
	}
	var claimed, wrongSize []string
	for _, s := range p.sizes {
		claimed = append(claimed, strconv.FormatInt(s, 10))
		if s != res.Size {
			wrongSize = append(wrongSize, strconv.FormatInt(s, 10))
		}
	}
	switch {
	case readErr != nil:
		add(CheckSize, verdict.NotRun, "", "", "the object could not be read to the end")
	case len(claimed) == 0:
		add(CheckSize, verdict.NotRun, "", "", "the metadata claim no size")
	case len(wrongSize) > 0:
		add(CheckSize, verdict.Fail, strings.Join(claimed, " and ")+" bytes, as the metadata say", fmt.Sprintf("%d bytes", res.Size),
			fmt.Sprintf("read %d bytes, metadata says %s", res.Size, strings.Join(wrongSize, " and ")))
	default:
		add(CheckSize, verdict.Pass, strings.Join(claimed, " and ")+" bytes, as the metadata say", fmt.Sprintf("%d bytes", res.Size), "")
	}
	ran := 0
	var bad, skipped []string
	for _, c := range res.Checks {
		want := strings.TrimSpace(c.Type+" "+c.Expected) + " (as exported)"
		switch {
		case readErr != nil:
			add(CheckName(c), verdict.NotRun, want, "", "the object could not be read to the end")
		case c.Skipped:
			skipped = append(skipped, strings.TrimSpace(c.Algorithm+" "+c.Type)+": "+c.Reason)
			add(CheckName(c), verdict.NotRun, want, c.Computed, c.Reason)
		case !c.Match:
			ran++
			bad = append(bad, fmt.Sprintf("%s %s expected %s, computed %s", c.Algorithm, c.Type, c.Expected, c.Computed))
			add(CheckName(c), verdict.Fail, want, c.Computed+" ("+c.Method+")", bad[len(bad)-1])
		default:
			ran++
			add(CheckName(c), verdict.Pass, want, c.Computed+" ("+c.Method+")", "")
		}
	}
	noneReason := ""
	switch {
	case len(skipped) > 0:
		noneReason = strings.Join(skipped, "; ")
	default:
		noneReason = "no checksum or ETag exported"
		for _, n := range p.Notes {
			if strings.HasPrefix(n, "the metadata names checksum") {
				noneReason += " (" + n + ")"
			}
		}
	}
	const wantOne = "at least one exported checksum or ETag compared with the bytes"
	switch {
	case readErr != nil:
		add(CheckVerifiable, verdict.NotRun, wantOne, "", "the object could not be read to the end")
	case ran == 0:
		add(CheckVerifiable, verdict.Fail, wantOne, "none", noneReason)
	default:
		add(CheckVerifiable, verdict.Pass, wantOne, fmt.Sprintf("%d compared", ran), "")
	}
	res.Verdict = v
	res.Status, _, _ = Order.Status(v)
	switch res.Status {
	case StatusUnverifiable:
		if readErr != nil {
			res.Err = readErr
			res.Reason = fmt.Sprintf("read object: %v (after %d bytes)", readErr, res.Size)
		} else {
			res.Reason = noneReason
		}
	case StatusSizeMismatch:
		res.Reason = fmt.Sprintf("read %d bytes, metadata says %s", res.Size, strings.Join(wrongSize, " and "))
	case StatusChecksumMismatch:
		res.Reason = strings.Join(bad, "; ")
	}
}

// evaluation turns computed digests into Checks.
type evaluation struct {
	p     *Plan
	size  int64
	full  map[string][]byte
	known map[string]*layout
	uni   map[int64]map[string]*layout
}

type attempt struct {
	typ      string
	computed string
	match    bool
	method   string
	exact    bool // a proven layout (whole object, exported part sizes, one part)
	tried    bool // for candidates: the part count came out as wanted
}

func (ev *evaluation) check(e *expectation) Check {
	name := e.alg.name
	if e.etag {
		name = "ETAG"
	}
	c := Check{Algorithm: name, Type: e.typ, Expected: e.display}
	var atts []attempt
	if e.full {
		d := ev.full[e.alg.name]
		a := attempt{typ: TypeFullObject, computed: ev.encode(e, d, 0), match: bytes.Equal(d, e.digest), method: "full object", exact: true, tried: true}
		if e.etag {
			a.typ = TypeSingleETag
		}
		atts = append(atts, a)
	}
	if e.known {
		atts = append(atts, ev.partAttempt(e, ev.known[e.alg.name], fmt.Sprintf("parts from ObjectParts (%d parts)", len(ev.p.PartSizes)), true))
	}
	if e.whole {
		atts = append(atts, ev.partAttempt(e, ev.uni[wholeObject][e.alg.name], "1 part (the whole object)", true))
	}
	for _, size := range e.cands {
		m := "assumed uniform part size " + sizeText(size) + " (consistent, not proven)"
		if size == wholeObject {
			m = "assumed 1 part, the whole object (consistent, not proven)"
		}
		atts = append(atts, ev.partAttempt(e, ev.uni[size][e.alg.name], m, false))
	}

	unverifiedRule := !e.etag && !e.alg.compositeKnown && (e.typ == TypeComposite || e.typ == "")
	for _, a := range atts {
		if !a.match {
			continue
		}
		c.Match, c.Computed, c.Method = true, a.computed, a.method
		if c.Type == "" {
			c.Type = a.typ
		}
		switch {
		case a.typ == TypeFullObject && e.typ == TypeComposite:
			c.Method += " (the exported type is COMPOSITE, but the value equals the whole-object digest)"
		case a.typ == TypeComposite && unverifiedRule:
			c.Method += "; S3's COMPOSITE rule for " + e.alg.name + " is not documented: hash of the concatenated part digests assumed"
		}
		if e.why != "" && e.why != etagSSEUnknown {
			c.Method += "; " + e.why
		}
		return c
	}

	// No match: a mismatch only when the computation was exact and its
	// meaning known; otherwise skipped.
	var primary *attempt
	for i := range atts {
		a := &atts[i]
		if !a.exact {
			continue
		}
		if primary == nil || a.typ != TypeFullObject {
			primary = a
		}
	}
	definitive := primary != nil
	switch {
	case e.etag:
		definitive = definitive && e.why != etagSSEUnknown
	case e.typ == TypeFullObject:
	default:
		definitive = definitive && e.alg.compositeKnown && primary.typ == TypeComposite
	}
	var methods []string
	for _, a := range atts {
		if a.exact {
			methods = append(methods, a.method+": "+a.computed)
		}
	}
	if definitive {
		c.Computed = primary.computed
		if c.Type == "" {
			c.Type = primary.typ
		}
		c.Method = primary.method
		if len(methods) > 1 {
			c.Method = "none matched: " + strings.Join(methods, "; ")
		}
		if e.why != "" {
			c.Method += "; " + e.why
		}
		return c
	}

	c.Skipped = true
	if primary != nil {
		c.Computed = primary.computed
		c.Method = strings.Join(methods, "; ")
	}
	switch {
	case e.etag && e.why == etagSSEUnknown:
		c.Reason = "not verifiable by ETag: it does not equal the MD5 computed, and " + etagSSEUnknown
	case unverifiedRule && (e.known || e.whole):
		c.Reason = fmt.Sprintf("S3's COMPOSITE rule for %s is not documented; neither the whole-object digest nor the hash of the concatenated part digests matched", e.alg.name)
	default:
		c.Reason = ev.candidateReason(e, atts, unverifiedRule)
	}
	return c
}

func (ev *evaluation) candidateReason(e *expectation, atts []attempt, unverifiedRule bool) string {
	what := "multipart value"
	if e.etag {
		what = "multipart ETag"
	} else if e.typ == TypeComposite {
		what = "COMPOSITE value"
	} else if e.typ == "" {
		what = "value of unexported type (not the whole-object digest; possibly COMPOSITE)"
	}
	n := e.parts
	parts := "an unknown number of parts"
	if n > 0 {
		parts = strconv.Itoa(n) + " parts"
	}
	var tried []string
	for _, a := range atts {
		if !a.exact && a.tried {
			tried = append(tried, strings.TrimSuffix(strings.TrimPrefix(a.method, "assumed uniform part size "), " (consistent, not proven)"))
		}
	}
	r := fmt.Sprintf("%s of %s without exported part sizes: ", what, parts)
	if len(tried) == 0 {
		r += fmt.Sprintf("no candidate part size gives %s for %d bytes", parts, ev.size)
	} else {
		r += "no candidate part size reproduced it (tried " + strings.Join(tried, ", ") + ")"
	}
	if unverifiedRule {
		r += fmt.Sprintf("; S3's COMPOSITE rule for %s is not documented", e.alg.name)
	}
	return r
}

// partAttempt compares e with the composite along layout l.
func (ev *evaluation) partAttempt(e *expectation, l *layout, method string, exact bool) attempt {
	d, count := l.composite()
	a := attempt{typ: TypeComposite, computed: ev.encode(e, d, count), method: method, exact: exact}
	if e.etag {
		a.typ = TypeMultipartETag
	}
	want := e.parts
	if want == 0 && l.uniform == 0 {
		want = len(l.sizes)
	}
	a.tried = want == 0 || count == want
	a.match = a.tried && bytes.Equal(d, e.digest)
	return a
}

// encode renders digest d like e's exported value: hex for ETags, base64
// otherwise, with "-count" when the export has a part-count suffix.
func (ev *evaluation) encode(e *expectation, d []byte, count int) string {
	var s string
	if e.etag {
		s = hex.EncodeToString(d)
	} else {
		s = base64.StdEncoding.EncodeToString(d)
	}
	if e.n > 0 && count > 0 {
		s += "-" + strconv.Itoa(count)
	}
	return s
}

// partChecks compares every exported part checksum with the digest of
// that part's bytes.
func (ev *evaluation) partChecks() []Check {
	var out []Check
	for _, alg := range ev.p.known {
		h := ev.known[alg].h
		want := ev.p.keepParts[h.name]
		if want == nil {
			continue
		}
		a := algorithms[h.name]
		var off int64
		for i, v := range want {
			size := ev.p.PartSizes[i]
			span := fmt.Sprintf("bytes %d-%d", off, off+size-1)
			if size == 0 {
				span = fmt.Sprintf("empty, at byte %d", off)
			}
			c := Check{Algorithm: h.name, Type: TypePart, Expected: v,
				Method: fmt.Sprintf("part %d of %d from ObjectParts (%s)", i+1, len(want), span)}
			off += size
			if v == "" {
				continue
			}
			raw, err := decodeDigest(a, v)
			if err != nil {
				c.Skipped = true
				c.Reason = fmt.Sprintf("exported part %d %s value is malformed: %v", i+1, h.name, err)
				out = append(out, c)
				continue
			}
			if i < len(h.parts) {
				c.Computed = base64.StdEncoding.EncodeToString(h.parts[i])
				c.Match = bytes.Equal(h.parts[i], raw)
			} else {
				c.Method += "; the object ended before this part"
			}
			out = append(out, c)
		}
	}
	return out
}

// layout hashes the object part by part with one algorithm: along exact
// sizes, or every uniform bytes. Each part's digest is fed to an outer
// hasher of the same algorithm, so the composite needs no memory per
// part.
type layout struct {
	uniform int64   // > 0: a part boundary every uniform bytes
	sizes   []int64 // uniform == 0: exact part sizes; bytes past them form one extra part
	idx     int     // current part, from 0
	left    int64   // bytes left in the current part
	inPart  int64   // bytes written to the current part
	count   int     // parts finished
	h       *partHasher
	scratch [64]byte
}

type partHasher struct {
	name         string
	cost         int
	inner, outer hash.Hash
	keep         bool     // keep each part's digest for the PART checks
	parts        [][]byte // kept part digests
}

func newLayout(uniform int64, sizes []int64, alg string, keep bool) *layout {
	a := algorithms[alg]
	l := &layout{uniform: uniform, sizes: sizes,
		h: &partHasher{name: alg, cost: a.cost, inner: a.newHash(), outer: a.newHash(), keep: keep}}
	l.left = l.sizeOf(0)
	l.skipEmpty()
	return l
}

func (l *layout) sizeOf(i int) int64 {
	switch {
	case l.uniform > 0:
		return l.uniform
	case i < len(l.sizes):
		return l.sizes[i]
	}
	return wholeObject
}

func (l *layout) weight() int { return l.h.cost }

func (l *layout) write(p []byte) {
	for len(p) > 0 {
		n := int64(len(p))
		if n > l.left {
			n = l.left
		}
		l.h.inner.Write(p[:n])
		p = p[n:]
		l.left -= n
		l.inPart += n
		if l.left == 0 {
			l.finish()
			l.skipEmpty()
		}
	}
}

// skipEmpty finishes exported parts of size 0 at the current position.
func (l *layout) skipEmpty() {
	for l.left == 0 && l.uniform == 0 && l.idx < len(l.sizes) {
		l.finish()
	}
}

func (l *layout) finish() {
	h := l.h
	d := h.inner.Sum(l.scratch[:0])
	h.outer.Write(d)
	if h.keep {
		h.parts = append(h.parts, bytes.Clone(d))
	}
	h.inner.Reset()
	l.count++
	l.idx++
	l.inPart = 0
	l.left = l.sizeOf(l.idx)
}

// end finishes the last part at end of input: a partial part, or the one
// part of an empty object.
func (l *layout) end() {
	if l.inPart > 0 || l.count == 0 {
		l.finish()
	}
}

// composite returns the composite digest and the number of parts hashed.
func (l *layout) composite() ([]byte, int) {
	return l.h.outer.Sum(nil), l.count
}
