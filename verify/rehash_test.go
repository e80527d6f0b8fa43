package verify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
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

// TestRehashArchiveMembersFoundByPosition: archive members are found
// again by the position the case recorded, never by name; a position the
// archive does not have, two rows at one position, rows recorded before
// positions were kept (by a name that occurs once) and an archive that is
// gone each get what they should.
func TestRehashArchiveMembersFoundByPosition(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), small())
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	arc := filepath.Join(dir, "evidence.tar.gz")
	tarGz(t, m.Root, arc)
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	a := anchors(t, m)
	db := casetest.DB(t, c)
	rows, err := db.Query("SELECT id, member, member_index FROM evidence WHERE kind = 'cloudtrail_log' ORDER BY id LIMIT 4")
	require.NoError(t, err)
	var ids []int64
	var members, idx []string
	for rows.Next() {
		var id int64
		var mem, ix string
		require.NoError(t, rows.Scan(&id, &mem, &ix))
		ids, members, idx = append(ids, id), append(members, mem), append(idx, ix)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.Len(t, ids, 4)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE evidence SET member_index = '[99999]' WHERE id = ?", []any{ids[0]}}, // no such position
		{"UPDATE evidence SET member_index = ? WHERE id = ?", []any{idx[2], ids[1]}}, // recorded at the next one's position too
		{"UPDATE evidence SET member_index = NULL WHERE id = ?", []any{ids[3]}},      // before positions were kept
	} {
		_, err := db.Exec(q.sql, q.args...)
		require.NoError(t, err)
	}
	re := runVerify(t, c, Options{Anchors: a, Rehash: true})
	assertOneVerdictPerItem(t, c)
	var summaries []string
	for _, f := range findingsOf(re, FindingRehash) {
		summaries = append(summaries, f.Summary)
	}
	require.Len(t, summaries, 3, "%q", summaries)
	has := func(parts ...string) {
		t.Helper()
		for _, s := range summaries {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(s, p)
			}
			if all {
				return
			}
		}
		t.Errorf("no rehash finding with %q in %q", parts, summaries)
	}
	has("cannot re-read", "member "+members[0]+" (position [99999]) not found in archive "+arc)
	// The first row at the shared position is judged on the bytes there,
	// which are not its own; the second cannot be told apart.
	has(members[1] + " changed since it was ingested")
	has("cannot re-read", "member "+members[2]+" of archive "+arc+" is named by more than one evidence row")
	assert.Equal(t, len(m.Logs)-2, re.Summary.Rehashed, "the row found by its name is re-read")
	st := statuses(re)
	assert.Equal(t, StatusChangedSinceIngest, st[KindLog+" "+logKey(t, db, ids[1])])
	assert.Equal(t, StatusValid, st[KindLog+" "+logKey(t, db, ids[3])])

	// The archive gone: nothing is re-read, and each log file says why.
	require.NoError(t, os.Remove(arc))
	re = runVerify(t, c, Options{Anchors: a, Rehash: true})
	assert.Zero(t, re.Summary.Rehashed)
	fs := findingsOf(re, FindingRehash)
	require.Len(t, fs, len(m.Logs))
	for _, f := range fs {
		assert.Contains(t, f.Summary, "cannot re-read")
		assert.Contains(t, f.Summary, "walk archive "+arc)
	}
}

func logKey(t *testing.T, db *sql.DB, id int64) string {
	t.Helper()
	var k string
	require.NoError(t, db.QueryRow("SELECT s3_key FROM evidence WHERE id = ?", id).Scan(&k))
	return k
}

// TestRehashLegacyRowsOfARepeatedName: rows recorded before positions
// were kept are found by name, and only when the name occurs once in the
// archive: a name met twice cannot say which row is which.
func TestRehashLegacyRowsOfARepeatedName(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), small())
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	lg := m.Logs[0]
	b, err := os.ReadFile(lg.Path)
	require.NoError(t, err)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < 2; i++ { // the same member name twice
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: "logs/" + filepath.Base(lg.Path), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	arc := filepath.Join(dir, "logs.tar")
	require.NoError(t, os.WriteFile(arc, buf.Bytes(), 0o644))
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	db := casetest.DB(t, c)
	res, err := db.Exec("UPDATE evidence SET member_index = NULL WHERE kind = 'cloudtrail_log'")
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	re := runVerify(t, c, Options{Anchors: anchors(t, m), Rehash: true})
	assert.Zero(t, re.Summary.Rehashed)
	fs := findingsOf(re, FindingRehash)
	require.Len(t, fs, 2)
	for _, f := range fs {
		assert.Contains(t, f.Summary, "occurs 2 times in archive "+arc+" and this evidence row was recorded before positions were kept")
	}
}
