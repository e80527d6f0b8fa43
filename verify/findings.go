package verify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
)

// GapEvents are the API calls that explain a chain restart when the
// evidence holds them.
var GapEvents = []string{"StopLogging", "StartLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "CreateTrail"}

// chains returns the distinct chain identities of parsed digests, sorted.
func (r *run) chains() []chainID {
	seen := map[chainID]bool{}
	var out []chainID
	for _, d := range r.dig {
		if d.d != nil && !seen[d.chain] {
			seen[d.chain] = true
			out = append(out, d.chain)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// chainGaps reports every restart of the chain being verified (a
// starting digest after an older digest of the same chain) with its time
// span, and explains it with the trail-control events the case holds in
// and around that span.
func (r *run) chainGaps() error {
	for _, c := range r.chains() {
		if c.Backfill {
			continue // backfill digests are one-off chains
		}
		ds := r.sortedChain(c)
		for i, b := range ds {
			if !b.starting {
				continue
			}
			// The newest digest before it that ends by its start: ds is
			// sorted by end, so a search (many forged starting digests
			// cost no more than sorting them).
			limit := b.start.Add(time.Minute)
			j := sort.Search(i, func(k int) bool { return ds[k].end.After(limit) })
			if j == 0 {
				continue
			}
			a := ds[j-1]
			if err := r.gap(c, a, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *run) gap(c chainID, a, b *digestItem) error {
	evs, err := r.c.EventsBetween(r.ctx, fmtTime(a.start), fmtTime(b.end), GapEvents)
	if err != nil {
		return err
	}
	var cited []map[string]any
	var names []string
	for _, e := range evs {
		if e.EventSource != "" && e.EventSource != "cloudtrail.amazonaws.com" {
			continue
		}
		acct := e.RecipientAccountID
		if acct == "" {
			acct = e.AccountID
		}
		if c.OrgID == "" && acct != "" && acct != c.Account {
			continue
		}
		if c.Trail != "" && !strings.Contains(e.Raw, c.Trail) {
			continue // another trail's control call
		}
		cited = append(cited, map[string]any{"event_id": e.EventID, "event_name": e.EventName, "event_time": e.EventTime,
			"principal": e.Principal, "account": acct, "region": e.AWSRegion, "evidence_id": e.EvidenceID})
		names = append(names, fmt.Sprintf("%s at %s by %s (event %s)", e.EventName, e.EventTime, e.Principal, e.EventID))
	}
	span := b.start.Sub(a.end)
	f := Finding{Type: FindingGap, Chain: c.String(), Account: c.Account, Region: c.Region, Trail: c.Trail,
		Start: fmtTime(a.end), End: fmtTime(b.start),
		Detail: map[string]any{"last_digest_before": a.key, "first_digest_after": b.key, "duration": span.String(),
			"explained": len(cited) > 0, "events": cited}}
	if cited == nil {
		f.Detail["events"] = []map[string]any{}
	}
	if len(cited) > 0 {
		f.Severity = SeverityInfo
		f.Summary = fmt.Sprintf("chain %s restarts: no digest covers %s to %s (%s); explained by %s",
			c, f.Start, f.End, span, strings.Join(names, "; "))
	} else {
		f.Severity = SeverityWarning
		f.Summary = fmt.Sprintf("chain %s restarts: no digest covers %s to %s (%s); unexplained: no StopLogging, StartLogging, DeleteTrail, UpdateTrail or PutEventSelectors event in the case",
			c, f.Start, f.End, span)
	}
	r.addFinding(f)
	return nil
}

// coverage reports, for each chain, evidence newer than its newest digest:
// log files of its account and region delivered later, records of its
// account and region with later event times, and later digests of other
// chains of the same trail. The newest digests may have been deleted
// (tail truncation), or not yet been delivered when the evidence was
// collected.
func (r *run) coverage() error {
	all := append([]chainID{}, r.chainIDs...)
	sort.Slice(all, func(i, j int) bool { return all[i].String() < all[j].String() })
	trails := newTrailIndex(all, r.newest)
	for _, c := range all {
		n := r.newest[c]
		if c.Backfill || n == nil {
			continue
		}
		latest := n.end
		var why []string
		logs := 0
		if a := r.after[c]; a != nil {
			logs = a.n
			if a.latest.After(latest) {
				latest = a.latest
			}
		}
		if logs > 0 {
			why = append(why, fmt.Sprintf("%d log files delivered after it", logs))
		}
		t, err := r.c.NewestEventAfter(r.ctx, c.Account, c.Region, fmtTime(n.end))
		if err != nil {
			return err
		}
		if t != "" {
			if et, err := awstime.Parse(t); err == nil && et.After(n.end) {
				why = append(why, "records with event times up to "+t)
				if et.After(latest) {
					latest = et
				}
			}
		}
		if newer := trails.newerThan(c, n.end.Add(30*time.Minute)); len(newer) > 0 {
			// The few that go furthest by name, the rest counted (an
			// organization trail has thousands of chains).
			for i, e := range newer[:min(len(newer), 3)] {
				why = append(why, fmt.Sprintf("digests of %s/%s up to %s", e.chain.Account, e.chain.Region, fmtTime(e.end)))
				if i == 0 && e.end.After(latest) {
					latest = e.end
				}
			}
			if len(newer) > 3 {
				why = append(why, fmt.Sprintf("digests of %d more accounts or regions of the trail", len(newer)-3))
			}
		}
		if len(why) == 0 {
			continue
		}
		// Whole hours, rounded up (in seconds: a span of claimed times can
		// pass the 292 years a time.Duration holds).
		expected := int((latest.Unix() - n.end.Unix() + 3599) / 3600)
		if expected < 1 {
			expected = 1
		}
		r.addFinding(Finding{Type: FindingCoverage, Severity: SeverityError, Chain: c.String(),
			Account: c.Account, Region: c.Region, Trail: c.Trail, Start: fmtTime(n.end), End: fmtTime(latest),
			Summary: fmt.Sprintf("chain %s: its newest digest %s ends at %s, but the evidence goes on to %s (%s): about %d newer digests should exist; they may have been deleted (tail truncation) or not yet delivered when the evidence was collected",
				c, n.key, fmtTime(n.end), fmtTime(latest), strings.Join(why, "; "), expected),
			Detail: map[string]any{"newest_digest": n.key, "newest_digest_end": fmtTime(n.end), "evidence_until": fmtTime(latest),
				"expected_missing_digests": expected, "log_files_after": logs, "reasons": why}})
	}
	return nil
}

// trailIndex groups the non-backfill chains of one trail (bucket, prefix,
// organization, trail name) by the end of their newest digest, so that
// each chain learns in O(log n) how many others of its trail go further
// (an organization trail has thousands of chains).
type trailIndex struct {
	byTrail map[chainID][]trailEnd // key: the chain with Account and Region cleared
}

type trailEnd struct {
	end   time.Time
	chain chainID
}

func trailOf(c chainID) chainID {
	c.Account, c.Region, c.Backfill = "", "", false
	return c
}

func newTrailIndex(all []chainID, newestOf map[chainID]*newestDigest) *trailIndex {
	t := &trailIndex{byTrail: map[chainID][]trailEnd{}}
	for _, c := range all {
		if n := newestOf[c]; n != nil && !c.Backfill {
			k := trailOf(c)
			t.byTrail[k] = append(t.byTrail[k], trailEnd{n.end, c})
		}
	}
	for _, es := range t.byTrail {
		sort.Slice(es, func(i, j int) bool { return es[i].end.After(es[j].end) })
	}
	return t
}

// newerThan returns the chains of c's trail whose newest digest ends
// after after, the one that ends last first. after must be later than c's
// own newest end (the caller adds a margin), so c is never among them.
func (t *trailIndex) newerThan(c chainID, after time.Time) []trailEnd {
	es := t.byTrail[trailOf(c)]
	return es[:sort.Search(len(es), func(i int) bool { return !es[i].end.After(after) })]
}
