package s3check

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// Plan is what must be computed for one object version, derived from
// every metadata row that describes it. Build it with NewPlan and run it
// with (*Plan).Check.
type Plan struct {
	Bucket, Key, VersionID string
	ObjectPath             string // the local copy, when a row names it

	// Size is the object size the metadata claims (ContentLength,
	// ObjectSize, or the sum of complete ObjectParts sizes); nil when no
	// row gives one. With conflicting claims it is the first; all are
	// checked.
	Size *int64
	// PartsCount is the number of parts the metadata agrees on (the "-N"
	// suffixes, ObjectParts.TotalPartsCount, head-object PartsCount, the
	// number of ObjectParts); 0 when unknown or conflicting.
	PartsCount int
	// PartSizes are the exact part sizes from ObjectParts, in PartNumber
	// order; nil unless every part 1..PartsCount has a size.
	PartSizes []int64
	// Conflicts are fields the rows disagree on. Each is a finding of its
	// own; every conflicting checksum or ETag value is also checked.
	Conflicts []Conflict
	// Notes explain how the metadata was read where that matters for the
	// result (rows ignored, parts incomplete, types assumed).
	Notes []string
	// Parallel lets Check give part of the hashers to one helper
	// goroutine when GOMAXPROCS > 1 and the work splits well (SHA-256 and
	// MD5, say). Off by default: callers usually check several objects
	// at once, and hashing alone already outruns sha256sum.
	Parallel bool

	sizes   []int64 // every distinct claimed size
	expects []*expectation
	skipped []Check // checks decided without reading (ETag not an MD5, malformed values)

	// hashing needs, derived from expects
	full      []string            // algorithms hashed over the whole object
	known     []string            // algorithms hashed per part along PartSizes
	keepParts map[string][]string // algorithm -> exported part checksums (index part-1; "" absent)
	uniform   map[int64][]string  // candidate uniform part size -> algorithms
}

// Conflict is one field the metadata rows disagree on.
type Conflict struct {
	Field  string  // "Size", "ETag", "ChecksumType", "PartsCount", "ChecksumSHA256", "Parts[2].Size", ...
	Values []Claim // each distinct value once, in row order
}

// Claim is a value one metadata row gives for a field.
type Claim struct {
	Value      string
	Source     string // store.ObjectMeta.Source, with a detail in parentheses for derived values
	EvidenceID int64
}

// expectation is one exported value to check.
type expectation struct {
	alg     *algorithm // MD5 for ETags
	etag    bool
	display string // as exported
	digest  []byte
	n       int    // part count from the value's own "-N" suffix; 0 none
	parts   int    // part count the part-wise computations must give; 0 unknown
	typ     string // FULL_OBJECT, COMPOSITE, or "" when ambiguous (not exported)
	why     string // how the type was decided, when not simply exported

	full  bool    // compare with the whole-object digest
	known bool    // compare with the composite along PartSizes
	whole bool    // compare with the composite of one part (the whole object)
	cands []int64 // compare with composites along these uniform part sizes
}

const wholeObject = int64(1<<63 - 1) // uniform "part size" giving one part

