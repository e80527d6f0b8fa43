package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/export"
)

// exportOf exports the case at path into a new folder.
func exportOf(t *testing.T, path string) (string, *export.Manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "export")
	m, _, err := export.Run(context.Background(), path, export.Options{Out: dir, Tool: "test", Now: time.Unix(0, 0)})
	require.NoError(t, err)
	return dir, m
}

// TestReportCoversAnExport: report --export puts the manifest's hash and
// every file's into the signed report.json; report verify --export finds
// every file unchanged, and a changed, removed or added file (or manifest)
// as such; a report of another case's export, or of an export whose files
// are not as its manifest lists them, is refused.
func TestReportCoversAnExport(t *testing.T) {
	ctx := context.Background()
	c, _, _ := fixtureCase(t, smallOptions())
	dir, m := exportOf(t, c.Path)
	opt := testBuildOptions(filepath.Join(t.TempDir(), "report"))
	opt.Export = dir
	_, err := Build(ctx, c, opt)
	require.NoError(t, err)
	doc := readReport(t, opt.Out)
	sec := doc["export"].(map[string]any)
	b, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	require.NoError(t, err)
	assert.Equal(t, sha256Hex(b), sec["manifest_sha256"])
	assert.Len(t, sec["files"], len(m.Files))
	for i, f := range sec["files"].([]any) {
		f := f.(map[string]any)
		assert.Equal(t, m.Files[i].Path, f["path"])
		assert.Equal(t, m.Files[i].SHA256, f["sha256"])
	}

	pin := signerPEM(t)
	res, err := Verify(ctx, opt.Out, VerifyOptions{Signer: pin, Export: dir})
	require.NoError(t, err)
	assert.True(t, res.OK, "%v", failedChecks(res))
	require.Len(t, res.Export, len(m.Files)+1)
	for _, s := range res.Export {
		assert.Equal(t, export.FileUnchanged, s.Status, s.Path)
	}

	// One byte of a data file, a file removed, a file added, the manifest
	// edited: each is named.
	data := filepath.Join(dir, filepath.FromSlash(m.Files[0].Path))
	raw, err := os.ReadFile(data)
	require.NoError(t, err)
	raw[len(raw)/2] ^= 1
	require.NoError(t, os.WriteFile(data, raw, 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, filepath.FromSlash(m.Files[1].Path))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events", "extra.parquet"), []byte("PAR1"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, export.ManifestName), append(b, ' '), 0o644))
	res, err = Verify(ctx, opt.Out, VerifyOptions{Signer: pin, Export: dir})
	require.NoError(t, err)
	assert.False(t, res.OK)
	states := map[string]string{}
	for _, s := range res.Export {
		if s.Status != export.FileUnchanged {
			states[s.Path] = s.Status
		}
	}
	assert.Equal(t, map[string]string{m.Files[0].Path: export.FileChanged, m.Files[1].Path: export.FileMissing,
		"events/extra.parquet": export.FileAdded, export.ManifestName: export.FileChanged}, states)

	// Such an export is not signed.
	opt2 := testBuildOptions(filepath.Join(t.TempDir(), "report"))
	opt2.Export = dir
	_, err = Build(ctx, c, opt2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not as its manifest lists it")

	// Nor another case's.
	other, _, _ := fixtureCase(t, fixtures.Options{Seed: 8, Hours: 2, FilesPerHour: 1, EventsPerFile: 1})
	odir, _ := exportOf(t, other.Path)
	opt3 := testBuildOptions(filepath.Join(t.TempDir(), "report"))
	opt3.Export = odir
	_, err = Build(ctx, c, opt3)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not of this case")

	// A report without an export cannot vouch for one.
	plain := buildReport(t, c)
	res, err = Verify(ctx, plain, VerifyOptions{Signer: pin, Export: odir})
	require.NoError(t, err)
	assert.False(t, res.OK)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
