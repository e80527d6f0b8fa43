package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallOptions is a small evidence set with a gap, a rotation and a
// backfill digest.
func smallOptions() fixtures.Options {
	return fixtures.Options{Seed: 7, Hours: 6, Regions: []string{"us-east-1", "eu-west-1"}, FilesPerHour: 2,
		EventsPerFile: 5, RotateKeyAt: 4, GapAfter: 1, GapHours: 1, Backfill: true}
}

// buildReport builds a report of c into a new folder and returns it.
func buildReport(t *testing.T, c *store.Case) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report")
	_, err := Build(context.Background(), c, testBuildOptions(out))
	require.NoError(t, err)
	return out
}

func signerPEM(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "signer.pub.pem")
	b, err := PublicKeyPEM(testKey().Public().(ed25519.PublicKey))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// tools runs the three third-party checks in dir and returns the error of
// each (nil = accepted).
func tools(t *testing.T, dir string, only ...string) map[string]error {
	t.Helper()
	run := func(stdin string, name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if stdin != "" {
			f, err := os.Open(filepath.Join(dir, stdin))
			if err != nil {
				return err
			}
			defer f.Close()
			cmd.Stdin = f
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", name, err, out)
		}
		return nil
	}
	all := map[string]func() error{
		"sha256sum": func() error { return run("", "sha256sum", "--strict", "-c", FileSums) },
		"openssl": func() error {
			return run("", "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", FileSignerPEM, "-rawin", "-in", FileSums, "-sigfile", FileSig)
		},
		"ssh-keygen": func() error {
			return run(FileSums, "ssh-keygen", "-Y", "verify", "-f", FileAllowedSigners, "-I", "analyst@lab.example",
				"-n", Namespace, "-s", FileSSHSig)
		},
	}
	if len(only) == 0 {
		only = []string{"sha256sum", "openssl", "ssh-keygen"}
	}
	out := map[string]error{}
	for _, name := range only {
		out[name] = all[name]()
	}
	return out
}

func failedChecks(r *VerifyResult) []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status != CheckPass {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestReportVerifiesWithRealTools(t *testing.T) {
	needTool(t, "sha256sum")
	needTool(t, "openssl")
	needTool(t, "ssh-keygen")
	c, _, _ := fixtureCase(t, smallOptions(), fixtures.LogHashMismatch, fixtures.DigestMissing)
	dir := buildReport(t, c)
	names := dirNames(t, dir)
	assert.Equal(t, []string{FileSums, FileSig, FileSSHSig, FileVerify, FileAllowedSigners, FileSignerSSH, FileSignerPEM, FileHTML, FileJSON, FilePDF},
		sortedLike(names, []string{FileSums, FileSig, FileSSHSig, FileVerify, FileAllowedSigners, FileSignerSSH, FileSignerPEM, FileHTML, FileJSON, FilePDF}))
	for tool, err := range tools(t, dir) {
		assert.NoError(t, err, tool)
	}
	sig, err := os.ReadFile(filepath.Join(dir, FileSig))
	require.NoError(t, err)
	assert.Len(t, sig, 64)

	res, err := Verify(context.Background(), dir, VerifyOptions{Signer: signerPEM(t)})
	require.NoError(t, err)
	assert.True(t, res.OK, "failed checks: %v", failedChecks(res))
	assert.True(t, res.Pinned)
	assert.Empty(t, res.Warnings)
	assert.Equal(t, "analyst@lab.example", res.Signer)

	res, err = Verify(context.Background(), dir, VerifyOptions{})
	require.NoError(t, err)
	assert.True(t, res.OK)
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "not pinned")

	// Another signer's key: both signature checks fail.
	other := filepath.Join(t.TempDir(), "other")
	require.NoError(t, GenerateKey(other, "x@y"))
	res, err = Verify(context.Background(), dir, VerifyOptions{Signer: other + SuffixPublicPEM})
	require.NoError(t, err)
	assert.False(t, res.OK)
	assert.Equal(t, []string{"signature " + FileSig, "signature " + FileSSHSig, "report.json signer"}, failedChecks(res))
}

func dirNames(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func sortedLike(got, want []string) []string {
	g := append([]string{}, got...)
	sort.Strings(g)
	w := append([]string{}, want...)
	sort.Strings(w)
	if strings.Join(g, ",") == strings.Join(w, ",") {
		return want
	}
	return got
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	require.NoError(t, os.MkdirAll(dst, 0o755))
	for _, n := range dirNames(t, src) {
		b, err := os.ReadFile(filepath.Join(src, n))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, n), b, 0o644))
	}
	return dst
}

