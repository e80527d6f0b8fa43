package main

import (
	"archive/tar"
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
	"github.com/forensic-dev/forensic/report"
)

func analyzeCmd(ctx context.Context, args []string, o, e *bytes.Buffer) error {
	return cmdAnalyze(ctx, args, o, e)
}

// TestAnalyzeRepeatedObjectName: a tar holding a tampered copy of an S3
// object and then the original under the same member name, with the real
// sidecars. The signed report must not say VERIFIED, and report verify
// --evidence --rerun must reproduce exactly what the report says.
func TestAnalyzeRepeatedObjectName(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 3, Hours: 2, FilesPerHour: 1, EventsPerFile: 2, Objects: true})
	require.NoError(t, err)
	ob := m.Objects[4]
	orig, err := os.ReadFile(ob.Path)
	require.NoError(t, err)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(name string, body []byte) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	err = filepath.Walk(m.Root, func(p string, fi os.FileInfo, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(m.Root, p)
		if fi.IsDir() || strings.HasPrefix(rel, "keys") {
			return nil
		}
		body, err := os.ReadFile(p)
		require.NoError(t, err)
		if p == ob.Path {
			add(filepath.ToSlash(rel), append([]byte("X"), orig[1:]...))
		}
		add(filepath.ToSlash(rel), body)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	arc := filepath.Join(dir, "evidence.tar")
	require.NoError(t, os.WriteFile(arc, b.Bytes(), 0o644))

	prefix := filepath.Join(dir, "analyst")
	_, errOut, code := runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	require.Equal(t, 0, code, errOut)
	out := filepath.Join(dir, "report")
	keys := filepath.Join(m.Root, "keys")
	stdout, errOut, code := runCmd(analyzeCmd, arc, "--public-keys", keys, "--key", prefix+".key", "--out", out)
	assert.Equal(t, 1, code, "tampered evidence: analyze exits 1\n%s%s", stdout, errOut)
	assert.Contains(t, stdout, "checksum_mismatch")
	assert.Contains(t, stdout, "duplicate_name")
	data, err := os.ReadFile(filepath.Join(out, report.FileJSON))
	require.NoError(t, err)
	var rep struct {
		Verification struct {
			OK      bool   `json:"ok"`
			Verdict string `json:"verdict"`
		} `json:"verification"`
		Statuses []struct {
			Status     string `json:"status"`
			EvidenceID int64  `json:"evidence_id"`
		} `json:"statuses"`
	}
	require.NoError(t, json.Unmarshal(data, &rep))
	assert.False(t, rep.Verification.OK)
	assert.True(t, strings.HasPrefix(rep.Verification.Verdict, "NOT VERIFIED"), rep.Verification.Verdict)
	var mismatch int
	for _, s := range rep.Statuses {
		if s.Status == "checksum_mismatch" {
			mismatch++
		}
	}
	assert.Equal(t, 1, mismatch)

	stdout, errOut, code = runCmd(reportCmd, "verify", out, "--signer", prefix+".pub.pem", "--evidence", arc, "--rerun", "--public-keys", keys)
	assert.Equal(t, 0, code, stdout+errOut)
	assert.Contains(t, stdout, "Re-run: every status and finding matches the report.")
	assert.Contains(t, stdout, "unchanged")
}
