package source

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWalkFolder(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	files := map[string]string{
		"b/2.json":     "two",
		"b/10.json":    "ten",
		"a.txt":        "alpha",
		"c/d/e/deep":   "deep",
		"B-upper.json": "upper",
		"b/sub/x":      "x",
	}
	for name, body := range files {
		writeFile(t, filepath.Join(ev, name), []byte(body))
	}
	require.NoError(t, os.Mkdir(filepath.Join(ev, "empty"), 0o755))
	t.Chdir(dir)

	gs := walkAll(t, "ev", Options{}) // relative: made absolute
	want := []string{"B-upper.json", "a.txt", "b/10.json", "b/2.json", "b/sub/x", "c/d/e/deep", ""}
	var gotNames []string
	for _, g := range gs {
		rel, err := filepath.Rel(ev, g.Path)
		require.NoError(t, err)
		if rel == "." {
			rel = ""
		}
		gotNames = append(gotNames, filepath.ToSlash(rel))
		assert.Equal(t, ev, g.Source, "Source of %s", g.Path)
		assert.Equal(t, "", g.Member)
		assert.NoError(t, g.Err)
	}
	assert.Equal(t, want, gotNames)
	for _, g := range gs[:len(gs)-1] {
		rel, _ := filepath.Rel(ev, g.Path)
		body := files[filepath.ToSlash(rel)]
		assert.Equal(t, body, string(g.Body), "content of %s", rel)
		assert.Equal(t, int64(len(body)), g.Size, "size of %s", rel)
		assert.False(t, g.Container)
		assert.True(t, g.Mode.IsRegular())
	}
	last := gs[len(gs)-1]
	assert.True(t, last.Container)
	assert.Equal(t, "dir", last.Format)
	assert.Equal(t, "", last.SHA256)
	assert.Equal(t, ev, last.Path)
	assert.False(t, last.HasBody, "a folder container has no reader")
}

func TestWalkFormats(t *testing.T) {
	inner := []member{
		{name: "AWSLogs/1/CloudTrail/a.json.gz", body: gzipBytes(t, []byte(`{"Records":[]}`))},
		{name: "AWSLogs/1/dir/", typeflag: tar.TypeDir},
		{name: "b.txt", body: []byte("bee")},
	}
	tarB := tarBytes(t, inner...)
	zipM := []member{inner[0], inner[2]}
	plainGz := gzipBytes(t, []byte(`{"Records":[{"eventName":"X"}]}`))
	plainZst := zstdBytes(t, []byte("not a tar, just zstd"))
	tests := []struct {
		name   string
		data   []byte
		format string // "" for an ordinary file
	}{
		{"ev.tar", tarB, "tar"},
		{"ev.tar.gz", gzipBytes(t, tarB), "tar.gz"},
		{"ev.tgz", gzipBytes(t, tarB), "tar.gz"},
		{"ev.tar.zst", zstdBytes(t, tarB), "tar.zst"},
		{"ev.zip", zipBytes(t, zipM...), "zip"},
		{"misnamed.bin", gzipBytes(t, tarB), "tar.gz"}, // content decides, not the name
		{"x.json.gz", plainGz, ""},
		{"x.zst", plainZst, ""},
		{"x.tar.gz", []byte("plain text named like an archive"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), tc.name), tc.data)
			gs := walkAll(t, p, Options{})
			if tc.format == "" {
				require.Len(t, gs, 1)
				g := gs[0]
				assert.Equal(t, p, g.Path)
				assert.Equal(t, "", g.Member)
				assert.False(t, g.Container)
				assert.Equal(t, tc.data, g.Body, "ordinary entry yields the raw (still compressed) bytes")
				assert.Equal(t, int64(len(tc.data)), g.Size)
				assert.NoError(t, g.Err)
				return
			}
			want := []string{"AWSLogs/1/CloudTrail/a.json.gz", "b.txt", "[" + tc.format + "] " + tc.name}
			assert.Equal(t, want, lines(gs))
			require.Len(t, gs, 3)
			assert.Equal(t, inner[0].body, gs[0].Body, "a .json.gz member is not decompressed")
			assert.Equal(t, int64(len(inner[0].body)), gs[0].Size)
			assert.Equal(t, "bee", string(gs[1].Body))
			for _, g := range gs {
				assert.Equal(t, p, g.Path)
				assert.NoError(t, g.Err)
			}
			assert.True(t, gs[1].ModTime.Equal(testTime), "ModTime = %v, want %v", gs[1].ModTime, testTime)
			c := gs[2]
			assert.Equal(t, fileSHA(t, p), c.SHA256)
			assert.Equal(t, int64(len(tc.data)), c.Size)
			assert.Equal(t, "", c.Member)
			assert.False(t, c.HasBody)
		})
	}
}

