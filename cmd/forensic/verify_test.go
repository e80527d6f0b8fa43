package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
)

// verifyCLI runs `forensic verify args...` in process and returns the
// exit status, stdout and stderr.
func verifyCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	code := exitCode(cmdVerify(context.Background(), args, &o, &e), &e)
	return code, o.String(), e.String()
}

// verifyCase generates the fixture set, applies tamperings and ingests it.
func verifyCase(t *testing.T, tamper ...fixtures.Tampering) (string, *fixtures.Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 3, Hours: 4, FilesPerHour: 2, EventsPerFile: 3})
	require.NoError(t, err)
	for _, tp := range tamper {
		_, err := fixtures.Tamper(m, tp)
		require.NoError(t, err)
	}
	db := filepath.Join(dir, "case.db")
	c, err := store.Open(context.Background(), db)
	require.NoError(t, err)
	_, err = ingest.Run(context.Background(), c, []string{m.Root}, ingest.Options{})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	return db, m
}

func TestVerifyExitCodes(t *testing.T) {
	db, m := verifyCase(t)
	keys := filepath.Join(m.Root, "keys")

	code, out, errOut := verifyCLI(t, "--case", db, "--public-keys", keys)
	assert.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "111122223333 us-east-1 management-trail: digests 4/4 valid, logs 8/8 valid, covered 2024-03-04T00:00:00Z to 2024-03-04T04:00:00Z, gaps: none")
	assert.Contains(t, out, "Result: every digest and log file is valid; nothing is missing.")
	assert.NotContains(t, out, "Problems:")

	// No trust anchors: refused, and the case's results stay as they were.
	before := queryJSON(t, db, "SELECT kind, s3_key, status FROM item_status ORDER BY id")
	code, out, errOut = verifyCLI(t, "--case", db)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no --public-keys given: nothing can be verified")
	assert.Empty(t, out)
	assert.Equal(t, before, queryJSON(t, db, "SELECT kind, s3_key, status FROM item_status ORDER BY id"), "the last results are kept")
	code, _, errOut = verifyCLI(t, "--case", db, "--public-keys", keys, "--no-trust-anchors")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "choose one of --public-keys and --no-trust-anchors")

	// Asked for: nothing can be valid, and the output says why.
	code, out, _ = verifyCLI(t, "--case", db, "--no-trust-anchors")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "no --public-keys given: the case holds 1 public keys as evidence")
	assert.Contains(t, out, "key_unknown")
	// The report's verdict says so first.
	signer := filepath.Join(t.TempDir(), "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(t.TempDir(), "report")
	r := forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)
	rb, err := os.ReadFile(filepath.Join(rep, "report.json"))
	require.NoError(t, err)
	var rj struct {
		Verification struct {
			Verdict string `json:"verdict"`
		} `json:"verification"`
	}
	require.NoError(t, json.Unmarshal(rb, &rj))
	assert.True(t, strings.HasPrefix(rj.Verification.Verdict, "NOT VERIFIED: no trust anchors were supplied"), rj.Verification.Verdict)

	for _, tt := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no case", []string{"--public-keys", keys}, "--case is required"},
		{"case does not exist", []string{"--case", filepath.Join(t.TempDir(), "nope.db")}, "nope.db"},
		{"unknown flag", []string{"--case", db, "--bogus"}, "unknown flag"},
		{"stray argument", []string{"--case", db, keys}, "unexpected argument"},
		{"key file missing", []string{"--case", db, "--public-keys", filepath.Join(t.TempDir(), "k.json")}, "k.json"},
		{"key file not keys", []string{"--case", db, "--public-keys", db}, "not list-public-keys JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := verifyCLI(t, tt.args...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, tt.msg)
		})
	}

	// A listed fingerprint that disagrees with MD5 of the key: usage error.
	bad := filepath.Join(t.TempDir(), "us-east-1.json")
	data, err := os.ReadFile(m.PublicKeyFiles[0])
	require.NoError(t, err)
	var doc struct{ PublicKeyList []map[string]any }
	require.NoError(t, json.Unmarshal(data, &doc))
	doc.PublicKeyList[0]["Fingerprint"] = strings.Repeat("0", 32)
	b, _ := json.Marshal(doc)
	require.NoError(t, os.WriteFile(bad, b, 0o644))
	code, _, errOut = verifyCLI(t, "--case", db, "--public-keys", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "differs from MD5 of the key")
}

func TestVerifyTamperedTextAndJSON(t *testing.T) {
	db, m := verifyCase(t, fixtures.LogHashMismatch)
	ti := m.Tampered[0]
	var logPath string
	for _, l := range m.Logs {
		if l.Key == ti.LogKeys[0] {
			logPath = l.Path
		}
	}
	code, out, errOut := verifyCLI(t, "--case", db, "--public-keys", m.PublicKeyFiles[0])
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "LOG    hash_mismatch          s3://"+fixtures.DefaultTrailBucket+"/"+ti.LogKeys[0])
	assert.Contains(t, out, "path: "+logPath)
	assert.Contains(t, errOut, "verification failed: 0 of 4 digests and 1 of 8 log files are not valid")

	code, out, _ = verifyCLI(t, "--case", db, "--public-keys", m.PublicKeyFiles[0], "--json")
	assert.Equal(t, 1, code)
	var rep struct {
		Summary struct {
			OK      bool `json:"ok"`
			Digests struct {
				Total, Valid int
			} `json:"digests"`
			Logs struct {
				Total    int            `json:"total"`
				Valid    int            `json:"valid"`
				ByStatus map[string]int `json:"by_status"`
			} `json:"logs"`
		} `json:"summary"`
		Items    []map[string]json.RawMessage `json:"items"`
		Findings []json.RawMessage            `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.False(t, rep.Summary.OK)
	assert.Equal(t, 4, rep.Summary.Digests.Total)
	assert.Equal(t, map[string]int{"valid": 7, "hash_mismatch": 1}, rep.Summary.Logs.ByStatus)
	assert.Len(t, rep.Items, 12)
	assert.NotNil(t, rep.Findings)
	found := false
	for _, it := range rep.Items {
		for _, f := range []string{"kind", "s3_bucket", "s3_key", "path", "status", "detail"} {
			assert.Contains(t, it, f)
		}
		var key, status string
		json.Unmarshal(it["s3_key"], &key)
		json.Unmarshal(it["status"], &status)
		if key == ti.LogKeys[0] {
			found = true
			assert.Equal(t, "hash_mismatch", status)
			var d map[string]any
			require.NoError(t, json.Unmarshal(it["detail"], &d))
			assert.NotEqual(t, d["expected_sha256"], d["actual_sha256"])
			assert.Len(t, d["expected_sha256"], 64)
			assert.Len(t, d["actual_sha256"], 64)
		}
	}
	assert.True(t, found)

	// Each run appended a custody entry naming the key file and its hash.
	c, err := store.OpenReadOnly(context.Background(), db)
	require.NoError(t, err)
	defer c.Close()
	entries, err := c.Custody(context.Background())
	require.NoError(t, err)
	require.Empty(t, store.VerifyCustody(entries))
	last := entries[len(entries)-1]
	assert.Equal(t, "verify", last.Command)
	assert.Contains(t, string(last.Inputs), m.PublicKeyFiles[0])
	assert.Contains(t, string(last.Outputs), `"hash_mismatch":1`)
}
