package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/report"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReportCommand: keygen, ingest, verify, report, report verify
// (pinned, evidence, re-run), a changed byte, and the custody entry the
// report leaves.
func TestReportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 5, Hours: 4, FilesPerHour: 2, EventsPerFile: 5})
	require.NoError(t, err)
	_, err = fixtures.Tamper(m, fixtures.LogHashMismatch)
	require.NoError(t, err)
	casePath := filepath.Join(dir, "case.db")
	keys := filepath.Join(ev, "keys")
	var sink strings.Builder
	_, err = runIngest(ctx, ingestOptions{casePath: casePath, paths: []string{ev}, operator: "jane"}, &sink, &sink, false)
	require.NoError(t, err)
	_, err = runVerify(ctx, verifyOptions{casePath: casePath, keys: []string{keys}, operator: "jane"}, &sink)
	require.Error(t, err, "the evidence is tampered: verify fails")

	prefix := filepath.Join(dir, "analyst")
	_, errOut, code := runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	require.Equal(t, 0, code, errOut)

	// A key others can read is refused.
	require.NoError(t, os.Chmod(prefix+".key", 0o644))
	_, errOut, code = runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", filepath.Join(dir, "r0"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "too open")
	require.NoError(t, os.Chmod(prefix+".key", 0o600))

	out := filepath.Join(dir, "report")
	stdout, errOut, code := runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", out, "--operator", "jane", "--json")
	require.Equal(t, 0, code, errOut)
	var res report.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, "jane@lab.example", res.Identity, "identity from analyst.allowed_signers")
	assert.False(t, res.Verified)
	assert.Contains(t, res.Verdict, "NOT VERIFIED")

	// The custody log: ingest, verify, report; the report entry records
	// the hash of SHA256SUMS and of every file.
	c, err := store.OpenReadOnly(ctx, casePath)
	require.NoError(t, err)
	entries, err := c.Custody(ctx)
	c.Close()
	require.NoError(t, err)
	require.Len(t, entries, 3)
	assert.Equal(t, []string{"ingest", "verify", "report"}, []string{entries[0].Command, entries[1].Command, entries[2].Command})
	assert.Empty(t, store.VerifyCustody(entries))
	var outputs struct {
		SumsSHA256 string        `json:"sha256sums_sha256"`
		Files      []report.File `json:"files"`
	}
	require.NoError(t, json.Unmarshal(entries[2].Outputs, &outputs))
	assert.Equal(t, res.SumsSHA256, outputs.SumsSHA256)
	assert.Len(t, outputs.Files, 10)
	assert.Equal(t, entries[1].Hash, res.CustodyHead, "the report carries the log up to the entry before its own")

	pin := prefix + ".pub.pem"
	stdout, errOut, code = runCmd(reportCmd, "verify", out, "--signer", pin)
	assert.Equal(t, 0, code, stdout+errOut)
	assert.Contains(t, stdout, "Result: the report verifies: it is authentic and unchanged.")
	assert.Contains(t, stdout, "Its verdict on the evidence: NOT VERIFIED: 1 of 12 digests", "the report's own verdict, restated")
	stdout, _, code = runCmd(reportCmd, "verify", out)
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "warning: the signer is not pinned")
	stdout, errOut, code = runCmd(reportCmd, "verify", out, "--signer", pin, "--evidence", ev, "--rerun", "--public-keys", keys)
	assert.Equal(t, 0, code, stdout+errOut)
	assert.Contains(t, stdout, "Re-run: every status and finding matches the report.")

	// One changed byte in report.html.
	p := filepath.Join(out, "report.html")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[100] ^= 1
	require.NoError(t, os.WriteFile(p, b, 0o644))
	stdout, errOut, code = runCmd(reportCmd, "verify", out, "--signer", pin)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "FAIL sha256 report.html")
	assert.Contains(t, errOut, "does not verify")

	for _, args := range [][]string{
		{"verify"},
		{"verify", filepath.Join(dir, "nope")},
		{"verify", out, "--rerun"},
		{"verify", out, "--public-keys", keys},
		{"--case", casePath, "--out", filepath.Join(dir, "r2")},
		{"--case", filepath.Join(dir, "nope.db"), "--key", prefix + ".key", "--out", filepath.Join(dir, "r2")},
		{"--case", casePath, "--key", prefix + ".key", "--out", out},
	} {
		_, errOut, code := runCmd(reportCmd, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
}

func TestSignerIdentity(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.allowed_signers"), []byte("sam@x namespaces=\"forensic-report\" ssh-ed25519 AAAA\n"), 0o644))
	assert.Equal(t, "flag@x", signerIdentity("flag@x", filepath.Join(dir, "a.key"), "op"))
	assert.Equal(t, "sam@x", signerIdentity("", filepath.Join(dir, "a.key"), "op"))
	assert.Equal(t, "op@"+hostname(), signerIdentity("", filepath.Join(dir, "b.key"), "op"))
}