func TestWalkNested(t *testing.T) {
	leaf := []byte(`{"Records":[]}`)
	innerZip := zipBytes(t, member{name: "AWSLogs/x.json", body: leaf})
	innerTgz := gzipBytes(t, tarBytes(t, member{name: "deep/y.json", body: leaf}))
	tests := []struct {
		name  string
		data  []byte
		opt   Options
		want  []string
		inner []byte // the nested archive's bytes, for its container SHA256
	}{
		{
			name:  "zip in tar.gz",
			data:  gzipBytes(t, tarBytes(t, member{name: "in/inner.zip", body: innerZip}, member{name: "after", body: []byte("a")})),
			want:  []string{"in/inner.zip!/AWSLogs/x.json", "[zip] in/inner.zip", "after", "[tar.gz] outer"},
			inner: innerZip,
		},
		{
			name:  "tar.gz in zip",
			data:  zipBytes(t, member{name: "inner.tar.gz", body: innerTgz}),
			want:  []string{"inner.tar.gz!/deep/y.json", "[tar.gz] inner.tar.gz", "[zip] outer"},
			inner: innerTgz,
		},
		{
			name: "zip in zip in tar",
			data: tarBytes(t, member{name: "l1.zip", body: zipBytes(t, member{name: "l2.zip", body: innerZip})}),
			want: []string{"l1.zip!/l2.zip!/AWSLogs/x.json", "[zip] l1.zip!/l2.zip", "[zip] l1.zip", "[tar] outer"},
		},
		{
			name: "MaxDepth 1 keeps the nested archive as a member",
			data: gzipBytes(t, tarBytes(t, member{name: "in/inner.zip", body: innerZip})),
			opt:  Options{MaxDepth: 1},
			want: []string{"in/inner.zip", "[tar.gz] outer"},
		},
		{
			name: "MaxDepth -1 opens no archive",
			data: innerZip,
			opt:  Options{MaxDepth: -1},
			want: []string{"outer"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "outer"), tc.data)
			gs := walkAll(t, p, tc.opt)
			assert.Equal(t, tc.want, lines(gs))
			for _, g := range gs {
				assert.Equal(t, p, g.Path, "Path of %s is the outermost archive", g.Member)
				if !g.Container && strings.HasSuffix(g.Member, ".json") {
					assert.Equal(t, leaf, g.Body)
				}
			}
			if tc.inner != nil {
				c := gs[1]
				assert.Equal(t, sha(tc.inner), c.SHA256, "nested container hash")
				assert.Equal(t, int64(len(tc.inner)), c.Size)
			}
			if tc.opt.MaxDepth == 1 {
				assert.Equal(t, innerZip, gs[0].Body)
			}
		})
	}
}

func TestWalkHostileNames(t *testing.T) {
	names := []string{"../../etc/passwd", "/abs/evil", "bad\xff\xfename", "a/../../../../tmp/x", "nul\x00byte"}
	var ms []member
	for _, n := range names {
		ms = append(ms, member{name: n, body: []byte("payload " + n)})
	}
	// tar cannot store a NUL inside a name: drop it there.
	tarNames := names[:4]
	tests := []struct {
		name  string
		data  []byte
		names []string
	}{
		{"tar", tarBytes(t, ms[:4]...), tarNames},
		{"tar.gz", gzipBytes(t, tarBytes(t, ms[:4]...)), tarNames},
		{"zip", zipBytes(t, ms...), names},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			work := filepath.Join(root, "cwd")
			require.NoError(t, os.Mkdir(work, 0o755))
			p := writeFile(t, filepath.Join(root, "ev", "a"), tc.data)
			t.Chdir(work)
			before := snapshot(t, root)

			gs := walkAll(t, p, Options{})
			require.Len(t, gs, len(tc.names)+1)
			for i, n := range tc.names {
				assert.Equal(t, n, gs[i].Member, "member %d recorded verbatim", i)
				assert.Equal(t, "payload "+n, string(gs[i].Body))
				assert.NoError(t, gs[i].Err)
			}
			assert.Equal(t, before, snapshot(t, root), "nothing created or changed")
			_, err := os.Lstat("/abs/evil")
			assert.True(t, errors.Is(err, fs.ErrNotExist), "/abs/evil must not exist: %v", err)
		})
	}
}

func TestWalkSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := writeFile(t, filepath.Join(root, "outside", "secret"), []byte("secret"))
	writeFile(t, filepath.Join(root, "outside", "d", "f"), []byte("in linked dir"))
	ev := filepath.Join(root, "ev")
	writeFile(t, filepath.Join(ev, "a"), []byte("a"))
	require.NoError(t, os.Symlink(outside, filepath.Join(ev, "l-file")))
	require.NoError(t, os.Symlink("../outside/d", filepath.Join(ev, "l-dir")))
	require.NoError(t, os.Symlink("missing", filepath.Join(ev, "l-dangling")))

	gs := walkAll(t, ev, Options{})
	want := []string{"a", "l-dangling -> missing", "l-dir -> ../outside/d", "l-file -> " + outside, "[dir] ev"}
	assert.Equal(t, want, lines(gs))
	for _, g := range gs[1:4] {
		assert.False(t, g.HasBody, "%s: a symlink has no reader", g.Path)
		assert.NotZero(t, g.Mode&fs.ModeSymlink, "%s mode %v", g.Path, g.Mode)
	}

	t.Run("in tar", func(t *testing.T) {
		p := writeFile(t, filepath.Join(t.TempDir(), "l.tar"), tarBytes(t,
			member{name: "sym", typeflag: tar.TypeSymlink, link: "/etc/passwd"},
			member{name: "hard", typeflag: tar.TypeLink, link: "sym"},
			member{name: "fifo", typeflag: tar.TypeFifo},
			member{name: "dev", typeflag: tar.TypeChar},
		))
		gs := walkAll(t, p, Options{})
		assert.Equal(t, []string{"sym -> /etc/passwd", "hard -> sym", "fifo", "dev", "[tar] l.tar"}, lines(gs))
		assert.NotZero(t, gs[0].Mode&fs.ModeSymlink, "a symbolic link")
		assert.Zero(t, gs[1].Mode.Type(), "a hard link has no type bits")
		assert.Equal(t, "fifo", SpecialType(gs[2].Mode))
		assert.Equal(t, "character device", SpecialType(gs[3].Mode))
		assert.False(t, gs[0].HasBody)
	})
	t.Run("in zip", func(t *testing.T) {
		p := writeFile(t, filepath.Join(t.TempDir(), "l.zip"), zipBytes(t,
			member{name: "sym", link: "../../etc/shadow"},
			member{name: "f", body: []byte("f")},
		))
		gs := walkAll(t, p, Options{})
		assert.Equal(t, []string{"sym -> ../../etc/shadow", "f", "[zip] l.zip"}, lines(gs))
		assert.False(t, gs[0].HasBody)
	})
}

