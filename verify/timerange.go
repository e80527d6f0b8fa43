package verify

import (
	"fmt"
	"sort"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
)

// Finding types of the time bounds.
const (
	// FindingTimeRange is a digest whose times the evidence cannot hold:
	// before CloudTrail existed, after the digest was read into the case,
	// or (for a digest whose signature does not verify) far from every
	// other time of its chain. Its times are not used to infer missing
	// digests, gaps or coverage.
	FindingTimeRange = "time_range"
	// FindingMissingSpan counts the missing hourly digests of one stretch
	// of a chain when there are more than maxInferredMissing of them.
	FindingMissingSpan = "missing_span"
)

// Bounds on what digest times may drive.
const (
	// maxInferredMissing is how many digests inferred missing from the
	// time order of one stretch of a chain are listed one by one; beyond
	// it the oldest and newest maxInferredMissing/2 are listed and one
	// missing_span finding counts them all, so that work and output stay
	// linear in the evidence whatever times it claims.
	maxInferredMissing = 48
	// maxTimeSkew is how far a digest whose signature does not verify may
	// lie from every other digest of its chain, every log file of its
	// account and region and every record of them, when there are any.
	maxTimeSkew = 366 * 24 * time.Hour
	// maxIngestSkew is how far past the time its evidence row was written
	// (the ingesting machine's clock) a digest may end.
	maxIngestSkew = 24 * time.Hour
)

// The bounds in words, for details and summaries.
var (
	skewDays       = fmt.Sprintf("%d days", maxTimeSkew/(24*time.Hour))
	ingestSkewText = fmt.Sprintf("%d hours", maxIngestSkew/time.Hour)
)

// cloudTrailLaunch is the start of the month CloudTrail launched
// (2013-11-13): no CloudTrail file can claim an earlier time.
var cloudTrailLaunch = time.Date(2013, 11, 1, 0, 0, 0, 0, time.UTC)

// Time-range rules (detail.rule of a time_range finding).
const (
	ruleBeforeCloudTrail = "before_cloudtrail"
	ruleAfterIngest      = "after_ingest"
	ruleFarFromEvidence  = "far_from_evidence"
)

// timeRanges flags, after evaluation, every parsed digest whose times
// the evidence cannot hold, first rule that applies:
//
//   - before_cloudtrail: digestStartTime or digestEndTime before
//     2013-11-01, before CloudTrail existed;
//   - after_ingest: digestEndTime (or digestStartTime) more than a day
//     after its own evidence row was written (ingested_at), unless that
//     clock itself read before 2013-11-01;
//   - far_from_evidence: a digest that is not authentic, whose times lie
//     more than 366 days from every other digest of its chain, every log
//     file of its account and region (the time in its name) and every
//     record of them (eventTime), when the evidence holds any of these.
//
// A flagged digest keeps its status; its detail gets "time_range" (the
// rule) and it is left out of the chain's time order (sortedChain), so its
// times bound no loop and anchor no inferred missing digest, gap or
// coverage finding.
func (r *run) timeRanges() error {
	var err error
	// Other digests of each chain: their start and end times, sorted.
	type times struct{ starts, ends []time.Time }
	chains := map[chainID]*times{}
	for _, d := range r.dig {
		if inChainOrder(d) {
			c := chains[d.chain]
			if c == nil {
				c = &times{}
				chains[d.chain] = c
			}
			c.starts, c.ends = append(c.starts, d.start), append(c.ends, d.end)
		}
	}
	for _, c := range chains {
		sortTimes(c.starts)
		sortTimes(c.ends)
	}
	logTimes := map[string][]time.Time{} // by org/account/region, read when first needed
	hasEvents := map[string]bool{}       // account "/" region: any record at all
	for _, d := range r.dig {
		if !inChainOrder(d) {
			continue
		}
		det := map[string]any{"digest": d.key, "path": displayPath(d.ev), "evidence_id": d.ev.ID,
			"digest_start_time": fmtTime(d.start), "digest_end_time": fmtTime(d.end),
			"status": d.status, "authentic": d.authentic}
		var why string
		ing, ingErr := awstime.Parse(d.ingestedAt)
		switch {
		case d.start.Before(cloudTrailLaunch) || d.end.Before(cloudTrailLaunch):
			det["rule"] = ruleBeforeCloudTrail
			det["expected"] = "digestStartTime and digestEndTime at or after " + fmtTime(cloudTrailLaunch) + " (CloudTrail launched in November 2013)"
			det["found"] = fmt.Sprintf("digestStartTime %s, digestEndTime %s", fmtTime(d.start), fmtTime(d.end))
			why = "before CloudTrail existed"
		case ingErr == nil && !ing.Before(cloudTrailLaunch) && (d.end.After(ing.Add(maxIngestSkew)) || d.start.After(ing.Add(maxIngestSkew))):
			det["rule"] = ruleAfterIngest
			det["ingested_at"] = d.ingestedAt
			det["expected"] = fmt.Sprintf("digestEndTime at most %s after the digest was read into the case (%s)", ingestSkewText, fmtTime(ing))
			det["found"] = "digestEndTime " + fmtTime(d.end)
			why = "after the evidence holding it was read into the case (" + fmtTime(ing) + ", by the ingesting machine's clock)"
		case !d.authentic:
			c := chains[d.chain]
			lo, hi := d.start.Add(-maxTimeSkew), d.end.Add(maxTimeSkew)
			others := len(c.ends) - 1
			self := 0 // its own start and end are among the chain's times
			for _, t := range []time.Time{d.start, d.end} {
				if !t.Before(lo) && !t.After(hi) {
					self++
				}
			}
			if countIn(c.ends, lo, hi)+countIn(c.starts, lo, hi) > self {
				continue // near another digest of the chain
			}
			area := d.chain.OrgID + "/" + d.chain.Account + "/" + d.chain.Region
			lt, read := logTimes[area]
			if !read {
				if lt, err = r.logKeyTimes(d.chain); err != nil {
					return err
				}
				logTimes[area] = lt
			}
			if countIn(lt, lo, hi) > 0 {
				continue
			}
			ar := d.chain.Account + "/" + d.chain.Region
			evAny, seen := hasEvents[ar]
			if !seen {
				if evAny, err = r.c.HasEvents(r.ctx, d.chain.Account, d.chain.Region); err != nil {
					return err
				}
				hasEvents[ar] = evAny
			}
			if others == 0 && len(lt) == 0 && !evAny {
				continue // nothing to compare with
			}
			if evAny {
				near, err := r.c.HasEventBetween(r.ctx, d.chain.Account, d.chain.Region, clampTime(lo), clampTime(hi))
				if err != nil {
					return err
				}
				if near {
					continue
				}
			}
			det["rule"] = ruleFarFromEvidence
			det["max_skew"] = skewDays
			det["compared_with"] = map[string]any{"digests": others, "log_files": len(lt), "records": evAny}
			det["expected"] = fmt.Sprintf("times within %s of another digest of the chain, a log file or a record of %s %s", skewDays, d.chain.Account, d.chain.Region)
			det["found"] = fmt.Sprintf("digestStartTime %s, digestEndTime %s: none within %s", fmtTime(d.start), fmtTime(d.end), skewDays)
			why = fmt.Sprintf("more than %s from every other digest of its chain, log file and record of %s %s, and its signature does not verify under a supplied key valid at the time",
				skewDays, d.chain.Account, d.chain.Region)
		default:
			continue
		}
		d.outOfRange = true
		d.timeRange = det["rule"].(string)
		r.addFinding(Finding{Type: FindingTimeRange, Severity: SeverityError, Chain: d.chain.String(),
			Account: d.chain.Account, Region: d.chain.Region, Trail: d.chain.Trail, Start: fmtTime(d.start), End: fmtTime(d.end),
			Summary: fmt.Sprintf("digest %s claims %s to %s, %s: its times are not used to infer missing digests, gaps or coverage",
				d.key, fmtTime(d.start), fmtTime(d.end), why),
			Detail: det})
	}
	return nil
}

