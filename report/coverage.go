package report

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
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
func coverage(ctx context.Context, db *sql.DB, verified bool) ([]*chainCoverage, error) {
	chains := map[chainKey]*chainCoverage{}
	get := func(k chainKey) *chainCoverage {
		c := chains[k]
		if c == nil {
			c = &chainCoverage{Account: k.account, Region: k.region, Trail: k.trail}
			chains[k] = c
		}
		return c
	}
	type ref struct {
		c *chainCoverage
		i int
	}
	byKey := map[string][]ref{}
	add := func(k chainKey, key string, s segment) {
		c := get(k)
		c.Segments = append(c.Segments, s)
		byKey[key] = append(byKey[key], ref{c, len(c.Segments) - 1})
	}
	q := `SELECT coalesce(s.s3_key, ''), s.status, coalesce(s.detail, ''), coalesce(d.digest_start_time, ''),
		coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_object, ''), coalesce(e.account_id, ''),
		coalesce(e.region, ''), coalesce(e.trail, '')
		FROM item_status s LEFT JOIN ct_digests d ON d.evidence_id = s.evidence_id LEFT JOIN evidence e ON e.id = s.evidence_id
		WHERE s.kind = 'digest' ORDER BY s.id`
	if !verified {
		q = `SELECT coalesce(d.digest_s3_object, e.s3_key, ''), 'not_verified', '', coalesce(d.digest_start_time, ''),
			coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_object, ''), coalesce(e.account_id, ''),
			coalesce(e.region, ''), coalesce(e.trail, '')
			FROM ct_digests d JOIN evidence e ON e.id = d.evidence_id ORDER BY e.path, e.member`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read digest coverage: %w", err)
	}
	for rows.Next() {
		var key, status, detail, st, en, obj, acct, region, trail string
		if err := rows.Scan(&key, &status, &detail, &st, &en, &obj, &acct, &region, &trail); err != nil {
			rows.Close()
			return nil, err
		}
		var det map[string]any
		if detail != "" {
			if d, err := decodeJSON([]byte(detail)); err == nil {
				det, _ = d.(map[string]any)
			}
		}
		if det["time_range"] != nil {
			continue // its times are out of range (finding time_range): listed with the statuses, not drawn
		}
		k := chainKey{acct, region, trail}
		for _, name := range []string{obj, key} {
			if ki, ok := cloudtrail.ParseKey(name); ok && !ki.FileNameOnly {
				k = chainKey{ki.Account, ki.Region, ki.Trail}
				if en == "" && !ki.Time.IsZero() {
					en = ki.Time.UTC().Format(time.RFC3339)
				}
				break
			}
		}
		if st == "" {
			st = str(det["expected_start_time"])
		}
		if en == "" {
			en = str(det["expected_end_time"])
		}
		end, err := awstime.Parse(en)
		if err != nil {
			continue // no time known: listed with the statuses, not drawn
		}
		start, err := awstime.Parse(st)
		if err != nil || !start.Before(end) {
			start = end.Add(-time.Hour)
		}
		state := StateInvalid
		switch status {
		case "valid":
			state = StateVerified
		case "missing":
			state = StateMissing
		case StateNotVerified:
			state = StateNotVerified
		}
		s := segment{Start: start.UTC(), End: end.UTC(), State: state, Digests: 1}
		if state == StateInvalid {
			s.Notes = []string{"digest " + status}
		}
		add(k, key, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if verified {
		// A log file that is not valid spoils the hour of the digests
		// listing it.
		rows, err := db.QueryContext(ctx, `SELECT coalesce(s3_key, ''), status, coalesce(detail, '') FROM item_status
			WHERE kind = 'log' AND status != 'valid' ORDER BY id`)
		if err != nil {
			return nil, fmt.Errorf("read log statuses: %w", err)
		}
		for rows.Next() {
			var key, status, detail string
			if err := rows.Scan(&key, &status, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			d, _ := decodeJSON([]byte(detail))
			det, _ := d.(map[string]any)
			var digests []string
			if by, ok := det["listed_by"].([]any); ok {
				for _, b := range by {
					if m, ok := b.(map[string]any); ok {
						digests = append(digests, digestKey(str(m["digest"])))
					}
				}
			}
			if cd := str(det["covering_digest"]); cd != "" {
				digests = append(digests, digestKey(cd))
			}
			for _, dk := range digests {
				for _, r := range byKey[dk] {
					s := &r.c.Segments[r.i]
					if s.State == StateVerified {
						s.State = StateInvalid
					}
					s.Notes = append(s.Notes, "log file "+status)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ok, err := hasTable(ctx, db, "findings")
		if err != nil {
			return nil, err
		}
		if ok {
			err := genericRows(ctx, db, "SELECT * FROM findings WHERE type IN ('gap', 'missing_span') ORDER BY id", nil, func(o obj) error {
				st, err1 := awstime.Parse(str(o["start_time"]))
				en, err2 := awstime.Parse(str(o["end_time"]))
				if err1 != nil || err2 != nil {
					return nil
				}
				det, _ := o["detail"].(map[string]any)
				if det == nil {
					d, _ := decodeJSON([]byte(str(o["detail"])))
					det, _ = d.(map[string]any)
				}
				c := get(findingChain(str(o["chain"]), det))
				if str(o["type"]) == "missing_span" {
					// More hourly digests missing than verify lists one by one.
					c.Segments = append(c.Segments, segment{Start: st.UTC(), End: en.UTC(), State: StateMissing})
					return nil
				}
				explained, _ := det["explained"].(bool)
				c.Gaps = append(c.Gaps, gapSpan{Start: st.UTC(), End: en.UTC(), Explained: explained,
					Severity: str(o["severity"]), Summary: str(o["summary"])})
				c.Segments = append(c.Segments, segment{Start: st.UTC(), End: en.UTC(), State: StateGap})
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read gap findings: %w", err)
			}
		}
	}
	out := make([]*chainCoverage, 0, len(chains))
	for _, c := range chains {
		c.Segments = mergeSegments(c.Segments)
		sort.Slice(c.Gaps, func(i, j int) bool { return c.Gaps[i].Start.Before(c.Gaps[j].Start) })
		out = append(out, c)
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
func findingChain(chain string, det map[string]any) chainKey {
	for _, k := range []string{"last_digest_before", "first_digest_after", "newest_digest", "digest"} {
		if ki, ok := cloudtrail.ParseKey(digestKey(str(det[k]))); ok && !ki.FileNameOnly && ki.Trail != "" {
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

func (c *chainCoverage) obj() obj {
	segs := []obj{}
	for _, s := range c.Segments {
		notes := s.Notes
		if notes == nil {
			notes = []string{}
		}
		segs = append(segs, obj{"start_time": fmtT(s.Start), "end_time": fmtT(s.End), "state": s.State,
			"digests": s.Digests, "notes": notes})
	}
	gaps := []obj{}
	for _, g := range c.Gaps {
		gaps = append(gaps, obj{"start_time": fmtT(g.Start), "end_time": fmtT(g.End), "explained": g.Explained,
			"severity": g.Severity, "explanation": g.Summary})
	}
	a, b := c.span()
	secs := obj{}
	for _, st := range coverageStates {
		secs[st] = c.seconds(st)
	}
	return obj{"account": c.Account, "region": c.Region, "trail": c.Trail, "start_time": fmtT(a), "end_time": fmtT(b),
		"seconds": secs, "segments": segs, "gaps": gaps}
}