func TestWalkUnreadableFile(t *testing.T) {
	newTree := func(t *testing.T) (ev, locked string) {
		ev = t.TempDir()
		writeFile(t, filepath.Join(ev, "a"), []byte("a"))
		locked = writeFile(t, filepath.Join(ev, "b-locked"), []byte("b"))
		writeFile(t, filepath.Join(ev, "c"), []byte("c"))
		return ev, locked
	}
	check := func(t *testing.T, gs []got, locked string) {
		t.Helper()
		assert.Equal(t, []string{"a", "b-locked ERR", "c", "[dir] " + filepath.Base(filepath.Dir(locked))}, lines(gs))
		require.Len(t, gs, 4)
		assert.Equal(t, "open: permission denied", gs[1].Err.Error())
		assert.False(t, gs[1].HasBody)
		assert.Equal(t, "c", string(gs[2].Body), "walk goes on after the unreadable file")
	}
	t.Run("chmod 000", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: root opens mode-000 files; the injected-open case below covers the error path")
		}
		ev, locked := newTree(t)
		require.NoError(t, os.Chmod(locked, 0))
		t.Cleanup(func() { _ = os.Chmod(locked, 0o644) })
		check(t, walkAll(t, ev, Options{}), locked)
	})
	t.Run("chmod 000 folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: root reads mode-000 folders")
		}
		ev := t.TempDir()
		writeFile(t, filepath.Join(ev, "a"), []byte("a"))
		locked := filepath.Join(ev, "b")
		writeFile(t, filepath.Join(locked, "hidden"), []byte("h"))
		writeFile(t, filepath.Join(ev, "c"), []byte("c"))
		require.NoError(t, os.Chmod(locked, 0))
		t.Cleanup(func() { _ = os.Chmod(locked, 0o755) })
		gs := walkAll(t, ev, Options{})
		assert.Equal(t, []string{"a", "b ERR", "c", "[dir] " + filepath.Base(ev)}, lines(gs))
		assert.EqualError(t, gs[1].Err, "read folder: open: permission denied")
	})
	t.Run("injected permission error", func(t *testing.T) {
		ev, locked := newTree(t)
		opt := Options{open: func(name string) (*os.File, error) {
			if name == locked {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			}
			return os.Open(name)
		}}
		check(t, walkAll(t, ev, opt), locked)
	})
}

func TestWalkArgErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	err := Walk(context.Background(), missing, Options{}, func(*Entry, io.Reader) error { return nil })
	require.Error(t, err)
	assert.Equal(t, "evidence "+missing+": lstat: no such file or directory", err.Error())
	var ae *ArgError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, missing, ae.Path)
	assert.EqualError(t, ae.Err, "lstat: no such file or directory")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(dir, link))
	err = Walk(context.Background(), link, Options{}, func(*Entry, io.Reader) error { return nil })
	assert.EqualError(t, err, "evidence "+link+": a symbolic link to "+dir+", which is not followed")

	err = Walk(context.Background(), "", Options{}, nil)
	assert.EqualError(t, err, "evidence path is empty")
}

func TestWalkStops(t *testing.T) {
	ev := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(ev, n), []byte(n))
	}
	tgz := writeFile(t, filepath.Join(t.TempDir(), "x.tgz"), gzipBytes(t, tarBytes(t,
		member{name: "a", body: []byte("a")}, member{name: "b", body: []byte("b")}, member{name: "c", body: []byte("c")})))
	stopErr := errors.New("stop here")
	for _, arg := range []string{ev, tgz} {
		t.Run(filepath.Base(arg)+"/visitor error", func(t *testing.T) {
			var seen []string
			err := Walk(context.Background(), arg, Options{}, func(e *Entry, r io.Reader) error {
				seen = append(seen, filepath.Base(e.Path)+e.Member)
				if len(seen) == 2 {
					return stopErr
				}
				return nil
			})
			assert.Same(t, stopErr, err)
			assert.Len(t, seen, 2)
		})
		t.Run(filepath.Base(arg)+"/SkipAll is just an error", func(t *testing.T) {
			n := 0
			err := Walk(context.Background(), arg, Options{}, func(*Entry, io.Reader) error { n++; return fs.SkipAll })
			assert.Same(t, fs.SkipAll, err)
			assert.Equal(t, 1, n)
		})
		t.Run(filepath.Base(arg)+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			n := 0
			err := Walk(ctx, arg, Options{}, func(*Entry, io.Reader) error {
				n++
				cancel()
				return nil
			})
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 1, n)
		})
	}
}