// TestFlipOneByte flips one byte of every file of the folder in turn: the
// third-party check covering that file fails, and so does Verify.
func TestFlipOneByte(t *testing.T) {
	needTool(t, "sha256sum")
	needTool(t, "openssl")
	needTool(t, "ssh-keygen")
	c, _, _ := fixtureCase(t, smallOptions())
	dir := buildReport(t, c)
	pin := signerPEM(t)
	sshsig, err := os.ReadFile(filepath.Join(dir, FileSSHSig))
	require.NoError(t, err)
	for _, name := range dirNames(t, dir) {
		where := []int{0, -1, -2} // first, middle, last
		if name == FileSSHSig {
			where = nil
			for i := range sshsig {
				// Every byte; under -short every 7th and the line breaks.
				if !testing.Short() || i%7 == 0 || sshsig[i] == '\n' {
					where = append(where, i)
				}
			}
		}
		for _, at := range where {
			t.Run(fmt.Sprintf("%s/%d", name, at), func(t *testing.T) {
				d := copyDir(t, dir)
				p := filepath.Join(d, name)
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				i := at
				switch at {
				case -1:
					i = len(b) / 2
				case -2:
					i = len(b) - 1
				}
				orig := b[i]
				b[i] ^= 0x01
				require.NoError(t, os.WriteFile(p, b, 0o644))
				var errs map[string]error
				switch name {
				case FileSig:
					errs = tools(t, d, "openssl")
				case FileSSHSig:
					errs = tools(t, d, "ssh-keygen")
				case FileSums:
					errs = tools(t, d, "openssl", "ssh-keygen")
				default:
					errs = tools(t, d, "sha256sum")
				}
				switch name {
				case FileSig:
					assert.Error(t, errs["openssl"], "openssl accepted a changed signature")
				case FileSSHSig:
					// ssh-keygen skips white space in the armor: a line
					// break turned into a vertical tab changes nothing it
					// reads (Verify still fails, below).
					if orig != '\n' {
						assert.Error(t, errs["ssh-keygen"], "ssh-keygen accepted a changed signature")
					}
				case FileSums:
					assert.Error(t, errs["openssl"], "openssl accepted a changed SHA256SUMS")
					assert.Error(t, errs["ssh-keygen"], "ssh-keygen accepted a changed SHA256SUMS")
				default:
					assert.Error(t, errs["sha256sum"], "sha256sum accepted a changed %s", name)
				}
				res, err := Verify(context.Background(), d, VerifyOptions{Signer: pin})
				require.NoError(t, err)
				assert.False(t, res.OK, "Verify accepted a changed %s", name)
			})
		}
	}
	// An extra file is not covered by SHA256SUMS.
	d := copyDir(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(d, "notes.txt"), []byte("x"), 0o644))
	res, err := Verify(context.Background(), d, VerifyOptions{Signer: pin})
	require.NoError(t, err)
	assert.Equal(t, []string{"sha256sums complete"}, failedChecks(res))
	// A removed file.
	d = copyDir(t, dir)
	require.NoError(t, os.Remove(filepath.Join(d, FileHTML)))
	res, err = Verify(context.Background(), d, VerifyOptions{Signer: pin})
	require.NoError(t, err)
	assert.Equal(t, []string{"sha256 " + FileHTML}, failedChecks(res))
}

// TestBuildDeterministic: the same case, key and signing time give
// byte-identical folders.
func TestBuildDeterministic(t *testing.T) {
	c, _, _ := fixtureCase(t, smallOptions(), fixtures.LogUnreferenced)
	a, b := buildReport(t, c), buildReport(t, c)
	for _, n := range dirNames(t, a) {
		x, err := os.ReadFile(filepath.Join(a, n))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, n))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(x, y), "%s differs between two builds", n)
	}
}

func TestBuildRefusesExistingFolder(t *testing.T) {
	c, _, _ := fixtureCase(t, fixtures.Options{Seed: 1, Hours: 2})
	out := filepath.Join(t.TempDir(), "r")
	require.NoError(t, os.MkdirAll(out, 0o755))
	_, err := Build(context.Background(), c, testBuildOptions(out)) // empty: fine
	require.NoError(t, err)
	_, err = Build(context.Background(), c, testBuildOptions(out))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not empty")
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err = Build(context.Background(), c, testBuildOptions(f))
	require.Error(t, err)
	// Nothing is left behind.
	ents, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "temporary folders left behind")
}

