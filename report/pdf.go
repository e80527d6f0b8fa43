package report

// report.pdf: the first page, the coverage chart, the findings, the
// detections and the method of report.html, for the legal team, written
// in pure Go (codeberg.org/go-pdf/fpdf) with the DejaVu fonts embedded
// (fonts/, with their licence). It is one more file of the folder:
// SHA256SUMS lists it and the signatures cover it.

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// FilePDF is the report's PDF.
const FilePDF = "report.pdf"

// Paper sizes of report.pdf.
const (
	PaperA4     = "a4"
	PaperLetter = "letter"
)

var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed fonts/DejaVuSansMono.ttf
	fontMono []byte
)

// maxPDFFindings is how many findings report.pdf lists (report.json has
// every one).
const maxPDFFindings = 60

// pdfWriter is a page being written: the document, its margins and width.
type pdfWriter struct {
	*fpdf.Fpdf
	w, left float64
}

func (p *pdfWriter) heading(s string) {
	p.Ln(3)
	p.SetFont("DejaVu", "B", 13)
	p.MultiCell(0, 6.5, s, "B", "L", false)
	p.Ln(1.5)
}

func (p *pdfWriter) text(size float64, s string) {
	p.SetFont("DejaVu", "", size)
	p.MultiCell(0, size*0.5, plainText(s), "", "L", false)
}

func (p *pdfWriter) mono(size float64, s string) {
	p.SetFont("DejaVuMono", "", size)
	p.MultiCell(0, size*0.48, plainText(s), "", "L", false)
}

// item is a numbered or bulleted paragraph, wrapped under its text.
func (p *pdfWriter) item(mark string, size float64, s string) {
	p.SetFont("DejaVu", "", size)
	x := p.GetX()
	p.CellFormat(7, size*0.5, mark, "", 0, "R", false, 0, "")
	p.SetLeftMargin(x + 8)
	p.MultiCell(0, size*0.5, plainText(s), "", "L", false)
	p.SetLeftMargin(p.left)
	p.SetX(p.left)
	p.Ln(0.8)
}

// row is one row of a table of the given column widths (mm), wrapped
// cells of equal height.
func (p *pdfWriter) row(widths []float64, cells []string, bold bool, size float64) {
	style := ""
	if bold {
		style = "B"
	}
	p.SetFont("DejaVu", style, size)
	lh := size * 0.45
	lines := 1
	for i, c := range cells {
		if n := len(p.SplitText(plainText(c), widths[i]-1.5)); n > lines {
			lines = n
		}
	}
	h := float64(lines)*lh + 1.2
	_, pageH := p.GetPageSize()
	_, _, _, bottom := p.GetMargins()
	if p.GetY()+h > pageH-bottom {
		p.AddPage()
	}
	x, y := p.GetX(), p.GetY()
	for i, c := range cells {
		p.Rect(x, y, widths[i], h, "D")
		p.SetXY(x+0.6, y+0.6)
		p.MultiCell(widths[i]-1.2, lh, plainText(c), "", "L", false)
		x += widths[i]
	}
	p.SetXY(p.left, y+h)
}