// NewPlan merges the metadata rows of one object version (head-object and
// get-object-attributes of the same version may both exist, and
// get-object-attributes pages may each hold some parts) into a Plan. It
// fails when there are no rows, when rows name different buckets, keys,
// versions or local copies, or when a row is a delete marker. Values the
// rows disagree on become Conflicts, not errors.
func NewPlan(metas []store.ObjectMeta) (*Plan, error) {
	if len(metas) == 0 {
		return nil, errors.New("new plan: no metadata rows")
	}
	p := &Plan{keepParts: map[string][]string{}, uniform: map[int64][]string{}}
	var cl claimSet
	type partInfo struct {
		size      claimSet
		checksums map[string]string
	}
	parts := map[int]*partInfo{}
	var extraCands []int64
	var namedOnly []string
	multipart := false
	sseKnown := false
	var sseValues []string

	for i := range metas {
		m := &metas[i]
		if m.DeleteMarker {
			return nil, fmt.Errorf("new plan: evidence %d (%s): a delete marker has no content to verify", m.EvidenceID, m.Source)
		}
		for _, f := range []struct {
			name string
			dst  *string
			v    string
		}{{"bucket", &p.Bucket, m.Bucket}, {"key", &p.Key, m.Key}, {"version", &p.VersionID, m.VersionID}, {"local copy", &p.ObjectPath, m.ObjectPath}} {
			if f.v == "" {
				continue
			}
			if *f.dst != "" && *f.dst != f.v {
				return nil, fmt.Errorf("new plan: rows describe different objects: %s %q and %q (evidence %d, %s)", f.name, *f.dst, f.v, m.EvidenceID, m.Source)
			}
			*f.dst = f.v
		}

		// head-object with --part-number: ContentLength and checksums
		// describe that part, not the object (FORMATS.md A.4, B.1).
		partHead := m.Source == "head-object" && m.PartsCount != nil && *m.PartsCount > 1
		if partHead {
			p.Notes = append(p.Notes, fmt.Sprintf("evidence %d: head-object has PartsCount %d, so it was called with --part-number: its ContentLength and checksums describe one part and are not checked against the object; its size is tried as a part size", m.EvidenceID, *m.PartsCount))
			if m.Size != nil && *m.Size > 0 {
				extraCands = append(extraCands, *m.Size)
			}
		}
		if m.Size != nil && !partHead {
			cl.add("Size", strconv.FormatInt(*m.Size, 10), "", m, "")
		}
		if m.PartsCount != nil {
			cl.add("PartsCount", strconv.Itoa(*m.PartsCount), "", m, "")
		}
		if m.Multipart != nil && *m.Multipart {
			multipart = true
		}
		if m.ChecksumType != "" {
			cl.add("ChecksumType", m.ChecksumType, strings.ToUpper(m.ChecksumType), m, "")
		}
		if m.Source == "head-object" || m.SSE != "" || m.SSECustomer != "" {
			sseKnown = true
		}
		if m.SSE != "" {
			cl.add("ServerSideEncryption", m.SSE, strings.ToLower(m.SSE), m, "")
			sseValues = append(sseValues, m.SSE)
		}
		if m.SSECustomer != "" {
			sseValues = append(sseValues, "SSE-C ("+m.SSECustomer+")")
		}
		if e := strings.Trim(strings.TrimSpace(m.ETag), `"`); e != "" {
			cl.add("ETag", e, strings.ToLower(e), m, "")
			if _, n, ok := splitSuffix(e); ok && n > 0 {
				cl.add("PartsCount", strconv.Itoa(n), "", m, "ETag suffix")
			}
		}
		if len(m.Checksums) > 0 && !partHead {
			for _, alg := range sortedKeys(m.Checksums) {
				v := strings.TrimSpace(m.Checksums[alg])
				base, n, ok := splitSuffix(v)
				norm := base
				if a := algorithms[alg]; a != nil && ok {
					if raw, err := decodeDigest(a, base); err == nil {
						norm = string(raw)
					}
				}
				cl.add("Checksum"+alg, v, norm, m, "")
				if n > 0 {
					cl.add("PartsCount", strconv.Itoa(n), "", m, "Checksum"+alg+" suffix")
				}
			}
		}
		if len(m.Checksums) == 0 && len(m.Algorithms) > 0 {
			namedOnly = append(namedOnly, m.Algorithms...)
		}
		for _, part := range m.Parts {
			pi := parts[part.PartNumber]
			if pi == nil {
				pi = &partInfo{checksums: map[string]string{}}
				parts[part.PartNumber] = pi
			}
			if part.Size != nil {
				pi.size.add(fmt.Sprintf("Parts[%d].Size", part.PartNumber), strconv.FormatInt(*part.Size, 10), "", m, "")
			}
			for alg, v := range part.Checksums {
				cl.add(fmt.Sprintf("Parts[%d].Checksum%s", part.PartNumber, alg), v, "", m, "")
				if _, ok := pi.checksums[alg]; !ok {
					pi.checksums[alg] = v
				}
			}
		}
	}

	// Sizes.
	for _, c := range cl.values("Size") {
		n, _ := strconv.ParseInt(c.Value, 10, 64)
		p.sizes = append(p.sizes, n)
	}

	// Parts: exact layout only when parts 1..K all have one size.
	nums := make([]int, 0, len(parts))
	for n, pi := range parts {
		nums = append(nums, n)
		for _, c := range pi.size.conflicts() {
			p.Conflicts = append(p.Conflicts, c)
		}
	}
	sort.Ints(nums)
	p.Conflicts = append(cl.conflicts(), p.Conflicts...)
	pc := cl.values("PartsCount")
	multipart = multipart || len(pc) > 0 || len(nums) > 0
	switch {
	case len(pc) == 1:
		p.PartsCount, _ = strconv.Atoi(pc[0].Value)
	case len(pc) == 0 && len(nums) > 0:
		// Only the listed parts give the count.
		p.PartsCount = len(nums)
	}
	if len(nums) > 0 {
		var sizes []int64
		var sum int64
		why := ""
		for i, n := range nums {
			vs := parts[n].size.values(fmt.Sprintf("Parts[%d].Size", n))
			switch {
			case n != i+1:
				why = fmt.Sprintf("part numbers are not 1..%d (part %d found at position %d)", len(nums), n, i+1)
			case len(vs) == 0:
				why = fmt.Sprintf("part %d has no Size", n)
			case len(vs) > 1:
				why = fmt.Sprintf("part %d has conflicting sizes", n)
			}
			if why != "" {
				break
			}
			s, _ := strconv.ParseInt(vs[0].Value, 10, 64)
			if s < 0 {
				why = fmt.Sprintf("part %d has negative size %d", n, s)
				break
			}
			sizes = append(sizes, s)
			sum += s
		}
		if why == "" && p.PartsCount != len(nums) {
			why = fmt.Sprintf("ObjectParts lists %d parts but the part count is %s", len(nums), partCountText(p.PartsCount))
		}
		if why == "" && len(p.sizes) == 1 && p.sizes[0] != sum {
			why = fmt.Sprintf("ObjectParts sizes sum to %d, object size is %d", sum, p.sizes[0])
		}
		if why == "" {
			p.PartSizes = sizes
			for n := range sizes {
				for alg, v := range parts[n+1].checksums {
					if p.keepParts[alg] == nil {
						p.keepParts[alg] = make([]string, len(sizes))
					}
					p.keepParts[alg][n] = v
				}
			}
			if len(p.sizes) == 0 {
				p.sizes = []int64{sum}
			}
		} else {
			p.Notes = append(p.Notes, "exact part sizes unknown: "+why)
			if pi := parts[1]; pi != nil {
				if vs := pi.size.values("Parts[1].Size"); len(vs) == 1 {
					if s, _ := strconv.ParseInt(vs[0].Value, 10, 64); s > 0 {
						extraCands = append(extraCands, s)
					}
				}
			}
		}
	}
	if len(p.sizes) > 0 {
		s := p.sizes[0]
		p.Size = &s
	}
	// ETag trust (FORMATS.md A.7).
	etagWhy := etagNotMD5(sseValues, sseKnown)

	// Checksum type.
	declared := ""
	if ts := cl.values("ChecksumType"); len(ts) == 1 {
		declared = strings.ToUpper(ts[0].Value)
		if declared != TypeFullObject && declared != TypeComposite {
			p.Notes = append(p.Notes, fmt.Sprintf("unknown ChecksumType %q: type treated as not exported", ts[0].Value))
			declared = ""
		}
	}

	// Checksum expectations, one per distinct value.
	for _, alg := range sortedAlgs(cl) {
		a := algorithms[alg]
		for _, c := range cl.values("Checksum" + alg) {
			if a == nil {
				p.skipped = append(p.skipped, Check{Algorithm: alg, Expected: c.Value, Skipped: true,
					Reason: fmt.Sprintf("unsupported checksum algorithm %q", alg)})
				continue
			}
			base, n, ok := splitSuffix(c.Value)
			var raw []byte
			var err error
			if !ok {
				err = errors.New(`has a "-N" part-count suffix that is not a positive number`)
			} else {
				raw, err = decodeDigest(a, base)
			}
			if err != nil {
				p.skipped = append(p.skipped, Check{Algorithm: alg, Expected: c.Value, Skipped: true,
					Reason: fmt.Sprintf("exported %s value is malformed: %v", alg, err)})
				continue
			}
			e := &expectation{alg: a, display: c.Value, digest: raw, n: n}
			// The same digest from another row, with the suffix: show that form.
			for _, o := range cl.values("Checksum" + alg) {
				if ob, on, ok := splitSuffix(o.Value); ok && on > 0 && e.n == 0 && base64Equal(a, ob, raw) {
					e.display, e.n = o.Value, on
				}
			}
			p.routeChecksum(e, declared, multipart, extraCands)
			p.expects = append(p.expects, e)
		}
	}

	// ETag expectations.
	for _, c := range cl.values("ETag") {
		e := &expectation{alg: algorithms["MD5"], etag: true, display: c.Value}
		v := strings.ToLower(c.Value)
		base, n, ok := splitSuffix(v)
		if !ok || !isHexMD5(base) {
			p.skipped = append(p.skipped, Check{Algorithm: "ETAG", Expected: c.Value, Skipped: true,
				Reason: "not verifiable by ETag: the ETag is not an MD5 (not 32 hex digits, optionally followed by -N)"})
			continue
		}
		e.digest, _ = hex.DecodeString(base)
		e.n = n
		if n == 0 {
			e.typ = TypeSingleETag
		} else {
			e.typ = TypeMultipartETag
		}
		if etagWhy != "" && etagWhy != etagSSEUnknown {
			p.skipped = append(p.skipped, Check{Algorithm: "ETAG", Type: e.typ, Expected: c.Value, Skipped: true,
				Reason: "not verifiable by ETag: " + etagWhy})
			continue
		}
		if etagWhy == etagSSEUnknown {
			e.why = etagSSEUnknown
		}
		if n == 0 {
			e.full = true
		} else {
			p.routeParts(e, n, extraCands)
		}
		p.expects = append(p.expects, e)
	}

	if len(namedOnly) > 0 {
		hasValue := false
		for _, e := range p.expects {
			if !e.etag {
				hasValue = true
			}
		}
		if !hasValue {
			p.Notes = append(p.Notes, fmt.Sprintf("the metadata names checksum algorithm(s) %s but exports no value", strings.Join(dedupe(namedOnly), ", ")))
		}
	}
	p.collectNeeds()
	return p, nil
}

