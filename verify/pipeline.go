package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// How a run streams the case (see the package comment): it reads through
// a scratch connection (store.Scratch), which also holds its working
// tables, and writes every result through one verification session
// (store.VerificationSession) as soon as it is final. In memory it holds
// a window of one chain's digests (chainWindow) and the compact state of
// the chain's others, a chunk of log files, and what is per chain or per
// finding: never a list of every item.

// run is the state of one verification.
type run struct {
	ctx     context.Context
	c       *store.Case // reads (the scratch connection's)
	x       *store.Scratch
	s       *store.VerificationSession
	opt     Options
	anchors *TrustAnchors

	// The chain being verified.
	dig  []*digestItem                   // its digests, in evidence order
	byID map[int64]*digestItem           // its digests and the others loaded with them
	side map[int64][]store.DigestSidecar // while they load: each one's sidecars by name
	ord  map[chainID][]*digestItem       // sortedChain, computed once per chain

	// Per chain, for what spans chains (coverage, tail, homes).
	newest   map[chainID]*newestDigest
	homes    map[string][]chainID // org/account/region -> chains, in the order first seen
	chainIDs []chainID            // every chain with a parsed digest, in pass order
	after    map[chainID]*logsAfter

	results  *store.ResultWriter
	corr     *correlator
	findErr  error // the first error recording a finding (addFinding)
	sum      *summaryAcc
	items    []Item // every item, when opt.KeepItems
	rehashed int
	sigs     sigChecks               // the chain's signature results, verified ahead
	fresh    map[int64]*rehashResult // --rehash results by evidence id
	byKey    bool                    // the case has metadata rows not beside a copy (listings, inventory)
	ready    map[int64]*objectCopy   // object copies in an archive prepared ahead of the walk, by evidence id
}

// newestDigest is a chain's newest digest in its time order.
type newestDigest struct {
	key string
	end time.Time
}

// logsAfter counts a chain's log files delivered after its newest digest.
type logsAfter struct {
	n      int
	latest time.Time
}

// chainKey is a chain's identity as one string that no other chain can
// spell (the fields as a JSON array).
func chainKey(c chainID) string {
	b, _ := json.Marshal([]any{c.Bucket, c.Prefix, c.OrgID, c.Account, c.Region, c.Trail, c.Backfill})
	return string(b)
}

// headChain is the chain a digest belongs to, from its signed key, else
// (it could not be read) from where it was found.
func headChain(e *store.Evidence, parsed bool, bucket, object string) chainID {
	c := chainID{Bucket: e.S3Bucket, OrgID: e.OrgID, Account: e.Account, Region: e.Region, Trail: e.Trail, Backfill: e.Backfill}
	if parsed && object != "" {
		if ki, ok := cloudtrail.ParseKey(object); ok && ki.Type == cloudtrail.TypeDigest {
			c = chainID{Bucket: bucket, Prefix: ki.Prefix, OrgID: ki.OrgID, Account: ki.Account,
				Region: ki.Region, Trail: ki.Trail, Backfill: ki.Backfill}
		}
	}
	return c
}

// indexDigests records, for every digest of the case, its chain and the
// locations it has and names (read a chunk at a time, written to the
// scratch tables).
func (r *run) indexDigests() error {
	w := r.x.DigestIndexer()
	err := r.x.DigestHeadChunks(r.ctx, func(hs []store.DigestHead) error {
		for i := range hs {
			h := &hs[i]
			unparsed := !h.Parsed || h.Object == ""
			x := store.DigestIndex{EvidenceID: h.ID, Chain: chainKey(headChain(&h.Evidence, h.Parsed, h.Bucket, h.Object)),
				Unparsed: unparsed, S3Key: h.S3Key}
			if !unparsed {
				x.Loc = h.Bucket + "/" + h.Object
			}
			if h.S3Key == "" {
				x.Base = path.Base(localName(&h.Evidence))
			}
			x.SidePath, x.SideNK = sidecarName(&h.Evidence)
			if h.Parsed && h.PrevObject != nil {
				x.PrevLoc = deref(h.PrevBucket) + "/" + *h.PrevObject
				x.PrevSuffix, x.PrevBase = awsLogsSuffix(*h.PrevObject), path.Base(*h.PrevObject)
			}
			if err := w.Add(r.ctx, x); err != nil {
				return err
			}
		}
		return w.Flush(r.ctx)
	})
	if err != nil {
		return err
	}
	return w.Close(r.ctx)
}

