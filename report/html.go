package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/store"
)

// report.html is rendered with html/template, which escapes every value
// for its context: evidence fields (event records, principals, keys) are
// attacker-controlled. The page has no scripts and loads nothing.

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	"ev":    evHTML,
	"plain": plainText,
}).Parse(htmlSource))

// Chart geometry (SVG user units).
// The chart's geometry, in units of its viewBox. Printed, its width
// (chartPlot plus a margin) spans the page (about 190 mm), so a 12-unit
// font prints at about 9 pt. Each row's label stands above its bar, over
// the whole width, so that no label is cut or overlaps the bars.
const (
	chartPlot   = 700 // plot width; one unit per pixel column
	chartMargin = 10
	chartRow    = 38 // a label line and a bar
	chartBar    = 16
	chartAxis   = 34
	chartLegend = 28
	chartFont   = 12
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
	X      int
	Label  string
	Anchor string // text-anchor: middle, or end for a label that would pass the right edge
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
	// Seconds, not time.Duration: a span of evidence times can pass the
	// 292 years a Duration holds.
	span := seconds(t0, t1)
	col := func(t time.Time) int {
		return int(seconds(t0, t) / span * chartPlot)
	}
	ch := &chart{PlotX: 0, PlotW: chartPlot, Width: chartPlot + chartMargin, Start: fmtT(t0), End: fmtT(t1)}
	for r, c := range cov {
		y := chartLegend + r*chartRow
		trail := c.Trail
		if trail == "" {
			trail = "(unknown trail)"
		}
		label := plainText(c.Account + " " + c.Region + " " + trail)
		if r := []rune(label); len(r) > 100 {
			label = string(r[:99]) + "…"
		}
		ch.Rows = append(ch.Rows, chartRowLabel{Y: y + chartFont + 2, Label: label})
		cols := make([]string, chartPlot)
		for _, s := range c.Segments {
			a, b := max(col(s.Start), 0), col(s.End)
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
				from := addSeconds(t0, span*float64(x)/chartPlot)
				to := addSeconds(t0, span*float64(e)/chartPlot)
				ch.Rects = append(ch.Rects, chartRect{X: x, Y: y + chartFont + 6, W: e - x, H: chartBar, State: st, Fill: stateFill[st],
					Title: plainText(fmt.Sprintf("%s %s %s: %s, about %s to %s", c.Account, c.Region, trail, stateLabel[st],
						from.Round(time.Minute).Format("2006-01-02 15:04"), to.Round(time.Minute).Format("2006-01-02 15:04")))})
			}
			x = e
		}
	}
	ch.AxisY = chartLegend + len(cov)*chartRow
	for _, t := range ticks(t0, t1) {
		layout := "2006-01-02 15:04"
		if t.step >= 24*time.Hour || t.step == 0 {
			layout = "2006-01-02"
		}
		tk := chartTick{X: col(t.at), Label: t.at.UTC().Format(layout), Anchor: "middle"}
		if half := len(tk.Label) * chartFont * 3 / 10; tk.X+half > ch.Width {
			tk.Anchor = "end"
			tk.X = ch.Width - 1
		} else if tk.X-half < 0 {
			tk.Anchor = "start"
		}
		if n := len(ch.Ticks); n > 0 && tk.X-ch.Ticks[n-1].X < len(tk.Label)*chartFont*6/10 {
			continue // it would overlap the label before it
		}
		ch.Ticks = append(ch.Ticks, tk)
	}
	ch.Height = ch.AxisY + chartAxis
	x := 0
	for _, st := range coverageStates {
		ch.Legend = append(ch.Legend, chartLegendItem{X: x, State: st, Fill: stateFill[st], Label: stateLabel[st]})
		x += 22 + len(stateLabel[st])*chartFont*6/10 + 14
	}
	ch.LegendY = 6
	return ch
}

// chartMaxTicks bounds the time axis whatever the span.
const chartMaxTicks = 7

type tick struct {
	at   time.Time
	step time.Duration // 0 for whole years
}

