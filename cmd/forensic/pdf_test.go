package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// poppler returns the path of a poppler-utils program; without it the
// test is skipped, unless FORENSIC_REQUIRE_POPPLER is set (.ci/run sets it
// and installs poppler-utils), when it fails.
func poppler(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FORENSIC_REQUIRE_POPPLER") != "" {
			t.Fatalf("%s is required (FORENSIC_REQUIRE_POPPLER) but not installed: apt-get install poppler-utils", name)
		}
		t.Skipf("%s not installed (poppler-utils)", name)
	}
	return p
}

// TestReportPDF: report.pdf is read by poppler: its text has the verdict,
// what the evidence proves and what went wrong; the demo-sized set fits
// in 10 pages; every word lies inside the page; A4 by default and Letter
// with --paper letter; page 1 renders; SHA256SUMS lists it and the report
// verifies.
func TestReportPDF(t *testing.T) {
	pdftotext, pdfinfo, pdftoppm := poppler(t, "pdftotext"), poppler(t, "pdfinfo"), poppler(t, "pdftoppm")
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "ev"), fixtures.DemoOptions())
	require.NoError(t, err)
	for _, tp := range []fixtures.Tampering{fixtures.LogHashMismatch, fixtures.LogDeletedViaS3} {
		_, err := fixtures.Tamper(m, tp)
		require.NoError(t, err)
	}
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	db := filepath.Join(dir, "c.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code)
	forensic(t, "verify", "--case", db, "--public-keys", keys)
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)

	for _, paper := range []struct{ flag, size string }{{"", "595.28 x 841.89 pts (A4)"}, {"letter", "612 x 792 pts (letter)"}} {
		rep := filepath.Join(dir, "report-"+paper.flag)
		args := []string{"report", "--case", db, "--key", signer + ".key", "--out", rep}
		if paper.flag != "" {
			args = append(args, "--paper", paper.flag)
		}
		r := forensic(t, args...)
		require.Equal(t, 0, r.code, r.stderr)
		pdf := filepath.Join(rep, "report.pdf")
		info, err := exec.Command(pdfinfo, pdf).CombinedOutput()
		require.NoError(t, err, string(info))
		assert.Contains(t, string(info), paper.size)
		pages, err := strconv.Atoi(regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(string(info))[1])
		require.NoError(t, err)
		assert.LessOrEqual(t, pages, 10, "the demo-sized report fits in 10 pages")
		fonts, err := exec.Command(poppler(t, "pdffonts"), pdf).CombinedOutput()
		require.NoError(t, err, string(fonts))
		for _, l := range strings.Split(string(fonts), "\n")[2:] {
			if strings.TrimSpace(l) != "" {
				assert.Contains(t, l, " yes ", "every font embedded: %s", l)
			}
		}

		text, err := exec.Command(pdftotext, "-layout", pdf, "-").CombinedOutput()
		require.NoError(t, err, string(text))
		flat := strings.Join(strings.Fields(string(text)), " ")
		for _, want := range []string{"Evidence verification report", "NOT VERIFIED", "What the evidence proves",
			"CloudTrail events in the case are proven authentic", "What went wrong", "contractor-temp", "What could not be checked",
			"Coverage", "Method", "sha256sum -c SHA256SUMS", "1 log file was changed after it was delivered"} {
			assert.Contains(t, flat, want)
		}

		// Every word inside the page box.
		wordsInsidePage(t, pdftotext, pdf, "report.pdf "+paper.flag)

		png := filepath.Join(dir, "page-"+paper.flag)
		out, err := exec.Command(pdftoppm, "-r", "50", "-png", "-f", "1", "-l", "1", pdf, png).CombinedOutput()
		require.NoError(t, err, string(out))
		matches, _ := filepath.Glob(png + "*.png")
		require.Len(t, matches, 1, "page 1 rendered")
		if fi, err := os.Stat(matches[0]); assert.NoError(t, err) {
			assert.Greater(t, fi.Size(), int64(5000), "page 1 is not blank")
		}

		sums, err := os.ReadFile(filepath.Join(rep, "SHA256SUMS"))
		require.NoError(t, err)
		assert.Contains(t, string(sums), "  report.pdf\n")
		r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem")
		assert.Equal(t, 0, r.code, r.stdout)
	}
	r := forensic(t, "report", "--case", db, "--key", signer+".key", "--out", filepath.Join(dir, "x"), "--paper", "a5")
	assert.Equal(t, 2, r.code)
}

