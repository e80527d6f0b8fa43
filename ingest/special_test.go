package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/casetest"
)

// A tar hard link is a hardlink item with its target; fifos and devices
// (tar, zip, folder) are special items with their type: none is read,
// none is an error.
func TestIngestLinksAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	mt := time.Unix(1700000000, 0)
	for _, h := range []*tar.Header{
		{Name: "data.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5, ModTime: mt},
		{Name: "hard", Typeflag: tar.TypeLink, Linkname: "data.txt", Mode: 0o644, ModTime: mt},
		{Name: "../../etc/hard-out", Typeflag: tar.TypeLink, Linkname: "/etc/shadow", Mode: 0o644, ModTime: mt},
		{Name: "sym", Typeflag: tar.TypeSymlink, Linkname: "data.txt", Mode: 0o777, ModTime: mt},
		{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o644, ModTime: mt},
		{Name: "null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666, ModTime: mt},
		{Name: "sda", Typeflag: tar.TypeBlock, Devmajor: 8, Mode: 0o660, ModTime: mt},
	} {
		require.NoError(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte("data\n"))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	writeFile(t, filepath.Join(dir, "a.tar"), tb.Bytes())
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	h := &zip.FileHeader{Name: "zfifo", Method: zip.Store}
	h.SetMode(fs.ModeNamedPipe | 0o644)
	_, err := zw.CreateHeader(h)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	writeFile(t, filepath.Join(dir, "b.zip"), zb.Bytes())
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "c-fifo"), 0o600))

	c := newCase(t)
	sum := ingestPaths(t, c, dir)
	assert.Empty(t, sum.Errors, "special files and links are not read failures")
	assert.Equal(t, 2, sum.Kinds["hardlink"])
	assert.Equal(t, 5, sum.Kinds["special"])
	assert.Equal(t, 1, sum.Kinds["symlink"])

	rows, err := casetest.DB(t, c).Query(`SELECT coalesce(member, ''), kind, coalesce(format, ''), coalesce(link_target, ''), coalesce(mode, ''),
		size, coalesce(sha256, ''), coalesce(error, '') FROM evidence WHERE kind IN ('hardlink', 'special', 'symlink') ORDER BY path, member`)
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var member, kind, format, target, mode, sha, e string
		var size int64
		require.NoError(t, rows.Scan(&member, &kind, &format, &target, &mode, &size, &sha, &e))
		assert.Empty(t, sha, "%s: no content is read", member)
		assert.Empty(t, e, member)
		assert.Zero(t, size, member)
		got = append(got, member+" "+kind+" "+format+" "+target+" "+mode)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{
		"../../etc/hard-out hardlink  /etc/shadow -rw-r--r--",
		"fifo special fifo  prw-r--r--",
		"hard hardlink  data.txt -rw-r--r--",
		"null special character device  Dcrw-rw-rw-",
		"sda special block device  Drw-rw----",
		"sym symlink  data.txt Lrwxrwxrwx",
		"zfifo special fifo  prw-r--r--",
		" special fifo  prw-------",
	}, got)
}