// ticks returns at most chartMaxTicks round times in [t0, t1]: a step
// from tickStep, or for spans over 6 × 364 days whole years in steps of
// 1, 2 or 5 × 10^k years (first January of a multiple of the step).
func ticks(t0, t1 time.Time) []tick {
	var out []tick
	if step := tickStep(t1.Sub(t0)); step > 0 {
		first := t0.Truncate(step)
		if first.Before(t0) {
			first = first.Add(step)
		}
		for t := first; !t.After(t1) && len(out) < chartMaxTicks; t = t.Add(step) {
			out = append(out, tick{at: t, step: step})
		}
		return out
	}
	years := (t1.Year() - t0.Year() + 5) / 6
	step := 1
	for f := 0; step < years; f++ {
		step = []int{1, 2, 5}[f%3] * pow10(f/3)
	}
	y := t0.Year() / step * step // rounded toward zero
	t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	for t.Before(t0) {
		t = t.AddDate(step, 0, 0)
	}
	for ; !t.After(t1) && len(out) < chartMaxTicks; t = t.AddDate(step, 0, 0) {
		out = append(out, tick{at: t})
	}
	return out
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// tickStep picks a round interval giving at most 6 ticks, or 0 when the
// span is longer than 6 × 364 days (ticks then steps in whole years).
func tickStep(span time.Duration) time.Duration {
	h := time.Hour
	d := 24 * h
	for _, s := range []time.Duration{h, 2 * h, 3 * h, 6 * h, 12 * h, d, 2 * d, 7 * d, 14 * d, 28 * d, 91 * d, 182 * d, 364 * d} {
		if span/s <= 6 {
			return s
		}
	}
	return 0
}

// seconds is b − a in seconds, for any two times.
func seconds(a, b time.Time) float64 {
	return float64(b.Unix()-a.Unix()) + float64(b.Nanosecond()-a.Nanosecond())/1e9
}

// addSeconds is t plus s seconds, for any s a span of times can hold.
func addSeconds(t time.Time, s float64) time.Time {
	whole := math.Floor(s)
	return time.Unix(t.Unix()+int64(whole), int64(t.Nanosecond())+int64((s-whole)*1e9)).UTC()
}

type htmlFinding struct{ Severity, Type, Summary, Chain, Span string }

type htmlStatus struct{ Kind, Location, Status, Path, Reason string }

// Groups of the lists report.html cuts (htmlpick.go): A and B are the
// group's labels (kind and status; severity and type; status and kind),
// More how many of its Total rows are in report.json only.
type htmlFindingGroup struct {
	A, B        string
	Total, More int64
	Rows        []htmlFinding
}

type htmlStatusGroup struct {
	A, B        string
	Total, More int64
	Rows        []htmlStatus
}

// cutSummary names the groups a list was cut in: "598 log unreferenced,
// 2 object metadata_missing".
func cutSummary[T any](gs []*pickGroup[T]) string {
	var parts []string
	for _, g := range gs {
		if m := g.More(); m > 0 {
			parts = append(parts, fmt.Sprintf("%d %s %s", m, g.key.a, g.key.b))
		}
	}
	return strings.Join(parts, ", ")
}

// htmlInventory is one row of report.html's inventory: how many items of
// a kind have a status (report.json lists each item).
type htmlInventory struct {
	Kind, Status, Note string
	Items              int64
}

type htmlDigest struct{ Key, Fingerprint, Source, Reproduced string }

type htmlCustody struct{ Seq, Time, Who, Tool, Command, Hash string }

type htmlGap struct{ Span string } // its explanation is a finding

type htmlAnchorFile struct{ Path, SHA256, Keys string }

type htmlAnchorKey struct{ Fingerprint, Region, ValidityStart, ValidityEnd, Bits string }

type htmlCoverage struct {
	Chain, Span                     string
	Verified, Invalid, Missing, Gap string
	Gaps                            []htmlGap
}

// location is an S3 location: s3://bucket/key, or the key alone when the
// bucket is not known.
func location(b, k string) string {
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
	Summary      *htmlSummary
	Sources      []string
	Detections   *htmlDetections
	Lake         *htmlLake
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
	Findings     []htmlFindingGroup
	FindingsMore int64
	FindingsCut  string
	Statuses     []htmlStatusGroup
	StatusesMore int64
	StatusesCut  string
	EvidenceN    int64
	Inventory    []htmlInventory
	FindingsLead int // findings stated on the first page, not repeated under Findings
	AnchorFiles  []htmlAnchorFile
	AnchorKeys   []htmlAnchorKey
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
		EvidenceN: b.evTotal, DigestsN: b.nDigests, Unproven: b.nUnproven, CustodyOK: len(b.problems)+len(b.edits) == 0,
		CustodyProb: htmlProblems(append(append([]string{}, b.problems...), b.edits...)), CustodyN: len(b.custody), Limitations: b.limits,
		Commands: method(b.opt.Identity).ReportSignature}
	for _, f := range b.anchors.files {
		v.AnchorFiles = append(v.AnchorFiles, htmlAnchorFile{Path: f.Path, SHA256: f.SHA256, Keys: fmt.Sprint(f.Keys)})
	}
	for _, k := range b.anchors.trustAnchorKeys() {
		v.AnchorKeys = append(v.AnchorKeys, htmlAnchorKey{Fingerprint: k.Fingerprint, Region: deref(k.Region),
			ValidityStart: deref(k.ValidityStart), ValidityEnd: deref(k.ValidityEnd), Bits: fmt.Sprint(k.Bits)})
	}
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
	sgs, more := b.htmlStatuses.list()
	v.StatusesMore, v.StatusesCut = more, cutSummary(sgs)
	for _, g := range sgs {
		hg := htmlStatusGroup{A: g.key.a, B: g.key.b, Total: g.total, More: g.More()}
		for _, o := range g.rows {
			hg.Rows = append(hg.Rows, htmlStatus{Kind: o.Kind, Location: location(deref(o.S3Bucket), deref(o.S3Key)),
				Status: o.Status, Path: localPath(deref(o.EvidencePath), deref(o.EvidenceMember)),
				Reason: itemDetail(o.Kind, o.Detail).Shared().Reason})
		}
		v.Statuses = append(v.Statuses, hg)
	}
	v.Inventory = htmlInventoryOf(b.inventory)
	for _, o := range b.htmlDigests {
		r := "yes"
		if !o.Reproduced {
			r = "NO"
		}
		v.Digests = append(v.Digests, htmlDigest{Key: location(o.S3Bucket, o.S3Key), Fingerprint: o.Fingerprint,
			Source: deref(o.SignatureSource), Reproduced: r})
	}
	for _, c := range b.coverage {
		a, e := c.span()
		hc := htmlCoverage{Chain: c.Account + " " + c.Region + " " + c.Trail, Span: span(fmtT(a), fmtT(e)),
			Verified: hours(c.seconds(StateVerified)), Invalid: hours(c.seconds(StateInvalid)),
			Missing: hours(c.seconds(StateMissing)), Gap: hours(c.seconds(StateGap))}
		for _, g := range c.Gaps {
			hc.Gaps = append(hc.Gaps, htmlGap{Span: span(fmtT(g.Start), fmtT(g.End))})
		}
		v.Coverage = append(v.Coverage, hc)
	}
	rest, lead := b.findingsAfterSummary()
	v.FindingsLead = lead
	fgs, more := pickFindings(rest)
	v.Detections = htmlDetectionsOf(b.detect)
	v.Lake = htmlLakeOf(b.lake)
	v.Summary = htmlSummaryOf(b.summary)
	v.Sources = b.sources
	v.FindingsMore, v.FindingsCut = more, cutSummary(fgs)
	for _, g := range fgs {
		hg := htmlFindingGroup{A: g.key.a, B: g.key.b, Total: g.total, More: g.More()}
		for _, o := range g.rows {
			hg.Rows = append(hg.Rows, htmlFinding{Severity: o.Severity, Type: o.Type, Summary: o.Summary,
				Chain: deref(o.Chain), Span: span(deref(o.StartTime), deref(o.EndTime))})
		}
		v.Findings = append(v.Findings, hg)
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

// htmlDetections is the detections section of report.html.
type htmlDetections struct {
	Seq     int64
	RanAt   string
	Current bool
	Rules   []htmlDetectionRule
	Hits    int64
	Unsure  int64 // hits on events not proven authentic
}

type htmlDetectionRule struct {
	Level, Title, ID, Source, Author string
	Hits                             DetectionHits
	Events                           []htmlDetectionEvent
	More                             int64
}

type htmlDetectionEvent struct {
	Time, Name, Principal, IP, Mark string
	Proven                          bool
}

// htmlShownHits is how many hits of each rule report.html lists.
const htmlShownHits = 10

func htmlDetectionsOf(d *DetectionsSection) *htmlDetections {
	if d == nil {
		return nil
	}
	h := &htmlDetections{Seq: d.CustodySeq, RanAt: d.RanAt, Current: d.Current}
	for _, r := range d.Rules {
		hr := htmlDetectionRule{Level: r.Level, Title: r.Title, ID: r.RuleID, Source: r.Source, Author: r.Author, Hits: r.Hits}
		h.Hits += r.Hits.Total
		h.Unsure += r.Hits.NotVerified + r.Hits.LogNotValid
		for i, e := range r.Events {
			if i == htmlShownHits {
				break
			}
			mark := "verified"
			switch e.Verification {
			case store.DetectNotVerified:
				mark = "NOT VERIFIED"
			case store.DetectLogNotValid:
				mark = "LOG NOT VALID (" + e.LogStatus + ")"
			}
			hr.Events = append(hr.Events, htmlDetectionEvent{Time: e.EventTime, Name: e.EventName, Principal: e.Principal,
				IP: e.SourceIP, Mark: mark, Proven: e.Verification == store.DetectVerified})
		}
		hr.More = r.Hits.Total - int64(len(hr.Events))
		h.Rules = append(h.Rules, hr)
	}
	return h
}

// htmlSummary is the first page's summary of report.html.
type htmlSummary struct {
	Proves   string
	Areas    []htmlArea
	Problems []string
	NotValid []string
}

type htmlArea struct {
	Account, Region, First, Last string
	Events, Proven               int64
}

func htmlSummaryOf(s *SummarySection) *htmlSummary {
	if s == nil {
		return nil
	}
	h := &htmlSummary{Proves: s.Proves, Problems: s.Problems}
	for _, n := range s.NotValid {
		h.NotValid = append(h.NotValid, n.Plain)
	}
	for _, a := range s.Areas {
		h.Areas = append(h.Areas, htmlArea{Account: orDashS(a.Account), Region: orDashS(a.Region), Events: a.Events, Proven: a.Proven,
			First: orDashS(deref(a.FirstProven)), Last: orDashS(deref(a.LastProven))})
	}
	return h
}

func orDashS(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// inventoryNotes say what an item without a verification status of its
// own is, and how it counts.
var inventoryNotes = map[string]string{
	store.KindSource:         "a folder or archive given to ingest; its SHA-256 is under Scope",
	store.KindArchive:        "an archive inside a source; its members are items of their own",
	store.KindObjectMetadata: "saved S3 metadata; judged with the digest or object it describes",
	store.KindAccessLog:      "an S3 server access log, read for the correlation with CloudTrail; no digest or checksum covers access logs",
	store.KindPublicKeys:     "public keys found in the evidence; never trusted (only keys given with --public-keys are)",
	store.KindSymlink:        "a symbolic link, recorded and never followed",
	store.KindHardlink:       "a hard link in a tar archive, recorded and never followed",
	store.KindSpecial:        "a device, pipe or socket, recorded and never opened",
	store.KindUnknown:        "not recognised as evidence; hashed and kept",
}

// htmlInventoryOf orders the inventory's counts as the status table does
// (most serious first) and says what each group is.
func htmlInventoryOf(rows []store.InventoryCount) []htmlInventory {
	type entry struct {
		key groupKey
		n   int64
	}
	sums := map[groupKey]int64{}
	for _, r := range rows {
		sums[inventoryGroup(r.Kind, r.Status, r.HasError)] += r.Items
	}
	es := make([]entry, 0, len(sums))
	for k, n := range sums {
		es = append(es, entry{k, n})
	}
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i].key, es[j].key
		if a.rank != b.rank {
			return a.rank[0] < b.rank[0]
		}
		if a.b != b.b {
			return a.b < b.b
		}
		return a.a < b.a
	})
	out := make([]htmlInventory, 0, len(es))
	for _, e := range es {
		row := htmlInventory{Kind: e.key.b, Status: e.key.a, Items: e.n}
		switch e.key.a {
		case inventoryError:
			row.Note = "could not be read or parsed at ingest; report.json gives each error"
		case inventoryNone:
			row.Note = inventoryNotes[e.key.b]
		}
		out = append(out, row)
	}
	return out
}

