package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportCommand: forensic export writes the dataset and its manifest,
// records itself in the custody log (with the manifest's hash), and
// refuses a folder that already holds files or lies in the evidence.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "export-in")
	writeExport(t, ev, 3, 4)
	db := filepath.Join(dir, "case.db")
	r := forensic(t, "ingest", "--case", db, ev)
	require.Equal(t, 0, r.code, r.stderr)

	out := filepath.Join(dir, "parquet")
	r = forensic(t, "export", "--case", db, "--out", out, "--operator", "analyst")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "events")
	b, err := os.ReadFile(filepath.Join(out, "MANIFEST.json"))
	require.NoError(t, err)
	var m struct {
		Format string `json:"format"`
		Tables []struct {
			Name string `json:"name"`
			Rows int64  `json:"rows"`
		} `json:"tables"`
		Files []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "forensic-export/1", m.Format)
	assert.Equal(t, "events", m.Tables[0].Name)
	assert.EqualValues(t, 12, m.Tables[0].Rows)
	assert.NotEmpty(t, m.Files)
	sum := sha256.Sum256(b)

	r = forensic(t, "custody", "verify", "--case", db)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = forensic(t, "query", "--case", db, "--json", "SELECT command, operator, outputs FROM custody ORDER BY seq DESC LIMIT 1")
	require.Equal(t, 0, r.code, r.stderr)
	var rows []struct {
		Command, Operator, Outputs string
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows))
	require.Len(t, rows, 1)
	assert.Equal(t, "export", rows[0].Command)
	assert.Equal(t, "analyst", rows[0].Operator)
	var outputs map[string]any
	require.NoError(t, json.Unmarshal([]byte(rows[0].Outputs), &outputs))
	assert.Equal(t, hex.EncodeToString(sum[:]), outputs["manifest_sha256"])

	// The same folder again: refused, untouched.
	r = forensic(t, "export", "--case", db, "--out", out)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "is not empty")
	again, err := os.ReadFile(filepath.Join(out, "MANIFEST.json"))
	require.NoError(t, err)
	assert.Equal(t, b, again)
	// Into the evidence: refused.
	r = forensic(t, "export", "--case", db, "--out", filepath.Join(ev, "parquet"))
	assert.NotEqual(t, 0, r.code)
	_, err = os.Stat(filepath.Join(ev, "parquet"))
	assert.True(t, os.IsNotExist(err), "nothing written into the evidence")
	// Bad times.
	r = forensic(t, "export", "--case", db, "--out", filepath.Join(dir, "x"), "--from", "2024-03-05T00:00Z", "--to", "2024-03-04T00:00Z")
	assert.Equal(t, 2, r.code)
}