// routeChecksum decides the checksum type of e and what to compute.
func (p *Plan) routeChecksum(e *expectation, declared string, multipart bool, extra []int64) {
	switch {
	case e.n > 0:
		e.typ = TypeComposite
		if declared == TypeFullObject {
			e.why = fmt.Sprintf("ChecksumType is FULL_OBJECT but the value has a -%d suffix; treated as COMPOSITE", e.n)
		}
	case declared != "":
		e.typ = declared
	case e.alg.name == "CRC64NVME":
		e.typ = TypeFullObject
		e.why = "checksum type not exported; CRC64NVME is always FULL_OBJECT"
	case multipart:
		e.typ = ""
		e.why = "checksum type not exported and the object is multipart: FULL_OBJECT and COMPOSITE both tried"
	default:
		e.typ = TypeFullObject
		e.why = "checksum type not exported and nothing shows a multipart upload: FULL_OBJECT assumed"
	}
	if e.typ == TypeFullObject {
		e.full = true
		return
	}
	n := e.n
	if n == 0 {
		n = p.PartsCount
	}
	if e.typ == "" || !e.alg.compositeKnown {
		e.full = true
	}
	p.routeParts(e, n, extra)
}

// routeParts picks how the part-wise value of e is computed: along the
// exported part sizes, as one part, or along candidate part sizes.
func (p *Plan) routeParts(e *expectation, n int, extra []int64) {
	e.parts = n
	switch {
	case p.PartSizes != nil && (n == 0 || n == len(p.PartSizes)):
		e.known = true
	case n == 1:
		e.whole = true
	default:
		e.cands = candidates(n, p.sizes, extra)
	}
}

