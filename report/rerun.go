package report

import (
	"context"
	"fmt"
	"sort"

	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// Outcome is what a verification concluded, reduced to what two runs on
// the same evidence in different places must agree on: every status that
// is not valid as "kind status s3://bucket/key", every finding as "type
// severity chain start end", and item counts as "kind status n" (local
// paths and evidence ids differ between cases and are left out). Lists
// are sorted multisets.
type Outcome struct {
	Statuses []string
	Findings []string
	Counts   []string
	Anchors  []string // trust-anchor fingerprints, sorted, unique
	// AnchorsInEvidence counts trust_anchor_in_evidence findings.
	AnchorsInEvidence int
}

func statusKey(kind, status, bucket, key string) string {
	return kind + " " + status + " s3://" + bucket + "/" + key
}

func findingKey(typ, sev, chain, start, end string) string {
	return fmt.Sprintf("%s %s chain=%s %s/%s", typ, sev, chain, start, end)
}

// findingKeys leaves out trust_anchor_in_evidence findings: they say
// where the trust anchors of a run came from, not what the evidence
// shows, and an auditor re-running with keys fetched independently should
// not see them as a difference (Verify warns about them instead).
func findingKeys(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		if f.Type == verify.FindingTrustAnchorInEvidence {
			continue
		}
		out = append(out, findingKey(f.Type, f.Severity, deref(f.Chain), deref(f.StartTime), deref(f.EndTime)))
	}
	sort.Strings(out)
	return out
}

func countKeys(byKind map[string]KindCounts) []string {
	out := []string{}
	for kind, m := range byKind {
		for s, n := range m.ByStatus {
			out = append(out, fmt.Sprintf("%s %s %d", kind, s, n))
		}
	}
	sort.Strings(out)
	return out
}

// readRerun reads the outcome recorded in a case.
func readRerun(ctx context.Context, c *store.Case) (*Outcome, error) {
	o := &Outcome{Statuses: []string{}, Findings: []string{}, Counts: []string{}, Anchors: []string{}}
	if err := c.EachStatusRecord(ctx, "", func(s store.StatusRecord) error {
		o.Statuses = append(o.Statuses, statusKey(s.Kind, s.Status, deref(s.S3Bucket), deref(s.S3Key)))
		return nil
	}); err != nil {
		return nil, err
	}
	sort.Strings(o.Statuses)
	fs, err := readFindings(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.Type == verify.FindingTrustAnchorInEvidence {
			o.AnchorsInEvidence++
		}
	}
	o.Findings = findingKeys(fs)
	counts, err := c.StatusCounts(ctx)
	if err != nil {
		return nil, err
	}
	for kind, m := range counts {
		for s, n := range m {
			o.Counts = append(o.Counts, fmt.Sprintf("%s %s %d", kind, s, n))
		}
	}
	sort.Strings(o.Counts)
	a, err := readAnchors(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, k := range a.keys {
		o.Anchors = append(o.Anchors, k.Fingerprint)
	}
	sort.Strings(o.Anchors)
	o.Anchors = dedup(o.Anchors)
	if o.Anchors == nil {
		o.Anchors = []string{}
	}
	return o, nil
}

// Compare lists every status, finding and count in which the report and
// the re-run differ (as multisets); none means the re-run reproduced the
// report exactly.
func Compare(report, rerun Outcome) []Difference {
	var out []Difference
	out = append(out, diffMultiset("status", report.Statuses, rerun.Statuses)...)
	out = append(out, diffMultiset("finding", report.Findings, rerun.Findings)...)
	out = append(out, diffMultiset("count", report.Counts, rerun.Counts)...)
	return out
}

func diffMultiset(what string, a, b []string) []Difference {
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		n[s]--
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Difference
	for _, k := range keys {
		for i := 0; i < n[k]; i++ {
			out = append(out, Difference{What: what, Side: "only_in_report", Item: k})
		}
		for i := 0; i > n[k]; i-- {
			out = append(out, Difference{What: what, Side: "only_in_rerun", Item: k})
		}
	}
	return out
}
