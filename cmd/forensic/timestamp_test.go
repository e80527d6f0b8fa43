package main

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/tsp"
	"github.com/forensic-dev/forensic/internal/tsp/tsptest"
)

// execIn is a command that runs in dir.
func execIn(dir, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir = dir
	return c
}

// TestReportTimestamp: a request written into a report folder, answered
// by openssl ts as the TSA, is added to the folder and checked by report
// verify (and by openssl ts -verify, as VERIFY.txt says); a response to
// another request, or a changed SHA256SUMS, fails; the folder stays
// complete with the two files outside SHA256SUMS.
func TestReportTimestamp(t *testing.T) {
	dir := t.TempDir()
	db, m := verifyCase(t)
	forensic(t, "verify", "--case", db, "--public-keys", filepath.Join(m.Root, "keys"))
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(dir, "report")
	r := forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)

	r = forensic(t, "report", "timestamp-request", rep)
	require.Equal(t, 0, r.code, r.stderr)
	r = forensic(t, "report", "timestamp-request", rep)
	assert.Equal(t, 1, r.code, "one request per report")
	req, err := os.ReadFile(filepath.Join(rep, "SHA256SUMS.tsq"))
	require.NoError(t, err)
	tsa := tsptest.New(t, 24*time.Hour, false)
	resp := filepath.Join(dir, "SHA256SUMS.tsr")
	require.NoError(t, os.WriteFile(resp, tsa.Reply(t, req), 0o644))

	// A response to another request is refused.
	sums, err := os.ReadFile(filepath.Join(rep, "SHA256SUMS"))
	require.NoError(t, err)
	d := sha256.Sum256(sums)
	req2, _, err := tsp.NewRequest(d[:])
	require.NoError(t, err)
	other := filepath.Join(dir, "other.tsr")
	require.NoError(t, os.WriteFile(other, tsa.Reply(t, req2), 0o644))
	r = forensic(t, "report", "timestamp", rep, "--response", other, "--tsa-cert", tsa.CAPEM)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "answers another request")

	r = forensic(t, "report", "timestamp", rep, "--response", resp, "--tsa-cert", tsptest.New(t, time.Hour, false).CAPEM)
	assert.Equal(t, 1, r.code, "another CA")
	assert.Contains(t, r.stderr, "does not chain")
	r = forensic(t, "report", "timestamp", rep, "--response", resp, "--tsa-cert", tsa.CAPEM)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "SHA256SUMS existed at")

	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem", "--tsa-cert", tsa.CAPEM)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "PASS timestamp SHA256SUMS.tsr")
	assert.Contains(t, r.stdout, "Time stamp: SHA256SUMS existed at")
	assert.Contains(t, r.stdout, "chains to --tsa-cert")
	assert.Contains(t, r.stdout, "PASS sha256sums complete")
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "not checked against a CA you trust")

	// openssl ts -verify, as VERIFY.txt gives it.
	verifyTxt, err := os.ReadFile(filepath.Join(rep, "VERIFY.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(verifyTxt), "openssl ts -verify -in SHA256SUMS.tsr -data SHA256SUMS -CAfile TSA-CA.pem")
	for _, args := range [][]string{{"-data", "SHA256SUMS"}, {"-queryfile", "SHA256SUMS.tsq"}} {
		cmd := execIn(rep, "openssl", append(append([]string{"ts", "-verify", "-in", "SHA256SUMS.tsr"}, args...), "-CAfile", tsa.CAPEM)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Contains(t, string(out), "Verification: OK")
	}

	// One byte of the response changed, or SHA256SUMS not the one stamped.
	tsr := filepath.Join(rep, "SHA256SUMS.tsr")
	b, err := os.ReadFile(tsr)
	require.NoError(t, err)
	b[len(b)-1] ^= 1
	require.NoError(t, os.WriteFile(tsr, b, 0o644))
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem", "--tsa-cert", tsa.CAPEM)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "FAIL timestamp SHA256SUMS.tsr")
	require.NoError(t, os.WriteFile(tsr, tsa.Reply(t, req), 0o644)) // a fresh, good one
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem", "--tsa-cert", tsa.CAPEM)
	assert.Equal(t, 0, r.code, r.stdout)
	require.NoError(t, os.WriteFile(filepath.Join(rep, "SHA256SUMS.tsq"), []byte("junk"), 0o644))
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem", "--tsa-cert", tsa.CAPEM)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "SHA256SUMS.tsq")
}