// inChainOrder reports whether d takes part in its chain's time order:
// parsed, readable, with times.
func inChainOrder(d *digestItem) bool { return d.timesOK && d.d != nil && d.ev.Error == "" }

// logKeyTimes returns the times in the names of the log files of c's
// organization, account and region, sorted: those with an AWSLogs/ key,
// read through the key index, and the flattened copies, known by their
// names. Asked only for a digest whose times are suspect.
func (r *run) logKeyTimes(c chainID) ([]time.Time, error) {
	prefix := "AWSLogs/"
	if c.OrgID != "" {
		prefix += c.OrgID + "/"
	}
	prefix += c.Account + "/" + cloudtrail.TypeLog + "/" + c.Region + "/"
	var out []time.Time
	add := func(name string) {
		if ki, ok := cloudtrail.ParseKey(name); ok && !ki.Time.IsZero() && ki.OrgID == c.OrgID && ki.Account == c.Account && ki.Region == c.Region {
			out = append(out, ki.Time)
		}
	}
	if err := r.x.LogKeysOf(r.ctx, prefix, func(k string) bool { add(k); return false }); err != nil {
		return nil, err
	}
	flat, err := r.x.FlatLogNames(r.ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range flat {
		add(n)
	}
	sortTimes(out)
	return out, nil
}

func sortTimes(ts []time.Time) { sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) }) }

// countIn counts the times of sorted ts in [lo, hi].
func countIn(ts []time.Time, lo, hi time.Time) int {
	i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(lo) })
	j := sort.Search(len(ts), func(i int) bool { return ts[i].After(hi) })
	if j < i {
		return 0
	}
	return j - i
}

// clampTime formats t as the case stores times, within the years RFC 3339
// can spell (0000–9999), so that text comparison keeps time order.
func clampTime(t time.Time) string {
	lo, hi := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	switch {
	case t.Before(lo):
		t = lo
	case t.After(hi):
		t = hi
	}
	return fmtTime(t)
}

// hourSlots is the number of whole hours from a to b, rounded to the
// nearest, without overflowing time.Duration (about 292 years).
func hourSlots(a, b time.Time) int64 {
	const half = 30 * time.Minute
	if d := b.Sub(a); d > -1<<62 && d < 1<<62 {
		return int64((d + half) / time.Hour)
	}
	return (b.Unix() - a.Unix() + int64(half/time.Second)) / int64(time.Hour/time.Second)
}

// addHours is t plus h hours, for any h (time.Duration would overflow
// past about 2.5 million hours).
func addHours(t time.Time, h int64) time.Time {
	return time.Unix(t.Unix()+h*int64(time.Hour/time.Second), int64(t.Nanosecond())).UTC()
}
