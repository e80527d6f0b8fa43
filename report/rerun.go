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

func statusKeys(rows []map[string]any) []string {
	out := []string{}
	for _, o := range rows {
		out = append(out, statusKey(str(o["kind"]), str(o["status"]), str(o["s3_bucket"]), str(o["s3_key"])))
	}
	sort.Strings(out)
	return out
}

// findingKeys leaves out trust_anchor_in_evidence findings: they say
// where the trust anchors of a run came from, not what the evidence
// shows, and an auditor re-running with keys fetched independently should
// not see them as a difference (Verify warns about them instead).
func findingKeys(rows []map[string]any) []string {
	out := []string{}
	for _, o := range rows {
		if str(o["type"]) == verify.FindingTrustAnchorInEvidence {
			continue
		}
		out = append(out, findingKey(str(o["type"]), str(o["severity"]), str(o["chain"]), str(o["start_time"]), str(o["end_time"])))
	}
	sort.Strings(out)
	return out
}

func countKeys(byKind map[string]map[string]any) []string {
	out := []string{}
	for kind, m := range byKind {
		by, _ := m["by_status"].(map[string]any)
		for s, n := range by {
			out = append(out, fmt.Sprintf("%s %s %v", kind, s, n))
		}
	}
	sort.Strings(out)
	return out
}

// readRerun reads the outcome recorded in a case.
func readRerun(ctx context.Context, c *store.Case) (*Outcome, error) {
	o := &Outcome{Statuses: []string{}, Findings: []string{}, Counts: []string{}, Anchors: []string{}}
	var st []map[string]any
	if err := genericRows(ctx, c.DB, "SELECT * FROM item_status WHERE status != 'valid'", nil, func(r obj) error {
		st = append(st, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read item statuses: %w", err)
	}
	o.Statuses = statusKeys(st)
	fs, err := findingRows(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	var fm []map[string]any
	for _, f := range fs {
		fm = append(fm, f)
		if str(f["type"]) == verify.FindingTrustAnchorInEvidence {
			o.AnchorsInEvidence++
		}
	}
	o.Findings = findingKeys(fm)
	counts, err := readStatusCounts(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	for kind, m := range counts {
		for s, n := range m {
			o.Counts = append(o.Counts, fmt.Sprintf("%s %s %d", kind, s, n))
		}
	}
	sort.Strings(o.Counts)
	a, err := readAnchors(ctx, c.DB)
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