// htmlLake is report.html's section on CloudTrail Lake query results.
type htmlLake struct {
	Queries      []htmlLakeQuery
	Unreferenced int64
	Results      string
}

type htmlLakeQuery struct {
	Folder, Status, Reason, Complete, Results string
	OK                                        bool
}

func htmlLakeOf(l *LakeSection) *htmlLake {
	if l == nil {
		return nil
	}
	h := &htmlLake{Unreferenced: l.Unreferenced, Results: byStatusText(l.Results)}
	for _, q := range l.Queries {
		h.Queries = append(h.Queries, htmlLakeQuery{Folder: q.Folder, Status: q.Status, Reason: deref(q.Reason),
			Complete: deref(q.QueryComplete), Results: byStatusText(q.ResultStatuses), OK: q.Status == "valid"})
	}
	return h
}

// byStatusText is counts by status in words, valid last: "hash_mismatch 1, valid 3".
func byStatusText(m map[string]int64) string {
	sts := make([]string, 0, len(m))
	for st := range m {
		sts = append(sts, st)
	}
	sort.Slice(sts, func(i, j int) bool { return statusRank(sts[i]) < statusRank(sts[j]) })
	parts := make([]string, len(sts))
	for i, st := range sts {
		parts[i] = fmt.Sprintf("%s %d", st, m[st])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
