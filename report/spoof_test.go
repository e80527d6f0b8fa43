package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctl is how report.html marks one unsafe character.
func ctl(tok string) string { return `<span class="ctl">` + tok + `</span>` }

// TestHTMLSpoofedNames: an object key and path holding CR, ESC[2K,
// ESC[8m, U+202E, U+2066 and a division slash, and a principal in a
// finding, reach report.html with every such character as a marked
// token and each value isolated in <bdi>; ordinary values are unchanged;
// report.json keeps the exact values.
func TestHTMLSpoofedNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 3, Hours: 2, FilesPerHour: 2, EventsPerFile: 3, Objects: true})
	require.NoError(t, err)
	ti, err := fixtures.Tamper(m, fixtures.LogHashMismatch)
	require.NoError(t, err)
	objKey, objPath, err := fixtures.SpoofObject(m, fixtures.SpoofName)
	require.NoError(t, err)
	c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, verifyCaseIngest(ctx, c, ev))
	_, err = caseDB(t, c).Exec(`INSERT INTO findings(type, summary, detail, severity) VALUES ('gap', ?, '{}', 'warning')`,
		"StopLogging by "+fixtures.SpoofPrincipal)
	require.NoError(t, err)
	out := buildReport(t, c)
	page, err := os.ReadFile(filepath.Join(out, FileHTML))
	require.NoError(t, err)
	html := string(page)

	for _, raw := range []string{"\r", "\x1b", "\u202e", "\u2066", "\u2069", "\u2215"} {
		assert.NotContains(t, html, raw, "report.html carries %q raw", raw)
	}
	name := `x` + ctl("[U+000D]") + `  OBJECT valid` + ctl("[U+001B]") + `[2Kinvoice` + ctl("[U+202E]") + `gpj.exe` +
		ctl("[U+2066]") + `AWSLogs` + ctl("[U+2215]") + `fake` + ctl("[U+001B]") + `[8m.txt`
	assert.Contains(t, html, `<bdi>s3://`+fixtures.DefaultObjectBucket+`/hello/`+name+`</bdi>`, "the S3 location")
	assert.Contains(t, html, `<bdi>`+filepath.Dir(objPath)+`/`+name+`</bdi>`, "the local path")
	assert.Contains(t, html, `<bdi>Warning: StopLogging by arn:aws:iam::111122223333:user/`+ctl("[U+001B]")+`[2K`+ctl("[U+000D]")+`root`+
		ctl("[U+202E]")+`nimda`+ctl("[U+2069]")+ctl("[U+2215]")+`ok`+ctl("[U+001B]")+`[8m</bdi>`, "the principal in a finding")
	// Ordinary values are shown as they are, isolated.
	assert.Contains(t, html, `<bdi>s3://`+fixtures.DefaultTrailBucket+`/`+ti.LogKeys[0]+`</bdi>`)
	assert.Contains(t, html, `<bdi>hash_mismatch</bdi>`)

	// report.json is the exact record.
	rep := readReport(t, out)
	found := false
	for _, s := range rep["statuses"].([]any) {
		o := s.(map[string]any)
		if o["s3_key"] == objKey {
			found = true
			assert.Equal(t, "checksum_mismatch", o["status"])
			assert.Equal(t, objPath, o["evidence_path"])
		}
	}
	assert.True(t, found, "report.json has the exact key %q", objKey)
	assert.Contains(t, rep["findings"].([]any)[0].(map[string]any)["summary"], fixtures.SpoofPrincipal)
}

// TestHTMLPlainText: the page's <title> and the SVG chart take text only:
// unsafe characters become tokens without markup.
func TestHTMLPlainText(t *testing.T) {
	assert.Equal(t, "a[U+202E]b[0xFF]c", plainText("a\u202eb\xffc"))
	assert.Equal(t, "plain/key", plainText("plain/key"))
	assert.Equal(t, "", plainText(nil))
	assert.Equal(t, `<bdi>a&lt;b`+ctl("[U+2066]")+`</bdi>`, string(evHTML("a<b\u2066")))
	assert.Equal(t, `<bdi>42</bdi>`, string(evHTML(int64(42))))
	assert.False(t, strings.Contains(string(evHTML("\x00")), "\x00"))
}
