package verify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// tarGz packs the folder root into a .tar.gz at out, names relative to root.
func tarGz(t *testing.T, root, out string) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
}

func TestRehashArchive(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), small())
	require.NoError(t, err)
	_, err = fixtures.Tamper(m, fixtures.LogTrailingData)
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	arc := filepath.Join(dir, "evidence.tar.gz")
	tarGz(t, m.Root, arc)
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	a := anchors(t, m)
	plain := runVerify(t, c, Options{Anchors: a})
	re := runVerify(t, c, Options{Anchors: a, Rehash: true})
	assert.Equal(t, len(m.Logs), re.Summary.Rehashed)
	assert.Equal(t, statuses(plain), statuses(re))
	assert.Equal(t, map[string]string{"log " + m.Tampered[0].LogKeys[0]: StatusTrailingData}, notValid(re))
	assert.Empty(t, re.Findings)
	for _, it := range re.Items {
		if it.Kind == KindLog {
			assert.Equal(t, true, det(it.Detail)["rehashed"], it.S3Key)
			assert.Contains(t, it.Path, arc+"!/")
		}
	}
}

// TestRehashSeesChangedFile: a log file altered after ingest keeps its
// ingest-time status without --rehash and is caught with it: its bytes
// are not those its events were indexed from, so it is
// changed_since_ingest (never judged on the new bytes alone).
func TestRehashSeesChangedFile(t *testing.T) {
	c, m := set(t, small())
	a := anchors(t, m)
	_, err := fixtures.Tamper(m, fixtures.LogHashMismatch) // rewrites one listed log file in place
	require.NoError(t, err)
	target := m.Tampered[0].LogKeys[0]
	plain := runVerify(t, c, Options{Anchors: a})
	assert.Empty(t, notValid(plain))
	re := runVerify(t, c, Options{Anchors: a, Rehash: true})
	assert.Equal(t, map[string]string{"log " + target: StatusChangedSinceIngest}, notValid(re))
	assertOneVerdictPerItem(t, c)
	require.Len(t, re.Findings, 1)
	assert.Equal(t, FindingRehash, re.Findings[0].Type)
	assert.Equal(t, SeverityError, re.Findings[0].Severity)

	// A file gone since ingest: a rehash finding; the status rests on the
	// hashes recorded at ingest.
	for _, x := range m.Logs {
		if x.Key == target {
			require.NoError(t, os.Remove(x.Path))
		}
	}
	re = runVerify(t, c, Options{Anchors: a, Rehash: true})
	assert.Empty(t, notValid(re))
	require.Len(t, re.Findings, 1)
	assert.Contains(t, re.Findings[0].Summary, "cannot re-read")
}