// loadDigests loads and prepares the digests of the given evidence ids
// that are not loaded yet.
func (r *run) loadDigests(ids []int64) ([]*digestItem, error) {
	var want []int64
	for _, id := range ids {
		if r.byID[id] == nil {
			want = append(want, id)
		}
	}
	rows, err := r.x.DigestsByID(r.ctx, want)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		row := &rows[i]
		d := &digestItem{ev: &row.Evidence, d: row.Digest, detail: &verdict.DigestDetail{}, ingestedAt: row.IngestedAt}
		if err := r.prepare(d); err != nil {
			return nil, err
		}
		r.byID[d.ev.ID] = d
	}
	out := make([]*digestItem, 0, len(ids))
	for _, id := range ids {
		if d := r.byID[id]; d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// chainWindow is how many digests of a chain are loaded and evaluated at
// a time. What outlives its window is a digest's compact state (times,
// status, key, the previous digest it names); its detail and checks wait
// in the scratch tables (Spill) until the chain is written.
const chainWindow = 256

// chain verifies the digests of one chain: links, statuses, time ranges,
// missing digests and gaps; then writes their items and results.
func (r *run) chain(key string) error {
	r.byID = map[int64]*digestItem{}
	r.ord = nil
	r.dig = nil
	ids, err := r.x.ChainDigestIDs(r.ctx, key)
	if err != nil {
		return err
	}
	if err := r.x.ClearSpill(r.ctx); err != nil {
		return err
	}
	var dangling []*digestItem
	n := chainWindow
	if r.opt.window > 0 {
		n = r.opt.window
	}
	for lo := 0; lo < len(ids); lo += n {
		win := ids[lo:min(lo+n, len(ids))]
		ds, dg, err := r.window(key, win)
		if err != nil {
			return err
		}
		r.dig = append(r.dig, ds...)
		dangling = append(dangling, dg...)
	}
	if err := r.timeRanges(); err != nil {
		return err
	}
	for _, s := range dangling {
		if err := r.missing(s); err != nil {
			return err
		}
	}
	// A successor starts where its predecessor of the chain ends: one
	// that names a digest ending hours before it starts leaves those
	// hours missing.
	for _, s := range r.dig {
		if s.d == nil || s.d.PreviousDigestS3Object == nil || !s.timesOK || s.outOfRange || s.chain.Backfill {
			continue
		}
		at, err := r.x.DigestsAt(r.ctx, deref(s.d.PreviousDigestS3Bucket)+"/"+*s.d.PreviousDigestS3Object)
		if err != nil {
			return err
		}
		for _, id := range at {
			p := r.byID[id]
			if p == nil || p.chain != s.chain {
				continue // another chain's: its time order is its own
			}
			if p.timesOK && !p.outOfRange && hourSlots(p.end, s.start) >= 1 {
				if err := r.inferMissing(p, s, deref(s.d.PreviousDigestS3Bucket), ""); err != nil {
					return err
				}
			}
		}
	}
	if err := r.chainGaps(); err != nil {
		return err
	}
	return r.writeChain()
}

// window loads, evaluates and settles the digests of ids (a window of
// the chain key, in evidence order), returning them and those of them
// that name a predecessor the evidence lacks.
func (r *run) window(key string, ids []int64) (ds, dangling []*digestItem, err error) {
	side, err := r.x.ChainSidecars(r.ctx, key, ids[0], ids[len(ids)-1])
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		if _, ok := side[id]; !ok {
			side[id] = nil // read: none there
		}
	}
	r.side = side
	ds, err = r.loadDigests(ids)
	r.side = nil
	if err != nil {
		return nil, nil, err
	}
	// An unparsable digest is known by the location a successor names
	// for it, when no parsed digest is there.
	for _, d := range ds {
		if d.d != nil && d.d.DigestS3Object != "" {
			continue
		}
		base := ""
		if d.ev.S3Key == "" {
			base = path.Base(localName(d.ev))
		}
		loc, ok, err := r.x.PointerTo(r.ctx, d.ev.S3Key, base)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			d.bucket, d.key = splitLoc(loc)
		}
	}
	// Successors of each digest (in any chain), and the digests that name
	// a predecessor the evidence lacks.
	for _, d := range ds {
		if d.d != nil && d.d.DigestS3Object != "" {
			sids, err := r.x.SuccessorsOf(r.ctx, d.d.DigestS3Bucket+"/"+d.d.DigestS3Object)
			if err != nil {
				return nil, nil, err
			}
			if d.successors, err = r.loadDigests(sids); err != nil {
				return nil, nil, err
			}
		}
		if d.d == nil || d.d.PreviousDigestS3Object == nil {
			continue
		}
		prev := *d.d.PreviousDigestS3Object
		at, err := r.x.DigestsAt(r.ctx, deref(d.d.PreviousDigestS3Bucket)+"/"+prev)
		if err != nil {
			return nil, nil, err
		}
		if len(at) == 0 {
			base := path.Base(prev)
			if at, err = r.x.UnparsedAt(r.ctx, awsLogsSuffix(prev), base); err != nil {
				return nil, nil, err
			}
		}
		if len(at) == 0 {
			dangling = append(dangling, d)
		}
	}
	r.sigs.reset()
	r.sigs.prefetch(r.anchors, ds)
	for _, d := range ds {
		r.evaluate(d)
	}
	for _, d := range ds {
		if err := r.settle(d); err != nil {
			return nil, nil, err
		}
	}
	return ds, dangling, nil
}