// writePDF writes report.pdf.
func (b *builder) writePDF(w io.Writer) error {
	size := "A4"
	if b.opt.Paper == PaperLetter {
		size = "Letter"
	}
	doc := fpdf.New("P", "mm", size, "")
	doc.SetCompression(true)
	doc.SetCatalogSort(true) // the same report, byte for byte (SHA256SUMS is signed)
	// Copies: fpdf writes into the font bytes it is given (the subset's
	// checksum adjustment), and the embedded ones are shared by every build.
	doc.AddUTF8FontFromBytes("DejaVu", "", append([]byte(nil), fontRegular...))
	doc.AddUTF8FontFromBytes("DejaVu", "B", append([]byte(nil), fontBold...))
	doc.AddUTF8FontFromBytes("DejaVuMono", "", append([]byte(nil), fontMono...))
	doc.SetCreationDate(b.opt.SignedAt)
	doc.SetModificationDate(b.opt.SignedAt)
	doc.SetTitle("Evidence verification report, case "+b.info["case_id"], true)
	doc.SetAuthor(b.opt.Identity, true)
	doc.SetCreator(b.opt.Tool.Name+" "+b.opt.Tool.Version, true)
	doc.SetMargins(15, 14, 15)
	doc.SetAutoPageBreak(true, 14)
	doc.AliasNbPages("{nb}")
	doc.SetFooterFunc(func() {
		doc.SetY(-10)
		doc.SetFont("DejaVu", "", 7.5)
		doc.CellFormat(0, 4, fmt.Sprintf("Case %s · signed %s by %s · page %d of {nb}", b.info["case_id"],
			b.opt.SignedAt.Format("2006-01-02 15:04 UTC"), plainText(b.opt.Identity), doc.PageNo()), "", 0, "C", false, 0, "")
	})
	pw, _ := doc.GetPageSize()
	p := &pdfWriter{Fpdf: doc, w: pw - 30, left: 15}
	p.AddPage()
	p.SetFont("DejaVu", "B", 17)
	p.MultiCell(0, 8, "Evidence verification report", "", "L", false)
	p.text(8.5, fmt.Sprintf("Case %s · signed %s by %s (%s). report.json in the same folder holds every value exactly; SHA256SUMS and its signatures cover this file.",
		b.info["case_id"], b.opt.SignedAt.Format("2006-01-02 15:04:05 UTC"), b.opt.Identity, Fingerprint(b.pub)))
	p.Ln(2)
	if b.verdictOK {
		p.SetFillColor(230, 244, 234)
	} else {
		p.SetFillColor(253, 236, 234)
	}
	p.SetFont("DejaVu", "B", 11)
	p.MultiCell(0, 5.6, plainText(b.verdict), "1", "L", true)
	if s := b.summary; s != nil {
		p.heading("What the evidence proves")
		p.text(10, s.Proves)
		if len(s.Areas) > 0 {
			p.Ln(1.5)
			widths := []float64{28, 24, 18, 24, (p.w - 94) / 2, (p.w - 94) / 2}
			p.row(widths, []string{"Account", "Region", "Events", "Proven authentic", "Proven from", "to"}, true, 8)
			for _, a := range s.Areas {
				p.row(widths, []string{orDashS(a.Account), orDashS(a.Region), fmt.Sprint(a.Events), fmt.Sprint(a.Proven),
					orDashS(deref(a.FirstProven)), orDashS(deref(a.LastProven))}, false, 8)
			}
		}
		p.heading("What went wrong")
		if len(s.Problems) == 0 {
			p.text(10, "No finding.")
		}
		for i, pr := range s.Problems {
			p.item(fmt.Sprintf("%d.", i+1), 9, pr)
		}
		if len(s.NotValid) > 0 {
			p.Ln(1)
			p.text(9.5, "Items that are not valid, most serious first:")
			for _, n := range s.NotValid {
				p.item("•", 9, n.Plain)
			}
		}
	}
	p.heading("What could not be checked, and other limits")
	for _, l := range b.limits {
		p.item("•", 9, l)
	}
	p.heading("Scope")
	for _, s := range b.sources {
		p.text(9, "Source: "+s)
	}
	p.text(9, fmt.Sprintf("Evidence: %d items, %d bytes; tool: %s %s (revision %s).", b.evTotal, b.evBytes, b.opt.Tool.Name,
		b.opt.Tool.Version, b.opt.Tool.Revision))

	p.chart(buildChart(b.coverage))

	// The findings the first page did not state, each fact once.
	if rest, lead := b.findingsAfterSummary(); len(rest) > 0 {
		p.heading("More findings")
		for i, f := range rest {
			if i == maxPDFFindings {
				p.text(9, fmt.Sprintf("%d more findings are listed in report.json (\"findings\").", len(rest)-maxPDFFindings))
				break
			}
			p.item(fmt.Sprintf("%d.", lead+i+1), 8.5, severityWord(f.Severity)+": "+f.Summary)
		}
	}
	if d := b.detect; d != nil && len(d.Rules) > 0 {
		p.heading("Detections")
		p.text(9, "Hits of the rules of forensic detect. verified: the event's log file is valid; not verified and log not valid: the event is not proven authentic and may be forged or altered.")
		p.Ln(1)
		widths := []float64{18, p.w - 18 - 4*20, 20, 20, 20, 20}
		p.row(widths, []string{"Level", "Rule", "Hits", "Verified", "Not verified", "Log not valid"}, true, 8)
		for _, r := range d.Rules {
			p.row(widths, []string{r.Level, r.Title, fmt.Sprint(r.Hits.Total), fmt.Sprint(r.Hits.Verified), fmt.Sprint(r.Hits.NotVerified),
				fmt.Sprint(r.Hits.LogNotValid)}, false, 8)
		}
	}
	if l := b.lake; l != nil {
		p.heading("CloudTrail Lake query results")
		p.text(9, "Each query's sign file is checked offline like awscli's verify-query-results (its signature over the listed hashes, with the supplied key of its fingerprint), and each result file against the hash listed; every problem is reported. Result files: "+byStatusText(l.Results)+".")
		p.Ln(1)
		widths := []float64{p.w - 40 - 45 - 35, 40, 35, 45}
		p.row(widths, []string{"Query folder", "Sign file", "Completed", "Result files"}, true, 8)
		for _, q := range l.Queries {
			p.row(widths, []string{q.Folder, q.Status, orDashS(deref(q.QueryComplete)), byStatusText(q.ResultStatuses)}, false, 8)
		}
	}
	p.heading("Method")
	p.text(9, "How to check this report with standard tools only, in its folder (VERIFY.txt gives each step):")
	for _, c := range method(b.opt.Identity).ReportSignature {
		p.mono(7.5, c)
	}
	p.Ln(1.5)
	p.text(9, fmt.Sprintf("Trust anchors: %d keys in %d files, listed with their DER in report.json (\"trust_anchors\").", len(b.anchors.keys), len(b.anchors.files)))
	state := "intact"
	if len(b.problems)+len(b.edits) > 0 {
		state = fmt.Sprintf("NOT intact (%d problems, listed in report.json \"custody\")", len(b.problems)+len(b.edits))
	}
	head := ""
	if n := len(b.custody); n > 0 {
		head = "; its head is " + b.custody[n-1].Hash
	}
	p.text(9, fmt.Sprintf("Chain of custody: %d commands touched the case; the hash chain is %s%s.", len(b.custody), state, head))
	if err := doc.Error(); err != nil {
		return fmt.Errorf("report.pdf: %w", err)
	}
	return doc.Output(w)
}

