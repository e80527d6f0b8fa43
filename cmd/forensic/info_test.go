package main

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// TestInfo: forensic info says what a case holds — sources, kinds, events
// per account and region with their span, the last verify and whether it
// covers the case, the custody log — and never writes to it.
func TestInfo(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 3, Hours: 4, FilesPerHour: 2, EventsPerFile: 3})
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	db := filepath.Join(dir, "case.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code)
	r := forensic(t, "info", "--case", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "last verify: never")
	assert.Contains(t, r.stdout, "custody log: 1 entry, intact")
	before := queryJSON(t, db, "SELECT count(*) AS n FROM custody")

	forensic(t, "verify", "--case", db, "--public-keys", keys)
	r = forensic(t, "info", "--case", db, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var in caseInfo
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &in))
	assert.Len(t, in.Sources, 1)
	assert.Positive(t, in.Kinds["cloudtrail_log"])
	require.Len(t, in.Events, 1)
	assert.Equal(t, "111122223333", in.Events[0].Account)
	assert.Equal(t, "us-east-1", in.Events[0].Region)
	assert.Positive(t, in.Events[0].Events)
	assert.Less(t, in.Events[0].First, in.Events[0].Last)
	require.NotNil(t, in.LastVerify)
	assert.True(t, in.Covered)
	assert.Equal(t, 2, in.Custody)
	assert.True(t, in.Intact)
	r = forensic(t, "info", "--case", db)
	assert.Contains(t, r.stdout, "digests 4/4 valid, log files 8/8")
	assert.Equal(t, before[0]["n"].(float64)+1, queryJSON(t, db, "SELECT count(*) AS n FROM custody")[0]["n"], "only verify wrote")
}

// TestReadOnlyCommandsLeaveNoWAL: the commands that only read a case
// leave no -wal or -shm file beside it, and the case file unchanged.
func TestReadOnlyCommandsLeaveNoWAL(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 3, Hours: 2, FilesPerHour: 2, EventsPerFile: 3})
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	db := filepath.Join(dir, "case.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, m.Root).code, "custody entries by the CLI")
	forensic(t, "verify", "--case", db, "--public-keys", keys)
	leftovers := func() []string {
		var out []string
		for _, s := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Lstat(db + s); err == nil {
				out = append(out, filepath.Base(db+s))
			}
		}
		return out
	}
	require.Empty(t, leftovers(), "ingest and verify close the case cleanly")
	sum := func() [32]byte {
		b, err := os.ReadFile(db)
		require.NoError(t, err)
		return sha256.Sum256(b)
	}
	before := sum()
	for _, args := range [][]string{
		{"info", "--case", db},
		{"info", "--case", db, "--json"},
		{"timeline", "--case", db},
		{"timeline", "--case", db, "--verified-only", "--principal", "admin"},
		{"query", "--case", db, "SELECT count(*) FROM ct_events"},
		{"custody", "verify", "--case", db},
	} {
		r := forensic(t, args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		assert.Empty(t, leftovers(), "%v", args)
	}
	assert.Equal(t, before, sum(), "the case file is unchanged")
}