// settle keeps of an evaluated digest only what the rest of its chain's
// verification reads: its listings go to the results, its detail and
// checks to the scratch tables (restored by unsettle when the chain is
// written), its bytes and saved metadata are let go.
func (r *run) settle(d *digestItem) error {
	if d.d != nil {
		listed := map[string]bool{} // a digest that lists a key twice is format_invalid; its repeats count once
		for i := range d.d.LogFiles {
			l := d.d.LogFiles[i]
			if listed[l.S3Bucket+"/"+l.S3Object] {
				continue
			}
			listed[l.S3Bucket+"/"+l.S3Object] = true
			if err := r.results.AddListing(r.ctx, d.ev.ID, awsLogsSuffix(l.S3Object), path.Base(l.S3Object), l); err != nil {
				return err
			}
		}
		d.d.LogFiles, d.d.Raw = nil, nil
	}
	det, err := gojson.Marshal(d.detail) // encoding/json's bytes, faster
	if err != nil {
		return err
	}
	cs, err := gojson.Marshal(d.checks)
	if err != nil {
		return err
	}
	if err := r.x.Spill(r.ctx, d.ev.ID, det, cs); err != nil {
		return err
	}
	d.starting = d.detail.StartingDigest != nil && *d.detail.StartingDigest
	d.detail, d.checks, d.sidecars, d.sidecar = nil, nil, nil, nil
	return nil
}

// unsettle restores a settled digest's detail and checks, with what the
// chain's later steps found (timeRange, gapAfter).
func (r *run) unsettle(d *digestItem) error {
	det, cs, err := r.x.Unspill(r.ctx, d.ev.ID)
	if err != nil {
		return err
	}
	dd, err := verdict.DecodeDetail(KindDigest, det)
	if err != nil {
		return fmt.Errorf("digest %s: %w", d.key, err)
	}
	d.detail = dd.(*verdict.DigestDetail)
	d.checks = nil
	if err := gojson.Unmarshal(cs, &d.checks); err != nil {
		return fmt.Errorf("digest %s: checks: %w", d.key, err)
	}
	if d.timeRange != "" {
		d.detail.TimeRange = d.timeRange
	}
	if d.gapAfter != nil {
		d.detail.GapAfterPredecessor = d.gapAfter
	}
	return nil
}