// chart draws the coverage chart (buildChart's drawing, scaled to the
// page width), its labels at 8 pt or more, and its legend.
func (p *pdfWriter) chart(c *chart) {
	p.heading("Coverage")
	if c == nil {
		p.text(10, "No CloudTrail digest in the case: nothing to draw.")
		return
	}
	p.text(8.5, fmt.Sprintf("Per account, region and trail, from %s to %s (UTC); each column shows the worst state of the time it spans.", c.Start, c.End))
	// buildChart's drawing scaled to the page width: each row's label
	// above its bar, at 8 pt.
	p.SetFont("DejaVu", "", 8)
	scale := p.w / float64(c.Width) // mm per unit of the drawing
	xOf := func(x int) float64 { return p.left + float64(x)*scale }
	_, pageH := p.GetPageSize()
	if p.GetY()+float64(c.AxisY)*scale+16 > pageH-20 {
		p.AddPage()
	}
	y0 := p.GetY() + 2
	fill := func(hex string) {
		var rr, gg, bb int
		fmt.Sscanf(strings.TrimPrefix(hex, "#"), "%02x%02x%02x", &rr, &gg, &bb)
		p.SetFillColor(rr, gg, bb)
	}
	for _, r := range c.Rects {
		fill(r.Fill)
		x := xOf(r.X)
		p.Rect(x, y0+float64(r.Y)*scale, xOf(r.X+r.W)-x, float64(r.H)*scale, "F")
	}
	for _, r := range c.Rows {
		p.Text(p.left, y0+float64(r.Y)*scale, plainText(r.Label))
	}
	axis := y0 + float64(c.AxisY)*scale
	p.SetDrawColor(17, 17, 17)
	p.Line(xOf(c.PlotX), axis, xOf(c.PlotX+c.PlotW), axis)
	right := 0.0 // where the last tick label ended: none overlaps it
	for _, t := range c.Ticks {
		w := p.GetStringWidth(t.Label)
		x := min(xOf(t.X)-w/2, p.left+p.w-w) // nothing cut off at the right edge
		if x < right+2 {
			continue
		}
		p.Line(xOf(t.X), axis, xOf(t.X), axis+1)
		p.Text(x, axis+4, t.Label)
		right = x + w
	}
	lx, ly := p.left, axis+9
	for _, l := range c.Legend {
		fill(l.Fill)
		p.Rect(lx, ly-2.8, 3.2, 3.2, "F")
		p.Text(lx+4.2, ly, l.Label)
		lx += 4.2 + p.GetStringWidth(l.Label) + 6
	}
	p.SetXY(p.left, ly+4)
}
