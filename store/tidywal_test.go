package store

import (
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func walFiles(path string) []string {
	var out []string
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, filepath.Base(p))
		}
	}
	return out
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// newClosedCase is a case with one evidence row, closed: no -wal or -shm
// beside it.
func newClosedCase(t *testing.T) string {
	t.Helper()
	c, err := Open(context.Background(), filepath.Join(t.TempDir(), "case.db"))
	require.NoError(t, err)
	_, err = c.db.Exec(`INSERT INTO evidence(source, path, sha256, kind, ingested_at) VALUES ('/s', '/e', 'aa', 'unknown', '2024-01-01T00:00:00Z')`)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Empty(t, walFiles(c.Path), "a closed case has no -wal or -shm")
	return c.Path
}

// TestReadOnlyLeavesNoWALFiles: a read-only open of a closed case makes
// -wal and -shm files (SQLite's, for a reader of a WAL database); its
// Close removes them and the case file is byte for byte as it was.
func TestReadOnlyLeavesNoWALFiles(t *testing.T) {
	ctx := context.Background()
	path := newClosedCase(t)
	before := fileSum(t, path)
	ro, err := OpenReadOnly(ctx, path)
	require.NoError(t, err)
	var n int
	require.NoError(t, ro.db.QueryRow("SELECT count(*) FROM evidence").Scan(&n))
	assert.Equal(t, 1, n)
	assert.NotEmpty(t, walFiles(path), "the reader made them")
	require.NoError(t, ro.Close())
	assert.Empty(t, walFiles(path), "the reader's Close removed them")
	assert.Equal(t, before, fileSum(t, path), "the case file is unchanged")
}

// TestReadOnlyTidyLeavesAWriterAlone: a writer that opens the case while
// a reader has it open keeps its -wal and -shm when the reader closes, and
// its writes are all there; the writer's own close removes them.
func TestReadOnlyTidyLeavesAWriterAlone(t *testing.T) {
	ctx := context.Background()
	path := newClosedCase(t)
	ro, err := OpenReadOnly(ctx, path)
	require.NoError(t, err)
	require.NoError(t, ro.db.QueryRow("SELECT count(*) FROM evidence").Scan(new(int)))
	w, err := Open(ctx, path)
	require.NoError(t, err)
	_, err = w.db.Exec(`INSERT INTO evidence(source, path, sha256, kind, ingested_at) VALUES ('/s', '/f', 'bb', 'unknown', '2024-01-01T00:00:00Z')`)
	require.NoError(t, err)
	require.NoError(t, ro.Close())
	assert.ElementsMatch(t, []string{"case.db-wal", "case.db-shm"}, walFiles(path), "the writer's files stay while it runs")
	_, err = w.db.Exec(`INSERT INTO evidence(source, path, sha256, kind, ingested_at) VALUES ('/s', '/g', 'cc', 'unknown', '2024-01-01T00:00:00Z')`)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Empty(t, walFiles(path), "the writer's close removed them")
	ro, err = OpenReadOnly(ctx, path)
	require.NoError(t, err)
	var n int
	require.NoError(t, ro.db.QueryRow("SELECT count(*) FROM evidence").Scan(&n))
	assert.Equal(t, 3, n, "every write is in the case")
	require.NoError(t, ro.Close())
}

// TestReadOnlyTidyLeavesAnotherProcessAlone: while another process (the
// sqlite3 shell, in a read transaction) has the case open, a reader's
// Close leaves the -wal and -shm in place; they go when that process
// ends.
func TestReadOnlyTidyLeavesAnotherProcessAlone(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 not installed")
	}
	ctx := context.Background()
	path := newClosedCase(t)
	ready := filepath.Join(t.TempDir(), "ready")
	release := filepath.Join(t.TempDir(), "release")
	sh := exec.Command("sqlite3", path)
	sh.Stdin = stringsReader("BEGIN;\nSELECT count(*) FROM evidence;\n.shell touch " + ready +
		"\n.shell while [ ! -e " + release + " ]; do sleep 0.05; done\nCOMMIT;\n")
	require.NoError(t, sh.Start())
	defer sh.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "sqlite3 did not start")
		time.Sleep(20 * time.Millisecond)
	}
	ro, err := OpenReadOnly(ctx, path)
	require.NoError(t, err)
	ro.tidy = true // as if it had found no files: the other process's must stay all the same
	require.NoError(t, ro.db.QueryRow("SELECT count(*) FROM evidence").Scan(new(int)))
	require.NoError(t, ro.Close())
	assert.ElementsMatch(t, []string{"case.db-wal", "case.db-shm"}, walFiles(path), "another process has the case open")
	require.NoError(t, os.WriteFile(release, nil, 0o644))
	require.NoError(t, sh.Wait())
	assert.Empty(t, walFiles(path), "the other process, last to close, removed them")
}
