package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// readReportJSON reads what the checks below need from report.json.
func readReportJSON(t *testing.T, dir string) (limitations []string, verdict string, findings []map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var rep struct {
		Limitations  []string `json:"limitations"`
		Verification struct {
			Verdict string `json:"verdict"`
		} `json:"verification"`
		Findings []map[string]any `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	return rep.Limitations, rep.Verification.Verdict, rep.Findings
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

// A 1024-bit trust anchor is refused (exit 2, naming the file, the key and
// its size) unless --allow-weak-keys is given, for verify, analyze and
// report verify --rerun; with it, the output, the report and report
// verify say that a weak key was trusted.
func TestWeakKeysCommand(t *testing.T) {
	dir := t.TempDir()
	ev, keys := filepath.Join(dir, "evidence"), filepath.Join(dir, "keys")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 12, Hours: 2, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	fp, err := fixtures.SignWithKey(m, priv)
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, keys))
	keyFile := m.PublicKeyFiles[0]
	casePath := filepath.Join(dir, "case.db")
	r := forensicWithin(t, "ingest", "--case", casePath, ev)
	require.Equal(t, 0, r.code, r.stderr)
	r = forensicWithin(t, "keygen", "--out", filepath.Join(dir, "analyst"), "--identity", "ana@lab.example")
	require.Equal(t, 0, r.code, r.stderr)

	refused := func(t *testing.T, r result) {
		t.Helper()
		assert.Equal(t, 2, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		for _, w := range []string{keyFile, fp, "1024-bit RSA key", "under the 2048 bits", "hint:", "--allow-weak-keys"} {
			assert.Contains(t, r.stderr, w)
		}
	}
	refused(t, forensicWithin(t, "verify", "--case", casePath, "--public-keys", keys))
	out := filepath.Join(dir, "report")
	refused(t, forensicWithin(t, "analyze", ev, "--public-keys", keys, "--key", filepath.Join(dir, "analyst.key"), "--out", out,
		"--case", filepath.Join(dir, "analyze.db")))
	_, err = os.Stat(filepath.Join(dir, "analyze.db"))
	assert.True(t, os.IsNotExist(err), "analyze refuses the keys before it ingests anything")

	r = forensicWithin(t, "verify", "--case", casePath, "--public-keys", keys, "--allow-weak-keys")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Note: weak trust anchor: key "+fp+" in "+keyFile+" is a 1024-bit RSA key")
	assert.Contains(t, r.stdout, "Result: every digest and log file is valid")
	r = forensicWithin(t, "verify", "--case", casePath, "--public-keys", keys, "--allow-weak-keys", "--json")
	assert.Equal(t, 0, r.code, r.stderr)
	var rep struct {
		Summary struct {
			Notes []string `json:"notes"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.True(t, strings.Contains(strings.Join(rep.Summary.Notes, "\n"), "weak trust anchor: key "+fp), "notes: %q", rep.Summary.Notes)

	r = forensicWithin(t, "analyze", ev, "--public-keys", keys, "--allow-weak-keys", "--key", filepath.Join(dir, "analyst.key"), "--out", out)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	limits, verdict, _ := readReportJSON(t, out)
	assert.Contains(t, verdict, "VERIFIED")
	assert.Contains(t, verdict, "Caution: the verification used weak trust anchors")
	assert.Contains(t, strings.Join(limits, "\n"), "Weak trust anchors: "+fp+" (1024-bit RSA, from "+keyFile+")")
	html := readFile(t, filepath.Join(out, "report.html"))
	assert.Contains(t, html, "Weak trust anchors: "+fp)
	assert.Contains(t, html, "Caution: the verification used weak trust anchors")

	pub := filepath.Join(dir, "analyst.pub.pem")
	refused(t, forensicWithin(t, "report", "verify", out, "--signer", pub, "--evidence", ev, "--rerun", "--public-keys", keys))
	r = forensicWithin(t, "report", "verify", out, "--signer", pub, "--allow-weak-keys")
	assert.Equal(t, 2, r.code, "--allow-weak-keys needs --rerun")
	r = forensicWithin(t, "report", "verify", out, "--signer", pub, "--evidence", ev, "--rerun", "--public-keys", keys, "--allow-weak-keys")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Re-run: every status and finding matches the report.")
	assert.Contains(t, r.stdout, "warning: the report's verification trusted the weak key "+fp+" (1024-bit RSA")
}

// Trust anchors taken from the evidence are a warning everywhere: the
// verify output (finding and note), the report (finding, limitation,
// verdict) and report verify; keys kept apart give none, and a re-run
// with independently fetched keys matches the report.
func TestTrustAnchorInEvidenceCommand(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 13, Hours: 2, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	planted := m.PublicKeyFiles[0]
	r := forensicWithin(t, "keygen", "--out", filepath.Join(dir, "analyst"), "--identity", "ana@lab.example")
	require.Equal(t, 0, r.code, r.stderr)
	out := filepath.Join(dir, "report")
	r = forensicWithin(t, "analyze", ev, "--public-keys", filepath.Join(ev, "keys"), "--key", filepath.Join(dir, "analyst.key"), "--out", out)
	require.Equal(t, 0, r.code, "a warning does not fail the run\n%s%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "[warning] trust_anchor_in_evidence: trust anchor "+planted+" is part of the evidence")
	assert.Contains(t, r.stdout, "Note: WARNING: trust anchor "+planted+" is part of the evidence")
	assert.Contains(t, r.stdout, "CAUTION: trust anchors were taken from the evidence")

	limits, verdict, findings := readReportJSON(t, out)
	n := 0
	for _, f := range findings {
		if f["type"] == "trust_anchor_in_evidence" {
			n++
			assert.Equal(t, "warning", f["severity"])
		}
	}
	assert.Equal(t, 1, n, "findings: %v", findings)
	assert.Contains(t, verdict, "Caution: the verification used trust anchors taken from the evidence")
	assert.Contains(t, strings.Join(limits, "\n"), "Trust anchors taken from the evidence: 1 trust-anchor file was also part of the evidence")
	assert.Contains(t, readFile(t, filepath.Join(out, "report.html")), "Trust anchors taken from the evidence")

	// The same keys fetched independently: same content, other bytes
	// (compact JSON), outside the evidence.
	var doc any
	require.NoError(t, json.Unmarshal([]byte(readFile(t, planted)), &doc))
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	own := filepath.Join(dir, "keys", "us-east-1.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(own), 0o755))
	require.NoError(t, os.WriteFile(own, b, 0o644))

	pub := filepath.Join(dir, "analyst.pub.pem")
	r = forensicWithin(t, "report", "verify", out, "--signer", pub, "--evidence", ev, "--rerun", "--public-keys", own)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Re-run: every status and finding matches the report.")
	assert.Contains(t, r.stdout, "warning: the report's verification trusted public keys that were part of the evidence: trust anchor "+planted)
	assert.NotContains(t, r.stdout, "warning: the re-run trusted public keys that are part of the evidence")
	r = forensicWithin(t, "report", "verify", out, "--signer", pub, "--evidence", ev, "--rerun", "--public-keys", filepath.Join(ev, "keys"))
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "warning: the re-run trusted public keys that are part of the evidence")

	// Keys kept apart: no warning anywhere.
	casePath := filepath.Join(dir, "own.db")
	require.Equal(t, 0, forensicWithin(t, "ingest", "--case", casePath, ev).code)
	r = forensicWithin(t, "verify", "--case", casePath, "--public-keys", own)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "trust_anchor_in_evidence")
	assert.NotContains(t, r.stdout, "WARNING")
	assert.NotContains(t, r.stdout, "CAUTION")
}