func TestWalkPartialReads(t *testing.T) {
	// The visitor reads part of or none of each member; the walk must still
	// find every member and hash the whole archive.
	big := make([]byte, 300<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	data := gzipBytes(t, tarBytes(t, member{name: "big", body: big}, member{name: "next", body: []byte("n")}))
	p := writeFile(t, filepath.Join(t.TempDir(), "p.tar.gz"), data)
	for _, readN := range []int64{0, 1, 1000} {
		var out []string
		var csum string
		err := Walk(context.Background(), p, Options{}, func(e *Entry, r io.Reader) error {
			if r != nil {
				if _, err := io.CopyN(io.Discard, r, readN); err != io.EOF {
					require.NoError(t, err)
				}
			}
			out = append(out, e.Member)
			csum = e.SHA256
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []string{"big", "next", ""}, out, "read %d bytes of each", readN)
		assert.Equal(t, sha(data), csum)
	}
}

func TestWalkEvidenceUnchanged(t *testing.T) {
	ev := t.TempDir()
	writeFile(t, filepath.Join(ev, "a.tar.gz"), gzipBytes(t, tarBytes(t, member{name: "x", body: []byte("x")})))
	writeFile(t, filepath.Join(ev, "b.zip"), zipBytes(t, member{name: "y", body: []byte("y")}))
	writeFile(t, filepath.Join(ev, "c", "d.json.gz"), gzipBytes(t, []byte("{}")))
	old := testTime.Add(-1000 * 24 * 3600e9)
	require.NoError(t, filepath.WalkDir(ev, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		return os.Chtimes(p, old, old)
	}))
	before := snapshot(t, ev)
	gs := walkAll(t, ev, Options{})
	assert.Equal(t, []string{"x", "[tar.gz] a.tar.gz", "y", "[zip] b.zip", "d.json.gz", "[dir] " + filepath.Base(ev)}, lines(gs))
	assert.Equal(t, before, snapshot(t, ev))
}

func TestIsTarHeader(t *testing.T) {
	ustar := tarBytes(t, member{name: "f", body: []byte("x")})
	// An old-style (v7) header: no magic, only the checksum.
	v7 := append([]byte(nil), ustar[:512]...)
	copy(v7[257:265], make([]byte, 8))
	setTarChecksum(v7)
	badSum := append([]byte(nil), v7...)
	badSum[0] ^= 1
	text := []byte(strings.Repeat("The quick brown fox 0123456789. ", 16))
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"gnu", ustar[:512], true},
		{"v7", v7, true},
		{"v7 bad checksum", badSum, false},
		{"zeros", make([]byte, 512), false},
		{"text", text, false},
		{"short", ustar[:511], false},
	}
	for _, tc := range tests {
		if got := isTarHeader(tc.b); got != tc.want {
			t.Errorf("isTarHeader(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	p := writeFile(t, filepath.Join(t.TempDir(), "v7"), append(v7, ustar[512:]...))
	assert.Equal(t, []string{"f", "[tar] v7"}, lines(walkAll(t, p, Options{})))
}

func setTarChecksum(h []byte) {
	copy(h[148:156], "        ")
	var sum int
	for _, c := range h[:512] {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

func TestWalkVisitorReturnsReadError(t *testing.T) {
	data := gzipBytes(t, tarBytes(t, member{name: "a", body: []byte("alpha")}, member{name: "b", body: noise(256 << 10)}))
	p := writeFile(t, filepath.Join(t.TempDir(), "x.tgz"), data[:len(data)/2])
	for _, wrap := range []bool{false, true} {
		var out []string
		err := Walk(t.Context(), p, Options{}, func(e *Entry, r io.Reader) error {
			out = append(out, got{Entry: *e}.line())
			if r == nil {
				return nil
			}
			_, err := io.Copy(io.Discard, r)
			if err != nil && wrap {
				return fmt.Errorf("parse %s: %w", e.Name(), err)
			}
			return err
		})
		require.NoError(t, err, "a read error handed back by the visitor does not stop the walk (wrapped: %v)", wrap)
		assert.Equal(t, []string{"a", "b", "b ERR", "[tar.gz] x.tgz ERR"}, out)
	}
}

// TestReadCountsArchiveBytes: Options.Read hears every byte of a tar
// archive on disk as the walk reads it (progress of a compressed
// archive), and nothing of an ordinary file.
func TestReadCountsArchiveBytes(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	arc := writeFile(t, filepath.Join(dir, "e.tar.zst"), zstdBytes(t, tarBytes(t, member{name: "a", body: big}, member{name: "b", body: []byte("b")})))
	plain := writeFile(t, filepath.Join(dir, "plain.json"), []byte(`{"Records":[]}`))
	for _, tc := range []struct {
		path string
		want int64
	}{{arc, fileSize(t, arc)}, {plain, 0}} {
		var n int64
		walkAll(t, tc.path, Options{Read: func(k int64) { n += k }})
		assert.Equal(t, tc.want, n, tc.path)
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	require.NoError(t, err)
	return fi.Size()
}
