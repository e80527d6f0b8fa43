package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// report.html is rendered with html/template, which escapes every value
// for its context: evidence fields (event records, principals, keys) are
// attacker-controlled. The page has no scripts and loads nothing.

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}).Parse(htmlSource))

// Chart geometry (SVG user units).
const (
	chartLabel  = 280 // label column
	chartPlot   = 700 // plot width; one unit per pixel column
	chartRow    = 22
	chartAxis   = 30
	chartLegend = 26
)

// statePriority decides a pixel column's colour when several states fall
// in it: the worst wins.
var statePriority = map[string]int{StateVerified: 1, StateNotVerified: 2, StateGap: 3, StateMissing: 4, StateInvalid: 5}

// stateFill are the chart colours (colour-blind-safe enough: green,
// red, orange, purple, grey).
var stateFill = map[string]string{
	StateVerified:    "#2e9e4f",
	StateInvalid:     "#d92d20",
	StateMissing:     "#f79009",
	StateGap:         "#7a5af8",
	StateNotVerified: "#b0b0b0",
}

var stateLabel = map[string]string{
	StateVerified:    "verified",
	StateInvalid:     "not valid",
	StateMissing:     "missing",
	StateGap:         "logging gap",
	StateNotVerified: "not verified",
}

type chartRect struct {
	X, Y, W, H  int
	State, Fill string
	Title       string
}

type chartTick struct {
	X     int
	Label string
}

type chartLegendItem struct {
	X                  int
	State, Fill, Label string
}

type chartRowLabel struct {
	Y     int
	Label string
}

type chart struct {
	Width, Height int
	PlotX, PlotW  int
	AxisY         int
	Rows          []chartRowLabel
	Rects         []chartRect
	Ticks         []chartTick
	Legend        []chartLegendItem
	LegendY       int
	Start, End    string
}

// buildChart draws the coverage: one row per account, region and trail,
// a shared time axis, and per pixel column the worst state of any stretch
// that touches it (so a one-hour problem in a year stays visible and the
// drawing stays small).
func buildChart(cov []*chainCoverage) *chart {
	if len(cov) == 0 {
		return nil
	}
	var t0, t1 time.Time
	for i, c := range cov {
		a, b := c.span()
		if i == 0 || a.Before(t0) {
			t0 = a
		}
		if b.After(t1) {
			t1 = b
		}
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Hour)
	}
	span := t1.Sub(t0)
	col := func(t time.Time) int {
		return int(float64(t.Sub(t0)) / float64(span) * chartPlot)
	}
	ch := &chart{PlotX: chartLabel, PlotW: chartPlot, Width: chartLabel + chartPlot + 10,
		Start: fmtT(t0), End: fmtT(t1)}
	for r, c := range cov {
		y := chartLegend + r*chartRow
		trail := c.Trail
		if trail == "" {
			trail = "(unknown trail)"
		}
		label := c.Account + " " + c.Region + " " + trail
		if r := []rune(label); len(r) > 46 {
			label = string(r[:45]) + "…"
		}
		ch.Rows = append(ch.Rows, chartRowLabel{Y: y + chartRow/2 + 4, Label: label})
		cols := make([]string, chartPlot)
		for _, s := range c.Segments {
			a, b := col(s.Start), col(s.End)
			if b <= a {
				b = a + 1
			}
			for x := a; x < b && x < chartPlot; x++ {
				if x >= 0 && statePriority[s.State] > statePriority[cols[x]] {
					cols[x] = s.State
				}
			}
		}
		for x := 0; x < chartPlot; {
			st := cols[x]
			e := x + 1
			for e < chartPlot && cols[e] == st {
				e++
			}
			if st != "" {
				from := t0.Add(time.Duration(float64(span) * float64(x) / chartPlot))
				to := t0.Add(time.Duration(float64(span) * float64(e) / chartPlot))
				ch.Rects = append(ch.Rects, chartRect{X: chartLabel + x, Y: y + 3, W: e - x, H: chartRow - 6, State: st, Fill: stateFill[st],
					Title: fmt.Sprintf("%s %s %s: %s, about %s to %s", c.Account, c.Region, trail, stateLabel[st],
						from.Round(time.Minute).Format("2006-01-02 15:04"), to.Round(time.Minute).Format("2006-01-02 15:04"))})
			}
			x = e
		}
	}
	ch.AxisY = chartLegend + len(cov)*chartRow
	step := tickStep(span)
	first := t0.Truncate(step)
	if first.Before(t0) {
		first = first.Add(step)
	}
	layout := "2006-01-02 15:04"
	if step >= 24*time.Hour {
		layout = "2006-01-02"
	}
	for t := first; !t.After(t1); t = t.Add(step) {
		ch.Ticks = append(ch.Ticks, chartTick{X: chartLabel + col(t), Label: t.UTC().Format(layout)})
	}
	ch.Height = ch.AxisY + chartAxis
	x := chartLabel
	for _, st := range coverageStates {
		ch.Legend = append(ch.Legend, chartLegendItem{X: x, State: st, Fill: stateFill[st], Label: stateLabel[st]})
		x += 120
	}
	ch.LegendY = 6
	return ch
}

