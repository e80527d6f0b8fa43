package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

func ingestCmd(ctx context.Context, args []string, o, e *bytes.Buffer) error {
	return cmdIngest(ctx, args, o, e)
}

// snapshotTree maps every file below root to its content.
func snapshotTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		require.NoError(t, err)
		if !fi.IsDir() {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			out[p] = string(b)
		}
		return nil
	}))
	return out
}

// TestOutputsNeverInsideEvidence: a case, report folder or analyze
// output inside a source is refused with exit 2, naming both paths, and
// the evidence folder is left exactly as it was (also through a symbolic
// link that points into it).
func TestOutputsNeverInsideEvidence(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	_, err := fixtures.Generate(ev, fixtures.Options{Seed: 3, Hours: 2, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(ev, link))
	before := snapshotTree(t, ev)
	prefix := filepath.Join(dir, "analyst")
	_, errOut, code := runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	require.Equal(t, 0, code, errOut)

	for _, tt := range []struct {
		name string
		fn   func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error
		args []string
		want string
	}{
		{"ingest case in the evidence", ingestCmd, []string{"--case", filepath.Join(ev, "case.db"), ev}, filepath.Join(ev, "case.db")},
		{"ingest case through a link", ingestCmd, []string{"--case", filepath.Join(link, "case.db"), ev}, filepath.Join(link, "case.db")},
		{"analyze out in the evidence", analyzeCmd, []string{ev, "--public-keys", filepath.Join(ev, "keys"), "--key", prefix + ".key",
			"--out", filepath.Join(ev, "report"), "--case", filepath.Join(dir, "a.db")}, filepath.Join(ev, "report")},
		{"analyze default case in the evidence", analyzeCmd, []string{ev, "--public-keys", filepath.Join(ev, "keys"), "--key", prefix + ".key",
			"--out", filepath.Join(ev, "sub", "report")}, filepath.Join(ev, "sub", "report")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCmd(tt.fn, tt.args...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.Contains(t, errOut, "lies inside the evidence "+ev)
			assert.Equal(t, before, snapshotTree(t, ev), "the evidence is untouched")
		})
	}

	// A report folder inside a source the case recorded.
	casePath := filepath.Join(dir, "case.db")
	_, errOut, code = runCmd(ingestCmd, "--case", casePath, ev)
	require.Equal(t, 0, code, errOut)
	_, errOut, code = runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", filepath.Join(ev, "report"), "--allow-unverified")
	assert.Equal(t, 2, code, errOut)
	assert.True(t, strings.Contains(errOut, "lies inside the evidence"), errOut)
	assert.Equal(t, before, snapshotTree(t, ev))
	// Outside, it works.
	_, errOut, code = runCmd(reportCmd, "--case", casePath, "--key", prefix+".key", "--out", filepath.Join(dir, "report"), "--allow-unverified")
	assert.Equal(t, 0, code, errOut)
}
