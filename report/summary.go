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
// valid, the first of them (its S3 location, or local path), and the
// fact in plain words.
type StatusCount struct {
	Kind   string  `json:"kind"`
	Status string  `json:"status"`
	Items  int64   `json:"items"`
	First  *string `json:"first"`
	Plain  string  `json:"plain"`
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
	firstOf, err := c.FirstOfStatus(ctx)
	if err != nil {
		return nil, err
	}
	for k, m := range counts {
		for st, n := range m {
			if st == "valid" || st == "not_covered" {
				continue // not_covered is a limitation, stated with them
			}
			sc := StatusCount{Kind: k, Status: st, Items: n}
			if w, ok := firstOf[k][st]; ok {
				sc.First = &w
			}
			sc.Plain = plainStatus(sc)
			s.NotValid = append(s.NotValid, sc)
		}
	}
	// Most serious first, as the report's table orders them.
	sort.Slice(s.NotValid, func(i, j int) bool {
		a, b := s.NotValid[i], s.NotValid[j]
		if ra, rb := statusRank(a.Status), statusRank(b.Status); ra != rb {
			return ra < rb
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Status < b.Status
	})
	return s, nil
}

// statusWords says what a status means, of one item and of several.
var statusWords = map[string][2]string{
	"hash_mismatch":         {"was changed after it was delivered: its SHA-256 is not the one its signed digest lists", "were changed after they were delivered: their SHA-256 is not the one their signed digest lists"},
	"checksum_mismatch":     {"does not match the checksum S3 recorded for it", "do not match the checksums S3 recorded for them"},
	"size_mismatch":         {"is not the size S3 recorded for it", "are not the size S3 recorded for them"},
	"signature_invalid":     {"carries a signature that does not verify: it was changed or forged", "carry signatures that do not verify: they were changed or forged"},
	"chain_mismatch":        {"does not link to the digest before it: the chain was altered", "do not link to the digests before them: the chain was altered"},
	"changed_since_ingest":  {"changed on disk after it was ingested", "changed on disk after they were ingested"},
	"format_invalid":        {"cannot be read as what it claims to be", "cannot be read as what they claim to be"},
	"trailing_data":         {"has bytes after its end that nothing signed covers", "have bytes after their end that nothing signed covers"},
	"key_unknown":           {"is signed with a key that is not among the trust anchors supplied: its signature proves nothing", "are signed with keys that are not among the trust anchors supplied: their signatures prove nothing"},
	"key_not_valid_at_time": {"is signed with a key that was not valid at the time it claims", "are signed with keys that were not valid at the times they claim"},
	"moved":                 {"is not where its signed record says it was delivered", "are not where their signed records say they were delivered"},
	"missing":               {"is missing: a signed record names it, and it is not in the evidence", "are missing: signed records name them, and they are not in the evidence"},
	"object_missing":        {"is missing: its saved metadata names it, and it is not in the evidence", "are missing: their saved metadata names them, and they are not in the evidence"},
	"signature_unavailable": {"has no signature in the evidence (its S3 metadata was not exported): it cannot be proven", "have no signature in the evidence (their S3 metadata was not exported): they cannot be proven"},
	"metadata_missing":      {"has no saved S3 metadata to check it against", "have no saved S3 metadata to check them against"},
	"unreferenced":          {"is listed by no digest in the evidence: nothing proves it authentic", "are listed by no digest in the evidence: nothing proves them authentic"},
	"unverified":            {"is listed only by digests that are not valid: nothing proves it authentic", "are listed only by digests that are not valid: nothing proves them authentic"},
	"unverifiable":          {"has no checksum that can be checked offline", "have no checksum that can be checked offline"},
	"not_covered":           {"is covered by no digest by design (a file of Insights, network activity or aggregated events, or an export of events): its events are not proven authentic, and nothing says it was altered", "are covered by no digest by design (files of Insights, network activity or aggregated events, or exports of events): their events are not proven authentic, and nothing says they were altered"},
}

// kindWords names an item kind, one and several.
var kindWords = map[string][2]string{
	"digest":         {"digest file", "digest files"},
	"log":            {"log file", "log files"},
	"object":         {"S3 object", "S3 objects"},
	"lake_sign_file": {"CloudTrail Lake sign file", "CloudTrail Lake sign files"},
	"lake_result":    {"CloudTrail Lake result file", "CloudTrail Lake result files"},
}

// plainStatus is a status count in plain words, naming the first item:
// "1 log file was changed after it was delivered: ... (hash_mismatch):
// s3://...".
func plainStatus(sc StatusCount) string {
	one := sc.Items == 1
	noun, ok := kindWords[sc.Kind]
	if !ok {
		noun = [2]string{sc.Kind + " item", sc.Kind + " items"}
	}
	words, ok := statusWords[sc.Status]
	if !ok {
		words = [2]string{"has the status " + sc.Status, "have the status " + sc.Status}
	}
	i := 1
	if one {
		i = 0
	}
	w := words[i]
	if strings.HasPrefix(sc.Kind, "lake_") {
		// A Lake file is listed by a sign file, not a digest.
		w = strings.NewReplacer("signed digest", "sign file", "digests", "sign files", "digest", "sign file").Replace(w)
	}
	out := fmt.Sprintf("%d %s %s (%s)", sc.Items, noun[i], w, sc.Status)
	if sc.First != nil {
		if one {
			out += ": " + *sc.First
		} else {
			out += "; the first: " + *sc.First
		}
	}
	return out
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