// chromium returns the path of a Chromium binary; without it the test is
// skipped, unless FORENSIC_REQUIRE_CHROMIUM is set (.ci/run sets it and
// installs chromium), when it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FORENSIC_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium is required (FORENSIC_REQUIRE_CHROMIUM) but not installed: apt-get install chromium")
	}
	t.Skip("chromium not installed")
	return ""
}

// TestReportHTMLPrinted prints the demo's report.html with Chromium on A4
// and on Letter, as a legal team would: it fits in 10 pages, every word
// lies inside the page, and the first page and the findings are there.
func TestReportHTMLPrinted(t *testing.T) {
	browser := chromium(t)
	pdftotext, pdfinfo := poppler(t, "pdftotext"), poppler(t, "pdfinfo")
	dir := t.TempDir()
	m, err := fixtures.Demo(filepath.Join(dir, "ev"))
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	db := filepath.Join(dir, "c.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code)
	forensic(t, "verify", "--case", db, "--public-keys", keys)
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(dir, "report")
	r := forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)
	page, err := os.ReadFile(filepath.Join(rep, "report.html"))
	require.NoError(t, err)

	for _, paper := range []struct{ css, size string }{{"A4", "(A4)"}, {"letter", "(letter)"}} {
		// A copy with the paper size set, as the print dialog would.
		html := filepath.Join(dir, "print-"+paper.css+".html")
		require.NoError(t, os.WriteFile(html, []byte(strings.Replace(string(page), "<style>",
			"<style>@page { size: "+paper.css+"; }\n", 1)), 0o644))
		pdf := filepath.Join(dir, "print-"+paper.css+".pdf")
		out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
			"--user-data-dir="+filepath.Join(dir, "chromium"), "--print-to-pdf="+pdf, "file://"+html).CombinedOutput()
		require.NoError(t, err, string(out))
		info, err := exec.Command(pdfinfo, pdf).CombinedOutput()
		require.NoError(t, err, string(info))
		assert.Contains(t, string(info), paper.size)
		pages, err := strconv.Atoi(regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(string(info))[1])
		require.NoError(t, err)
		t.Logf("report.html printed on %s: %d pages", paper.css, pages)
		assert.LessOrEqual(t, pages, 10, "the demo's printed report.html fits in 10 pages (%s)", paper.css)

		text, err := exec.Command(pdftotext, "-layout", "-f", "1", "-l", "1", pdf, "-").CombinedOutput()
		require.NoError(t, err, string(text))
		first := strings.Join(strings.Fields(string(text)), " ")
		for _, want := range []string{"NOT VERIFIED", "What the evidence proves", "CloudTrail events in the case are proven authentic",
			"What went wrong", "contractor-temp"} {
			assert.Contains(t, first, want, "page 1 (%s)", paper.css)
		}
		bbox := wordsInsidePage(t, pdftotext, pdf, "printed report.html "+paper.css)
		all := strings.Join(strings.Fields(string(bbox)), " ")
		for _, want := range []string{"Findings", "Items", "not", "valid", "hash_mismatch", "Evidence", "inventory", "Chain", "custody"} {
			assert.Contains(t, all, ">"+want+"<", "printed (%s)", paper.css)
		}
	}
}

// wordsInsidePage asserts that every word pdftotext finds in pdf lies
// inside its page box, and returns the -bbox output.
func wordsInsidePage(t *testing.T, pdftotext, pdf, what string) string {
	t.Helper()
	bbox, err := exec.Command(pdftotext, "-bbox", pdf, "-").CombinedOutput()
	require.NoError(t, err)
	page := regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`).FindStringSubmatch(string(bbox))
	require.NotNil(t, page)
	pw, _ := strconv.ParseFloat(page[1], 64)
	ph, _ := strconv.ParseFloat(page[2], 64)
	words := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`).FindAllStringSubmatch(string(bbox), -1)
	require.NotEmpty(t, words)
	for _, w := range words {
		x0, _ := strconv.ParseFloat(w[1], 64)
		y0, _ := strconv.ParseFloat(w[2], 64)
		x1, _ := strconv.ParseFloat(w[3], 64)
		y1, _ := strconv.ParseFloat(w[4], 64)
		assert.True(t, x0 >= 0 && y0 >= 0 && x1 <= pw+0.5 && y1 <= ph+0.5, "%s: word %q at %v,%v-%v,%v outside the %vx%v page", what, w[5], x0, y0, x1, y1, pw, ph)
	}
	return string(bbox)
}