// TestHTMLEscapesEvidence puts markup and script into every place evidence
// reaches the page: file names, reasons, finding summaries (which quote
// event fields) and S3 keys.
func TestHTMLEscapesEvidence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	_, err := fixtures.Generate(ev, fixtures.Options{Seed: 3, Hours: 2})
	require.NoError(t, err)
	evil := `x<img src=x onerror=alert(1)>"'.json`
	require.NoError(t, os.WriteFile(filepath.Join(ev, evil), []byte(`{"a":"</script><script>alert(2)</script>"}`), 0o644))
	c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
	require.NoError(t, err)
	defer c.Close()
	ingestAndVerify(t, c, ev)
	_, err = caseDB(t, c).Exec(`INSERT INTO findings(type, summary, detail, severity) VALUES ('gap', ?, ?, 'warning')`,
		`StopLogging by arn:aws:iam::1:user/<script>alert(3)</script>`, `{"events":[{"principal":"<script>alert(4)</script>"}]}`)
	require.NoError(t, err)
	_, err = caseDB(t, c).Exec(`INSERT INTO item_status(kind, s3_bucket, s3_key, status, detail) VALUES ('log', 'b', ?, 'missing', ?)`,
		`AWSLogs/<svg onload=alert(5)>`, `{"reason":"<iframe src=javascript:alert(6)>"}`)
	require.NoError(t, err)
	// The file's name reaches the page through the status table (the
	// inventory only counts).
	_, err = caseDB(t, c).Exec(`INSERT INTO item_status(kind, evidence_id, status, detail) SELECT 'log', id, 'unreferenced', '{}'
		FROM evidence WHERE path LIKE '%onerror%'`)
	require.NoError(t, err)
	out := buildReport(t, c)
	page, err := os.ReadFile(filepath.Join(out, FileHTML))
	require.NoError(t, err)
	html := string(page)
	for _, bad := range []string{"<script", "<img", "<iframe", "<svg onload", "http:", "https:", "src=\"", "href="} {
		assert.False(t, strings.Contains(html, bad), "report.html contains %q", bad)
	}
	for _, good := range []string{"&lt;script&gt;alert(3)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&lt;iframe src=javascript:alert(6)&gt;", "AWSLogs/&lt;svg onload=alert(5)&gt;"} {
		assert.True(t, strings.Contains(html, good), "report.html lacks %q", good)
	}
	js, err := os.ReadFile(filepath.Join(out, FileJSON))
	require.NoError(t, err)
	assert.Contains(t, string(js), `<script>alert(3)</script>`, "report.json keeps values as they are")
}

func ingestAndVerify(t *testing.T, c *store.Case, ev string) {
	t.Helper()
	require.NoError(t, verifyCaseIngest(context.Background(), c, ev))
}

func readReport(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileJSON))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// resign rewrites SHA256SUMS and both signatures after a test changed a
// file, as a forger holding the key would.
func resign(t *testing.T, dir string) {
	t.Helper()
	var sums bytes.Buffer
	for _, n := range dirNames(t, dir) {
		if n == FileSums || n == FileSig || n == FileSSHSig {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		h := sha256.Sum256(b)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), n)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileSums), sums.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileSig), ed25519.Sign(testKey(), sums.Bytes()), 0o644))
	s, err := SignSSH(testKey(), Namespace, bytes.NewReader(sums.Bytes()))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileSSHSig), s, 0o644))
}

func addCustody(t *testing.T, c *store.Case, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := c.AppendCustody(context.Background(), store.CustodyEntry{Time: fmt.Sprintf("2024-03-10T1%d:00:00Z", i),
			Operator: "analyst", Host: "lab-host", Tool: "forensic test", Command: "note", Args: []string{"note", fmt.Sprint(i)},
			Inputs: json.RawMessage(`{"sources":[{"path":"/e","sha256":"ab"}]}`), Outputs: json.RawMessage(`{"items":3}`)})
		require.NoError(t, err)
	}
}