func splitLoc(loc string) (bucket, key string) {
	for i := 0; i < len(loc); i++ {
		if loc[i] == '/' {
			return loc[:i], loc[i+1:]
		}
	}
	return "", loc
}

// writeChain emits the chain's digest items and records their results
// and listings for the log files, its newest digest and its homes.
func (r *run) writeChain() error {
	for _, d := range r.dig {
		if err := r.unsettle(d); err != nil {
			return err
		}
		it := d.item()
		if err := r.emit(&it); err != nil {
			return err
		}
		d.detail, d.checks = nil, nil
		if d.timesOK && !d.outOfRange {
			r.sum.span(d.chain, d.start, d.end)
		}
		res := store.DigestResult{EvidenceID: d.ev.ID, Key: d.key, Path: displayPath(d.ev), Status: d.status,
			Authentic: d.authentic, Chain: chainKey(d.chain), Account: d.chain.Account, Region: d.chain.Region,
			Trail: d.chain.Trail, Backfill: d.chain.Backfill, TimesOK: d.timesOK, Start: d.start, End: d.end}
		if err := r.results.AddResult(r.ctx, res); err != nil {
			return err
		}
		if d.d == nil {
			continue // an unparsed digest signs no chain: it is no home
		}
		if !d.chain.Backfill && d.chain.Account != "" {
			k := d.chain.OrgID + "/" + d.chain.Account + "/" + d.chain.Region
			found := false
			for _, c := range r.homes[k] {
				found = found || c == d.chain
			}
			if !found {
				r.homes[k] = append(r.homes[k], d.chain)
			}
		}
	}
	if err := r.results.Flush(r.ctx); err != nil {
		return err
	}
	seen := map[chainID]bool{}
	for _, d := range r.dig {
		if d.d == nil || seen[d.chain] {
			continue
		}
		seen[d.chain] = true
		r.chainIDs = append(r.chainIDs, d.chain)
		if ds := r.sortedChain(d.chain); len(ds) > 0 {
			n := ds[len(ds)-1]
			r.newest[d.chain] = &newestDigest{key: n.key, end: n.end}
		}
	}
	return nil
}

// logsPass judges every log file of the case, a chunk at a time.
func (r *run) logsPass() error {
	return r.x.LogChunks(r.ctx, func(chunk []store.LogWithListings) error {
		if r.opt.Rehash && len(chunk) > 0 {
			// What re-reading found of this chunk's files (rehash).
			fresh, err := r.x.FreshBetween(r.ctx, chunk[0].ID, chunk[len(chunk)-1].ID)
			if err != nil {
				return err
			}
			r.fresh = make(map[int64]*rehashResult, len(fresh))
			for id, f := range fresh {
				r.fresh[id] = &rehashResult{sha: f.SHA256, contentSHA: f.ContentSHA256, compression: f.Compression,
					trailing: f.Trailing, err: f.Err}
			}
		}
		for i := range chunk {
			lw := &chunk[i]
			l := &logItem{ev: &lw.Evidence}
			if l.ev.S3Key != "" {
				l.ki, l.kiOK = cloudtrail.ParseKey(l.ev.S3Key)
			} else {
				l.ki, l.kiOK = cloudtrail.ParseKey(localName(l.ev))
			}
			for j := range lw.Listings {
				x := &lw.Listings[j]
				l.listings = append(l.listings, listing{d: &x.Digest, e: &x.Log})
			}
			if err := r.evaluateLog(l, r.homes); err != nil {
				return err
			}
			r.countAfter(l)
			if err := r.emit(&l.item); err != nil {
				return err
			}
		}
		return nil
	})
}