// tickStep picks a round interval giving at most 6 ticks.
func tickStep(span time.Duration) time.Duration {
	h := time.Hour
	d := 24 * h
	for _, s := range []time.Duration{h, 2 * h, 3 * h, 6 * h, 12 * h, d, 2 * d, 7 * d, 14 * d, 28 * d, 91 * d, 182 * d, 364 * d} {
		if span/s <= 6 {
			return s
		}
	}
	return 728 * d
}

type htmlFinding struct{ Severity, Type, Summary, Chain, Span string }

type htmlStatus struct{ Kind, Location, Status, Path, Reason string }

type htmlEvidence struct {
	Path, SHA256, Kind, S3Key, Status, Error string
	Size                                     string
}

type htmlDigest struct{ Key, Fingerprint, Source, Reproduced string }

type htmlCustody struct{ Seq, Time, Who, Tool, Command, Hash string }

type htmlGap struct{ Span, Explanation string }

type htmlCoverage struct {
	Chain, Span                     string
	Verified, Invalid, Missing, Gap string
	Gaps                            []htmlGap
}

func location(o obj, bucketKey, keyKey string) string {
	b, k := str(o[bucketKey]), str(o[keyKey])
	if b != "" {
		return "s3://" + b + "/" + k
	}
	return k
}

func localPath(path, member string) string {
	if member != "" {
		return path + "!/" + member
	}
	return path
}

func span(a, b string) string {
	if a == "" && b == "" {
		return ""
	}
	return a + " – " + b
}

func hours(secs int64) string {
	if secs == 0 {
		return "0 h"
	}
	return fmt.Sprintf("%.1f h", float64(secs)/3600)
}

type htmlCount struct {
	Kind, Statuses string
	Total, Valid   int64
}

type htmlView struct {
	Verdict      string
	OK           bool
	CaseID       string
	Tool         string
	Signer       string
	Fingerprint  string
	SignedAt     string
	TimeSource   string
	Operator     string
	Host         string
	Counts       []htmlCount
	Chart        *chart
	Coverage     []htmlCoverage
	Findings     []htmlFinding
	FindingsMore int
	Statuses     []htmlStatus
	StatusesMore int64
	EvidenceKind []htmlCount
	EvidenceN    int64
	Evidence     []htmlEvidence
	EvidenceMore int64
	AnchorFiles  []obj
	AnchorKeys   []obj
	Digests      []htmlDigest
	DigestsN     int64
	DigestsMore  int64
	Unproven     int64
	Custody      []htmlCustody
	CustodyFirst int
	CustodyN     int
	CustodyOK    bool
	CustodyProb  []string
	CustodyHead  string
	Limitations  []string
	Commands     []string
}