func (p *Plan) collectNeeds() {
	full, known := map[string]bool{}, map[string]bool{}
	uni := map[int64]map[string]bool{}
	for _, e := range p.expects {
		if e.full {
			full[e.alg.name] = true
		}
		if e.known {
			known[e.alg.name] = true
		}
		cands := e.cands
		if e.whole {
			cands = append(slices.Clone(cands), wholeObject)
		}
		for _, c := range cands {
			if uni[c] == nil {
				uni[c] = map[string]bool{}
			}
			uni[c][e.alg.name] = true
		}
	}
	if p.PartSizes != nil {
		for alg := range p.keepParts {
			if algorithms[alg] != nil {
				known[alg] = true
			}
		}
	}
	for alg := range p.keepParts {
		if !known[alg] || algorithms[alg] == nil {
			delete(p.keepParts, alg)
		}
	}
	p.full = orderedAlgs(full)
	p.known = orderedAlgs(known)
	for c, algs := range uni {
		p.uniform[c] = orderedAlgs(algs)
	}
}

const etagSSEUnknown = "the metadata does not say how the object is encrypted (an SSE-KMS or SSE-C ETag is not an MD5)"

// etagNotMD5 says why the ETag is not an MD5 of the data, "" when it is
// one (plaintext or SSE-S3), or etagSSEUnknown when no row tells.
// head-object always returns ServerSideEncryption for encrypted objects,
// so its absence there means plaintext; get-object-attributes and
// listings never carry it.
func etagNotMD5(sse []string, known bool) string {
	for _, s := range sse {
		switch strings.ToLower(s) {
		case "", "aes256", "sse-s3", "not-sse":
		case "aws:kms", "sse-kms":
			return "the object is encrypted with SSE-KMS (" + s + "), whose ETag is not an MD5"
		case "aws:kms:dsse", "dsse-kms":
			return "the object is encrypted with DSSE-KMS (" + s + "), whose ETag is not an MD5"
		case "sse-c":
			return "the object is encrypted with SSE-C, whose ETag is not an MD5"
		default:
			if strings.HasPrefix(s, "SSE-C (") {
				return "the object is encrypted with SSE-C (SSECustomerAlgorithm " + strings.TrimSuffix(strings.TrimPrefix(s, "SSE-C ("), ")") + "), whose ETag is not an MD5"
			}
			return fmt.Sprintf("server-side encryption %q is not known to keep the ETag an MD5", s)
		}
	}
	if !known {
		return etagSSEUnknown
	}
	return ""
}