// countAfter counts, for coverage, a log file delivered after the newest
// digest of a chain of its account and region that no other chain lists.
func (r *run) countAfter(l *logItem) {
	if !l.kiOK {
		return
	}
	for _, c := range r.homes[l.ki.OrgID+"/"+l.ki.Account+"/"+l.ki.Region] {
		n := r.newest[c]
		if n == nil || !l.ki.Time.After(n.end) {
			continue
		}
		other := false
		for _, x := range l.listings {
			other = other || x.d.Chain != chainKey(c)
		}
		if other {
			continue
		}
		a := r.after[c]
		if a == nil {
			a = &logsAfter{}
			r.after[c] = a
		}
		a.n++
		if l.ki.Time.After(a.latest) {
			a.latest = l.ki.Time
		}
	}
}

// missingLogsPass records every log file a digest lists and the evidence
// lacks.
func (r *run) missingLogsPass() error {
	var batch []Item
	flush := func() error {
		for i := range batch {
			if err := r.emit(&batch[i]); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := r.x.EachMissingListing(r.ctx, func(m *store.MissingListing) error {
		ls := make([]listing, len(m.Listings))
		for i := range m.Listings {
			ls[i] = listing{d: &m.Listings[i].Digest, e: &m.Listings[i].Log}
		}
		first := ls[0]
		it := Item{Kind: KindLog, S3Bucket: m.Bucket, S3Key: m.Object,
			Account: first.d.Account, Region: first.d.Region, Trail: first.d.Trail,
			Detail: &verdict.LogDetail{Common: verdict.Common{Reason: fmt.Sprintf("listed by %s, not in the evidence", first.d.Key)},
				ExpectedSHA256: verdict.Ptr(first.e.HashValue), ListedBy: describeListings(ls), ListedByCount: len(ls)}}
		it.Status, it.Checks = missingChecks(LogOrder, fmt.Sprintf("the log file s3://%s/%s listed by %s", m.Bucket, m.Object, first.d.Key), it.Detail)
		batch = append(batch, it)
		return nil
	})
	if err != nil {
		return err
	}
	// Emitted after the read: emit may use the scratch connection.
	return flush()
}

// emit finishes an item — its access-log requests (correlation) — and
// records it: in the session, in the summary, and in the report's items
// when they are kept.
func (r *run) emit(it *Item) error {
	if err := r.corr.item(it); err != nil {
		return err
	}
	if (it.Kind == KindDigest || it.Kind == KindLog) && it.EvidenceID != 0 && it.S3Key != "" {
		if err := r.x.MarkPresent(r.ctx, awsLogsSuffix(it.S3Key)); err != nil {
			return err
		}
	}
	if err := checkDerived(it); err != nil {
		return err
	}
	if err := r.s.AddVerdict(r.ctx, store.ItemStatus{Kind: it.Kind, S3Bucket: it.S3Bucket, S3Key: it.S3Key,
		EvidenceID: it.EvidenceID, Status: it.Status, Account: it.Account, Region: it.Region, Trail: it.Trail},
		it.Detail, it.Checks); err != nil {
		return err
	}
	r.sum.item(it)
	if r.opt.KeepItems {
		r.items = append(r.items, *it)
	}
	return nil
}

// summaryAcc adds the items up as they are emitted.
type summaryAcc struct {
	s      Summary
	chains map[[3]string]*ChainSummary
	gaps   map[*ChainSummary][]gapRef
}

func newSummaryAcc() *summaryAcc {
	a := &summaryAcc{chains: map[[3]string]*ChainSummary{}, gaps: map[*ChainSummary][]gapRef{}}
	s := &a.s
	s.OK = true
	s.Digests.ByStatus, s.Logs.ByStatus, s.Objects.ByStatus, s.Findings = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	s.LakeSigns.ByStatus, s.LakeResults.ByStatus = map[string]int{}, map[string]int{}
	s.Notes = []string{}
	return a
}

func (a *summaryAcc) chain(account, region, trail string) *ChainSummary {
	k := [3]string{account, region, trail}
	if a.chains[k] == nil {
		a.chains[k] = &ChainSummary{Account: account, Region: region, Trail: trail, Gaps: []string{}}
	}
	return a.chains[k]
}

func (a *summaryAcc) item(it *Item) {
	s := &a.s
	cnt := &s.Logs
	switch it.Kind {
	case KindDigest:
		cnt = &s.Digests
	case KindObject:
		cnt = &s.Objects
	case KindLakeSign:
		cnt = &s.LakeSigns
	case KindLakeResult:
		cnt = &s.LakeResults
	}
	cnt.Total++
	cnt.ByStatus[it.Status]++
	ok := it.Status == StatusValid
	if ok {
		cnt.Valid++
	} else if it.Status != StatusNotCovered {
		// A file no digest covers by design proves nothing, and says so;
		// it is not a problem found.
		s.OK = false
	}
	if it.Kind != KindDigest && it.Kind != KindLog {
		return
	}
	cs := a.chain(it.Account, it.Region, it.Trail)
	if it.Kind == KindDigest {
		cs.DigestsTotal++
		if ok {
			cs.DigestsValid++
		}
	} else {
		cs.LogsTotal++
		if ok {
			cs.LogsValid++
		}
	}
}

func (a *summaryAcc) span(c chainID, start, end time.Time) {
	cs := a.chain(c.Account, c.Region, c.Trail)
	st, en := fmtTime(start), fmtTime(end)
	if cs.Start == "" || st < cs.Start {
		cs.Start = st
	}
	if en > cs.End {
		cs.End = en
	}
}

// finding adds a finding up: its type, an error fails the run, a gap is
// listed in its chain's summary.
func (a *summaryAcc) finding(f Finding) {
	s := &a.s
	s.Findings[f.Type]++
	if f.Severity == SeverityError {
		s.OK = false
	}
	if f.Type == FindingGap {
		cs := a.chain(f.Account, f.Region, f.Trail)
		a.gaps[cs] = append(a.gaps[cs], gapRef{f.Chain, f.Start, f.Summary, f.Start + "/" + f.End})
	}
}

// gapRef is a gap of a chain summary with the keys of its finding's
// report order.
type gapRef struct{ chain, start, summary, span string }

// finish lists the chains, each with its gaps in the order of their
// findings.
func (a *summaryAcc) finish() Summary {
	s := a.s
	for _, cs := range a.chains {
		gs := a.gaps[cs]
		sort.SliceStable(gs, func(i, j int) bool {
			x, y := gs[i], gs[j]
			if x.chain != y.chain {
				return x.chain < y.chain
			}
			if x.start != y.start {
				return x.start < y.start
			}
			return x.summary < y.summary
		})
		for _, g := range gs {
			cs.Gaps = append(cs.Gaps, g.span)
		}
		s.Chains = append(s.Chains, *cs)
	}
	sort.Slice(s.Chains, func(i, j int) bool {
		a, b := s.Chains[i], s.Chains[j]
		return a.Account+"\x00"+a.Region+"\x00"+a.Trail < b.Account+"\x00"+b.Region+"\x00"+b.Trail
	})
	if s.Chains == nil {
		s.Chains = []ChainSummary{}
	}
	return s
}

// findingPhase orders the findings of a report: the order in which a run
// of the whole case meets them; then chain, start time and summary (the
// session writes them in that order: store.QueueFinding). The same
// evidence gives the same order, whatever order the chains and items
// were met in.
var findingPhase = map[string]int{
	FindingRehash: 0, FindingConflict: 1, FindingTimeRange: 2, FindingMissingSpan: 3, FindingGap: 4,
	FindingCoverage: 5, FindingDuplicateName: 6, FindingTrustAnchorInEvidence: 8, FindingCorrelation: 9,
}