func (b *builder) writeHTML(w io.Writer) error {
	t := b.opt.Tool
	tool := fmt.Sprintf("%s %s (revision %s", t.Name, t.Version, t.Revision)
	if t.Modified {
		tool += ", modified"
	}
	tool += ")"
	if t.Platform != "" {
		tool += " " + t.Platform
	}
	if t.BinarySHA256 != "" {
		tool += ", binary sha256 " + t.BinarySHA256
	}
	v := &htmlView{Verdict: b.verdict, OK: b.verdictOK, CaseID: b.info["case_id"], Tool: tool, Signer: b.opt.Identity,
		Fingerprint: Fingerprint(b.pub), SignedAt: b.opt.SignedAt.Format(time.RFC3339), TimeSource: b.opt.TimeSource,
		Operator: b.opt.Operator, Host: b.opt.Host, Chart: buildChart(b.coverage),
		EvidenceN: b.evTotal, AnchorFiles: b.anchors.files, AnchorKeys: b.anchors.keyObjs(),
		DigestsN: b.nDigests, Unproven: b.nUnproven, CustodyOK: len(b.problems)+len(b.edits) == 0,
		CustodyProb: htmlProblems(append(append([]string{}, b.problems...), b.edits...)), CustodyN: len(b.custody), Limitations: b.limits,
		Commands: methodObj(b.opt.Identity)["report_signature"].([]string)}
	v.StatusesMore = b.nStatuses - int64(len(b.htmlStatuses))
	v.EvidenceMore = b.evTotal - int64(len(b.htmlEvidence))
	v.DigestsMore = b.nDigests - int64(len(b.htmlDigests))
	kinds := make([]string, 0, len(b.counts))
	for k := range b.counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		var hc htmlCount
		hc.Kind = k
		var parts []string
		sts := make([]string, 0, len(b.counts[k]))
		for s := range b.counts[k] {
			sts = append(sts, s)
		}
		sort.Strings(sts)
		for _, s := range sts {
			n := b.counts[k][s]
			hc.Total += n
			if s == "valid" {
				hc.Valid += n
			}
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
		hc.Statuses = strings.Join(parts, ", ")
		v.Counts = append(v.Counts, hc)
	}
	for _, o := range b.htmlStatuses {
		det, _ := o["detail"].(map[string]any)
		v.Statuses = append(v.Statuses, htmlStatus{Kind: str(o["kind"]), Location: location(o, "s3_bucket", "s3_key"),
			Status: str(o["status"]), Path: localPath(str(o["evidence_path"]), str(o["evidence_member"])),
			Reason: str(det["reason"])})
	}
	for _, o := range b.htmlEvidence {
		size := ""
		if o["size"] != nil {
			size = str(o["size"])
		}
		v.Evidence = append(v.Evidence, htmlEvidence{Path: localPath(str(o["path"]), str(o["member"])), SHA256: str(o["sha256"]),
			Kind: str(o["kind"]), S3Key: str(o["s3_key"]), Status: str(o["status"]), Error: str(o["error"]), Size: size})
	}
	for _, o := range b.htmlDigests {
		r := "yes"
		if o["reproduced"] != true {
			r = "NO"
		}
		v.Digests = append(v.Digests, htmlDigest{Key: location(o, "s3_bucket", "s3_key"), Fingerprint: str(o["fingerprint"]),
			Source: str(o["signature_source"]), Reproduced: r})
	}
	for _, c := range b.coverage {
		a, e := c.span()
		hc := htmlCoverage{Chain: c.Account + " " + c.Region + " " + c.Trail, Span: span(fmtT(a), fmtT(e)),
			Verified: hours(c.seconds(StateVerified)), Invalid: hours(c.seconds(StateInvalid)),
			Missing: hours(c.seconds(StateMissing)), Gap: hours(c.seconds(StateGap))}
		for _, g := range c.Gaps {
			hc.Gaps = append(hc.Gaps, htmlGap{Span: span(fmtT(g.Start), fmtT(g.End)), Explanation: g.Summary})
		}
		v.Coverage = append(v.Coverage, hc)
	}
	fs := b.findings
	if len(fs) > htmlMaxFindings {
		v.FindingsMore = len(fs) - htmlMaxFindings
		fs = fs[:htmlMaxFindings]
	}
	for _, o := range fs {
		v.Findings = append(v.Findings, htmlFinding{Severity: str(o["severity"]), Type: str(o["type"]), Summary: str(o["summary"]),
			Chain: str(o["chain"]), Span: span(str(o["start_time"]), str(o["end_time"]))})
	}
	ek := make([]string, 0, len(b.evKinds))
	for k := range b.evKinds {
		ek = append(ek, k)
	}
	sort.Strings(ek)
	for _, k := range ek {
		v.EvidenceKind = append(v.EvidenceKind, htmlCount{Kind: k, Total: b.evKinds[k]})
	}
	cust := b.custody
	if len(cust) > htmlMaxCustody {
		cust = cust[len(cust)-htmlMaxCustody:]
	}
	v.CustodyFirst = len(b.custody) - len(cust)
	for _, e := range cust {
		v.Custody = append(v.Custody, htmlCustody{Seq: fmt.Sprint(e.Seq), Time: e.Time, Who: e.Operator + "@" + e.Host,
			Tool: e.Tool, Command: strings.Join(e.Args, " "), Hash: e.Hash})
	}
	if n := len(b.custody); n > 0 {
		v.CustodyHead = b.custody[n-1].Hash
	}
	return htmlTemplate.Execute(w, v)
}

// htmlProblems shortens a long list of custody problems (report.json has
// them all).
func htmlProblems(ps []string) []string {
	if len(ps) <= htmlMaxCustody {
		return ps
	}
	return append(ps[:htmlMaxCustody:htmlMaxCustody], fmt.Sprintf("... and %d more (see report.json)", len(ps)-htmlMaxCustody))
}