// TestCustodyInReport: the report carries the custody log and its head;
// an entry altered, removed or reordered inside report.json (even with
// the folder re-signed) fails Verify; a broken log in the case is
// reported.
func TestCustodyInReport(t *testing.T) {
	c, _, _ := fixtureCase(t, fixtures.Options{Seed: 1, Hours: 2})
	addCustody(t, c, 3)
	entries, err := c.Custody(context.Background())
	require.NoError(t, err)
	dir := buildReport(t, c)
	m := readReport(t, dir)
	cust := m["custody"].(map[string]any)
	assert.Equal(t, entries[len(entries)-1].Hash, cust["head_hash"])
	assert.Equal(t, true, cust["intact"])
	assert.Len(t, cust["entries"], len(entries))
	pin := signerPEM(t)
	res, err := Verify(context.Background(), dir, VerifyOptions{Signer: pin})
	require.NoError(t, err)
	require.True(t, res.OK, "%v", failedChecks(res))

	edit := func(name string, fn func(es []any) []any) {
		t.Run(name, func(t *testing.T) {
			d := copyDir(t, dir)
			m := readReport(t, d)
			cust := m["custody"].(map[string]any)
			cust["entries"] = fn(cust["entries"].([]any))
			raw, err := json.Marshal(m)
			require.NoError(t, err)
			canon, err := Canonical(raw)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(d, FileJSON), append(canon, '\n'), 0o644))
			resign(t, d)
			res, err := Verify(context.Background(), d, VerifyOptions{Signer: pin})
			require.NoError(t, err)
			assert.False(t, res.OK)
			assert.Contains(t, failedChecks(res), "custody chain")
		})
	}
	edit("altered", func(es []any) []any { es[1].(map[string]any)["operator"] = "mallory"; return es })
	edit("removed", func(es []any) []any { return append(es[:1], es[2:]...) })
	edit("reordered", func(es []any) []any { es[0], es[1] = es[1], es[0]; return es })

	// Broken in the case itself.
	_, err = caseDB(t, c).Exec("UPDATE custody SET operator = 'mallory' WHERE seq = 2")
	require.NoError(t, err)
	dir = buildReport(t, c)
	m = readReport(t, dir)
	cust = m["custody"].(map[string]any)
	assert.Equal(t, false, cust["intact"])
	assert.Len(t, cust["problems"], 1)
	assert.Contains(t, m["verification"].(map[string]any)["verdict"], "custody log is broken")
	res, err = Verify(context.Background(), dir, VerifyOptions{Signer: pin})
	require.NoError(t, err)
	assert.Equal(t, []string{"custody chain"}, failedChecks(res))
}

func TestVerifyEvidence(t *testing.T) {
	c, ev, _ := fixtureCase(t, smallOptions())
	dir := buildReport(t, c)
	ctx := context.Background()
	res, err := Verify(ctx, dir, VerifyOptions{Evidence: []string{ev}})
	require.NoError(t, err)
	assert.True(t, res.OK, "%v %v", failedChecks(res), res.EvidenceCounts)
	var n int
	require.NoError(t, caseDB(t, c).QueryRow("SELECT count(*) FROM evidence").Scan(&n))
	assert.Equal(t, map[string]int{EvidenceUnchanged: n}, res.EvidenceCounts)

	// Change one log file, remove another, add a file.
	var logs []string
	require.NoError(t, filepath.Walk(ev, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(p, "/CloudTrail/") && strings.HasSuffix(p, ".json.gz") {
			logs = append(logs, p)
		}
		return err
	}))
	sort.Strings(logs)
	require.GreaterOrEqual(t, len(logs), 2)
	b, err := os.ReadFile(logs[0])
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(logs[0], b, 0o644))
	require.NoError(t, os.Remove(logs[1]))
	require.NoError(t, os.WriteFile(filepath.Join(ev, "added.txt"), []byte("new"), 0o644))
	res, err = Verify(ctx, dir, VerifyOptions{Evidence: []string{ev}})
	require.NoError(t, err)
	assert.False(t, res.OK)
	rel := func(p string) string { r, _ := filepath.Rel(ev, p); return r }
	byStatus := map[string][]string{}
	for _, e := range res.Evidence {
		if e.Status != EvidenceUnchanged {
			byStatus[e.Status] = append(byStatus[e.Status], e.Path)
		}
	}
	// The source folder's own manifest hash changes too.
	assert.Equal(t, map[string][]string{
		EvidenceChanged: {"", rel(logs[0])},
		EvidenceMissing: {rel(logs[1])},
		EvidenceAdded:   {"added.txt"},
	}, byStatus)
	assert.Equal(t, n-3+0, res.EvidenceCounts[EvidenceUnchanged])
}
