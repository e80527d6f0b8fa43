package report

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/store"
)

// SummarySection is the report's first page for a reader who is not a
// specialist: what the evidence proves (the CloudTrail events proven
// authentic, and over which time, per account and region) and what went
// wrong (the findings that are errors or warnings, and the items that
// are not valid, by status), in plain words.
type SummarySection struct {
	Events      int64         `json:"events"`
	Proven      int64         `json:"proven_events"`
	FirstProven *string       `json:"first_proven"`
	LastProven  *string       `json:"last_proven"`
	Areas       []ProvenArea  `json:"areas"`
	Problems    []string      `json:"problems"` // numbered on the page, most serious first
	NotValid    []StatusCount `json:"not_valid"`
	Proves      string        `json:"proves"` // the sentence
}

// ProvenArea is one account and region of the summary.
type ProvenArea struct {
	Account     string  `json:"account"`
	Region      string  `json:"region"`
	Events      int64   `json:"events"`
	Proven      int64   `json:"proven_events"`
	FirstProven *string `json:"first_proven"`
	LastProven  *string `json:"last_proven"`
}

// StatusCount is how many items of a kind have a status that is not
// valid.
type StatusCount struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Items  int64  `json:"items"`
}

// maxProblems is how many findings the summary states one by one.
const maxProblems = 12

// summarySection builds the summary from the case's events and what the
// report already read (status counts, findings).
func summarySection(ctx context.Context, c *store.Case, counts statusCounts, findings []Finding) (*SummarySection, error) {
	spans, err := c.ProvenSpans(ctx)
	if err != nil {
		return nil, err
	}
	s := &SummarySection{Areas: []ProvenArea{}, Problems: []string{}, NotValid: []StatusCount{}}
	first, last := "", ""
	for _, a := range spans {
		s.Events += a.Events
		s.Proven += a.Verified
		s.Areas = append(s.Areas, ProvenArea{Account: a.Account, Region: a.Region, Events: a.Events, Proven: a.Verified,
			FirstProven: emptyNil(a.FirstProven), LastProven: emptyNil(a.LastProven)})
		if a.FirstProven != "" && (first == "" || a.FirstProven < first) {
			first = a.FirstProven
		}
		if a.LastProven > last {
			last = a.LastProven
		}
	}
	s.FirstProven, s.LastProven = emptyNil(first), emptyNil(last)
	switch {
	case s.Events == 0:
		s.Proves = "The case holds no CloudTrail event."
	case s.Proven == 0:
		s.Proves = fmt.Sprintf("None of the %s in the case is proven authentic.", display.Plural(int(s.Events), "CloudTrail event", "CloudTrail events"))
	default:
		s.Proves = fmt.Sprintf("%d of the %s in the case are proven authentic: their log files match digests whose signatures verified. The proven events run from %s to %s.",
			s.Proven, display.Plural(int(s.Events), "CloudTrail event", "CloudTrail events"), first, last)
	}
	// The findings that are errors, then warnings, as the report orders
	// them; information (an explained gap) too, since it says what happened.
	fs := groupGaps(sortedBySeverity(findings))
	for _, f := range fs {
		if len(s.Problems) == maxProblems {
			s.Problems = append(s.Problems, fmt.Sprintf("and %d more findings, listed under Findings", len(fs)-maxProblems))
			break
		}
		s.Problems = append(s.Problems, severityWord(f.Severity)+": "+f.Summary)
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		sts := make([]string, 0, len(counts[k]))
		for st := range counts[k] {
			if st != "valid" {
				sts = append(sts, st)
			}
		}
		sort.Strings(sts)
		for _, st := range sts {
			s.NotValid = append(s.NotValid, StatusCount{Kind: k, Status: st, Items: counts[k][st]})
		}
	}
	return s, nil
}

// findingsAfterSummary is the findings the first page does not state one
// by one, in its order (errors first, gaps many chains share once), and
// how many it states: report.html and report.pdf list these under
// Findings, so that each fact is stated once.
func (b *builder) findingsAfterSummary() ([]Finding, int) {
	if b.summary == nil {
		return b.findings, 0
	}
	all := groupGaps(sortedBySeverity(b.findings))
	if len(all) <= maxProblems {
		return nil, len(all)
	}
	return all[maxProblems:], maxProblems
}

// sortedBySeverity is the findings, errors first, then warnings, then
// information, each in report order.
func sortedBySeverity(findings []Finding) []Finding {
	rank := map[string]int{"error": 0, "warning": 1, "info": 2}
	fs := append([]Finding(nil), findings...)
	sort.SliceStable(fs, func(i, j int) bool { return rank[fs[i].Severity] < rank[fs[j].Severity] })
	return fs
}

func severityWord(s string) string {
	switch s {
	case "error":
		return "Problem"
	case "warning":
		return "Warning"
	}
	return "Note"
}

// notValidText is the items that are not valid in a sentence.
func notValidText(ns []StatusCount) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, fmt.Sprintf("%s %s", display.Plural(int(n.Items), n.Kind, n.Kind+"s"), strings.ReplaceAll(n.Status, "_", " ")))
	}
	return strings.Join(parts, "; ")
}

// chainArea is the account and region a chain's name holds.
var chainArea = regexp.MustCompile(`/(\d{12})/CloudTrail-Digest/([a-z0-9-]+)`)

// groupGaps states once the gaps that many chains share: the same
// severity, span and explanation (logging stopped for every region of a
// trail is one fact, not one per chain). The others are as they were.
func groupGaps(fs []Finding) []Finding {
	type key struct{ sev, start, end, why string }
	groups := map[key][]Finding{}
	var order []key
	for _, f := range fs {
		if f.Type != "gap" || f.StartTime == nil || f.EndTime == nil {
			continue
		}
		i := strings.Index(f.Summary, "; ")
		if i < 0 {
			continue
		}
		k := key{f.Severity, *f.StartTime, *f.EndTime, f.Summary[i+2:]}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	merged := map[key]Finding{}
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		var areas []string
		for _, f := range g {
			if m := chainArea.FindStringSubmatch(deref(f.Chain)); m != nil {
				areas = append(areas, m[1]+" "+m[2])
			} else {
				areas = append(areas, deref(f.Chain))
			}
		}
		f := g[0]
		f.Chain = nil
		f.Summary = fmt.Sprintf("%d chains restart (%s): no digest covers %s to %s; %s", len(g), strings.Join(areas, ", "),
			k.start, k.end, k.why)
		merged[k] = f
	}
	var out []Finding
	done := map[key]bool{}
	for _, f := range fs {
		if f.Type == "gap" && f.StartTime != nil && f.EndTime != nil {
			if i := strings.Index(f.Summary, "; "); i >= 0 {
				k := key{f.Severity, *f.StartTime, *f.EndTime, f.Summary[i+2:]}
				if m, ok := merged[k]; ok {
					if !done[k] {
						out = append(out, m)
						done[k] = true
					}
					continue
				}
			}
		}
		out = append(out, f)
	}
	return out
}