// TestReportRefusesUnverifiedEvidence: evidence A is verified (all
// valid); evidence B, holding a tampered log file, is ingested after.
// report refuses, naming what is not covered; --allow-unverified writes
// it with a NOT VERIFIED verdict that says why in its first sentence.
func TestReportRefusesUnverifiedEvidence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	ma, err := fixtures.Generate(a, fixtures.Options{Seed: 5, Hours: 3, FilesPerHour: 2, EventsPerFile: 5})
	require.NoError(t, err)
	b := filepath.Join(dir, "b")
	mb, err := fixtures.Generate(b, fixtures.Options{Seed: 6, Hours: 3, FilesPerHour: 2, EventsPerFile: 5, Accounts: []string{"444455556666"}})
	require.NoError(t, err)
	_, err = fixtures.Tamper(mb, fixtures.LogHashMismatch)
	require.NoError(t, err)
	casePath := filepath.Join(dir, "case.db")
	var sink strings.Builder
	_, err = runIngest(ctx, ingestOptions{casePath: casePath, paths: []string{a}}, &sink, &sink, false)
	require.NoError(t, err)
	_, err = runVerify(ctx, verifyOptions{casePath: casePath, keys: ma.PublicKeyFiles}, &sink)
	require.NoError(t, err, sink.String())
	_, err = runIngest(ctx, ingestOptions{casePath: casePath, paths: []string{b}}, &sink, &sink, false)
	require.NoError(t, err)

	prefix := filepath.Join(dir, "analyst")
	_, errOut, code := runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	require.Equal(t, 0, code, errOut)
	out := filepath.Join(dir, "report")
	_, errOut, code = runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", out)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "ingested after the last verification")
	assert.Contains(t, errOut, "no verification status")
	assert.Contains(t, errOut, "forensic verify")
	assert.Contains(t, errOut, "--allow-unverified")
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err), "no report folder is written")

	stdout, errOut, code := runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", out, "--allow-unverified", "--json")
	require.Equal(t, 0, code, errOut)
	var res report.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.False(t, res.Verified)
	assert.True(t, strings.HasPrefix(res.Verdict, "NOT VERIFIED: "), res.Verdict)
	first, _, _ := strings.Cut(res.Verdict, ". ")
	assert.Contains(t, first, "ingested after the last verification", res.Verdict)

	// Verified again, the report is allowed and tells the truth.
	_, err = runVerify(ctx, verifyOptions{casePath: casePath, keys: append(ma.PublicKeyFiles, mb.PublicKeyFiles...)}, &sink)
	require.Error(t, err, "B holds a tampered log file")
	stdout, errOut, code = runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", filepath.Join(dir, "report2"), "--json")
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.False(t, res.Verified)
	assert.Contains(t, res.Verdict, "are not valid")
}

// TestReportVerifyRenamedSource: a byte-identical archive under another
// name is the report's source, renamed: every item of it unchanged, the
// source itself renamed, and the report verifies; a changed byte in it is
// still a change.
func TestReportVerifyRenamedSource(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "ev"), fixtures.Options{Seed: 4, Hours: 3, FilesPerHour: 2, EventsPerFile: 2})
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	arc := filepath.Join(dir, "evidence.tar.zst")
	require.NoError(t, fixtures.WriteTarZst(m.Root, arc))
	db := filepath.Join(dir, "c.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, arc).code)
	forensic(t, "verify", "--case", db, "--public-keys", keys)
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(dir, "report")
	r := forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)

	received := filepath.Join(dir, "received.tar.zst")
	b, err := os.ReadFile(arc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(received, b, 0o644))
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem", "--evidence", received)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "RENAMED")
	assert.Contains(t, r.stdout, "given as received.tar.zst")
	assert.NotContains(t, r.stdout, "ADDED")
	assert.Contains(t, r.stdout, "missing 0, added 0")

	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(received, b, 0o644))
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem", "--evidence", received)
	assert.Equal(t, 1, r.code, "changed bytes are not a rename")
}
