package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// Coverage states of a stretch of time in a chain.
const (
	StateVerified    = "verified"     // a valid digest covers it and every log file it lists is valid
	StateInvalid     = "invalid"      // a digest covers it, but it or a log file it lists is not valid
	StateMissing     = "missing"      // the evidence shows a digest should exist and it does not
	StateGap         = "gap"          // logging stopped: no digest covers it (finding "gap")
	StateNotVerified = "not_verified" // a digest exists but the case was not verified
)

// coverageStates lists the states in legend order.
var coverageStates = []string{StateVerified, StateInvalid, StateMissing, StateGap, StateNotVerified}

type segment struct {
	Start, End time.Time
	State      string
	Digests    int
	Notes      []string
}

type gapSpan struct {
	Start, End time.Time
	Explained  bool
	Severity   string
	Summary    string
}

type chainCoverage struct {
	Account, Region, Trail string
	Segments               []segment
	Gaps                   []gapSpan
}

type chainKey struct{ account, region, trail string }

func (k chainKey) less(o chainKey) bool {
	if k.account != o.account {
		return k.account < o.account
	}
	if k.region != o.region {
		return k.region < o.region
	}
	return k.trail < o.trail
}

// coverage computes, per account, region and trail, which stretches of
// time digests cover and in what state, and the gaps verification found.
// It holds one small record per digest.
func coverage(ctx context.Context, c *store.Case, verified bool) ([]*chainCoverage, error) {
	chains := map[chainKey]*chainCoverage{}
	get := func(k chainKey) *chainCoverage {
		cc := chains[k]
		if cc == nil {
			cc = &chainCoverage{Account: k.account, Region: k.region, Trail: k.trail}
			chains[k] = cc
		}
		return cc
	}
	type ref struct {
		c *chainCoverage
		i int
	}
	byKey := map[string][]ref{}
	add := func(k chainKey, key string, s segment) {
		cc := get(k)
		cc.Segments = append(cc.Segments, s)
		byKey[key] = append(byKey[key], ref{cc, len(cc.Segments) - 1})
	}
	err := c.EachDigestSpan(ctx, verified, func(d store.DigestSpan) error {
		det := &verdict.DigestDetail{}
		if d.Detail != "" {
			det = digestDetail([]byte(d.Detail))
		}
		if det.TimeRange != "" {
			return nil // its times are out of range (finding time_range): listed with the statuses, not drawn
		}
		st, en := d.StartTime, d.EndTime
		k := chainKey{d.Account, d.Region, d.Trail}
		for _, name := range []string{d.Object, d.Key} {
			if ki, ok := cloudtrail.ParseKey(name); ok && !ki.FileNameOnly {
				k = chainKey{ki.Account, ki.Region, ki.Trail}
				if en == "" && !ki.Time.IsZero() {
					en = ki.Time.UTC().Format(time.RFC3339)
				}
				break
			}
		}
		if st == "" {
			st = det.ExpectedStartTime
		}
		if en == "" && det.ExpectedEndTime != nil {
			en = *det.ExpectedEndTime
		}
		end, err := awstime.Parse(en)
		if err != nil {
			return nil // no time known: listed with the statuses, not drawn
		}
		start, err := awstime.Parse(st)
		if err != nil || !start.Before(end) {
			start = end.Add(-time.Hour)
		}
		state := StateInvalid
		switch d.Status {
		case "valid":
			state = StateVerified
		case "missing":
			state = StateMissing
		case StateNotVerified:
			state = StateNotVerified
		}
		s := segment{Start: start.UTC(), End: end.UTC(), State: state, Digests: 1}
		if state == StateInvalid {
			s.Notes = []string{"digest " + d.Status}
		}
		add(k, d.Key, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if verified {
		// A log file that is not valid spoils the hour of the digests
		// listing it.
		err := c.EachStatusRecord(ctx, "log", func(r store.StatusRecord) error {
			det := logDetail([]byte(deref(r.Detail)))
			var digests []string
			for _, l := range det.ListedBy {
				digests = append(digests, digestKey(l.Digest))
			}
			if det.CoveringDigest != "" {
				digests = append(digests, digestKey(det.CoveringDigest))
			}
			// A log file deleted is missing, as a deleted digest is: one
			// colour for one meaning. Any other status is not valid.
			st := StateInvalid
			if r.Status == "missing" {
				st = StateMissing
			}
			for _, dk := range digests {
				for _, ref := range byKey[dk] {
					s := &ref.c.Segments[ref.i]
					if statePriority[st] > statePriority[s.State] {
						s.State = st
					}
					s.Notes = append(s.Notes, "log file "+r.Status)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		gaps, err := readFindings(ctx, c, "gap", "missing_span")
		if err != nil {
			return nil, fmt.Errorf("read gap findings: %w", err)
		}
		for _, f := range gaps {
			st, err1 := awstime.Parse(deref(f.StartTime))
			en, err2 := awstime.Parse(deref(f.EndTime))
			if err1 != nil || err2 != nil {
				continue
			}
			det := decodeFindingDetail(f.Detail)
			cc := get(findingChain(deref(f.Chain), det))
			if f.Type == "missing_span" {
				// More hourly digests missing than verify lists one by one.
				cc.Segments = append(cc.Segments, segment{Start: st.UTC(), End: en.UTC(), State: StateMissing})
				continue
			}
			cc.Gaps = append(cc.Gaps, gapSpan{Start: st.UTC(), End: en.UTC(), Explained: det.Explained,
				Severity: f.Severity, Summary: f.Summary})
			cc.Segments = append(cc.Segments, segment{Start: st.UTC(), End: en.UTC(), State: StateGap})
		}
	}
	out := make([]*chainCoverage, 0, len(chains))
	for _, cc := range chains {
		cc.Segments = mergeSegments(cc.Segments)
		sort.Slice(cc.Gaps, func(i, j int) bool { return cc.Gaps[i].Start.Before(cc.Gaps[j].Start) })
		out = append(out, cc)
	}
	sort.Slice(out, func(i, j int) bool {
		return chainKey{out[i].Account, out[i].Region, out[i].Trail}.less(chainKey{out[j].Account, out[j].Region, out[j].Trail})
	})
	return out, nil
}

// findingChain finds the account, region and trail a finding is about:
// from the digest keys its detail names (gap: last_digest_before,
// first_digest_after; coverage: newest_digest; conflict: digest), else
// the chain text as a key.
func findingChain(chain string, det *findingDetail) chainKey {
	for _, k := range []string{det.LastDigestBefore, det.FirstDigestAfter, det.NewestDigest, det.Digest} {
		if ki, ok := cloudtrail.ParseKey(digestKey(k)); ok && !ki.FileNameOnly && ki.Trail != "" {
			return chainKey{ki.Account, ki.Region, ki.Trail}
		}
	}
	return chainKey{account: "", region: "", trail: chain}
}

// digestKey strips a " (status)" suffix verify adds to some references.
func digestKey(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		return s[:i]
	}
	return s
}

// mergeSegments sorts segments and joins touching ones of the same state
// and notes.
func mergeSegments(in []segment) []segment {
	sort.SliceStable(in, func(i, j int) bool {
		if !in[i].Start.Equal(in[j].Start) {
			return in[i].Start.Before(in[j].Start)
		}
		return in[i].State < in[j].State
	})
	var out []segment
	for _, s := range in {
		sort.Strings(s.Notes)
		s.Notes = dedup(s.Notes)
		if n := len(out); n > 0 {
			p := &out[n-1]
			if p.State == s.State && !s.Start.After(p.End) && strings.Join(p.Notes, ",") == strings.Join(s.Notes, ",") {
				if s.End.After(p.End) {
					p.End = s.End
				}
				p.Digests += s.Digests
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

func dedup(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// seconds of the union of the segments in state.
func (c *chainCoverage) seconds(state string) int64 {
	var total time.Duration
	var end time.Time
	for _, s := range c.Segments {
		if s.State != state {
			continue
		}
		st := s.Start
		if st.Before(end) {
			st = end
		}
		if s.End.After(st) {
			total += s.End.Sub(st)
			end = s.End
		}
	}
	return int64(total / time.Second)
}

func (c *chainCoverage) span() (time.Time, time.Time) {
	var a, b time.Time
	for i, s := range c.Segments {
		if i == 0 || s.Start.Before(a) {
			a = s.Start
		}
		if s.End.After(b) {
			b = s.End
		}
	}
	return a, b
}

func fmtT(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// report is the chain's coverage as report.json has it.
func (c *chainCoverage) report() Coverage {
	segs := []CoverageSegment{}
	for _, s := range c.Segments {
		segs = append(segs, CoverageSegment{StartTime: fmtT(s.Start), EndTime: fmtT(s.End), State: s.State,
			Digests: int64(s.Digests), Notes: s.Notes})
	}
	gaps := []CoverageGap{}
	for _, g := range c.Gaps {
		gaps = append(gaps, CoverageGap{StartTime: fmtT(g.Start), EndTime: fmtT(g.End), Explained: g.Explained,
			Severity: g.Severity, Explanation: g.Summary})
	}
	a, b := c.span()
	return Coverage{Account: c.Account, Region: c.Region, Trail: c.Trail, StartTime: fmtT(a), EndTime: fmtT(b),
		Seconds: CoverageSeconds{Verified: c.seconds(StateVerified), Invalid: c.seconds(StateInvalid),
			Missing: c.seconds(StateMissing), Gap: c.seconds(StateGap), NotVerified: c.seconds(StateNotVerified)},
		Segments: segs, Gaps: gaps}
}