// claimSet collects the values rows give for each field.
type claimSet struct {
	order []string
	m     map[string][]claimEntry
}

type claimEntry struct {
	Claim
	norm string
}

// add records value for field; norm (value when empty) decides whether
// two values are the same.
func (s *claimSet) add(field, value, norm string, m *store.ObjectMeta, detail string) {
	if norm == "" {
		norm = value
	}
	if s.m == nil {
		s.m = map[string][]claimEntry{}
	}
	for _, c := range s.m[field] {
		if c.norm == norm {
			return
		}
	}
	if _, ok := s.m[field]; !ok {
		s.order = append(s.order, field)
	}
	src := m.Source
	if detail != "" {
		src += " (" + detail + ")"
	}
	s.m[field] = append(s.m[field], claimEntry{Claim{Value: value, Source: src, EvidenceID: m.EvidenceID}, norm})
}

func (s *claimSet) values(field string) []Claim {
	var out []Claim
	for _, c := range s.m[field] {
		out = append(out, c.Claim)
	}
	return out
}

func (s *claimSet) conflicts() []Conflict {
	var out []Conflict
	for _, f := range s.order {
		if len(s.m[f]) > 1 {
			out = append(out, Conflict{Field: f, Values: s.values(f)})
		}
	}
	return out
}

// base64Equal reports whether base64 value v decodes to raw.
func base64Equal(a *algorithm, v string, raw []byte) bool {
	d, err := decodeDigest(a, v)
	return err == nil && string(d) == string(raw)
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// sortedAlgs lists the algorithms with Checksum claims: known ones in
// algorithmOrder, then unknown ones by name.
func sortedAlgs(cl claimSet) []string {
	var out, unknown []string
	for _, a := range algorithmOrder {
		if _, ok := cl.m["Checksum"+a]; ok {
			out = append(out, a)
		}
	}
	for _, f := range cl.order {
		if a, ok := strings.CutPrefix(f, "Checksum"); ok && f != "ChecksumType" && algorithms[a] == nil {
			unknown = append(unknown, a)
		}
	}
	sort.Strings(unknown)
	return append(out, unknown...)
}

func orderedAlgs(set map[string]bool) []string {
	var out []string
	for _, a := range algorithmOrder {
		if set[a] {
			out = append(out, a)
		}
	}
	return out
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func partCountText(n int) string {
	if n == 0 {
		return "unknown or conflicting"
	}
	return strconv.Itoa(n)
}
