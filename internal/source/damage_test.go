package source

import (
	"archive/tar"
	"bytes"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noise returns n incompressible bytes, the same every run.
func noise(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// storedZip builds a zip whose local headers carry CRC and sizes (as Info-ZIP
// writes them to a seekable file), so that it can be recovered without a
// central directory even for stored members.
func storedZip(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.name, Method: zip.Store, Modified: testTime,
			CRC32: crc32.ChecksumIEEE(m.body), CompressedSize64: uint64(len(m.body)), UncompressedSize64: uint64(len(m.body))}
		w, err := zw.CreateRaw(h)
		require.NoError(t, err)
		_, err = w.Write(m.body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestWalkDamaged(t *testing.T) {
	ms := []member{
		{name: "a", body: []byte("alpha")},
		{name: "b", body: noise(256 << 10)},
		{name: "c", body: []byte("gamma")},
	}
	tarB := tarBytes(t, ms...)
	cut := func(b []byte) []byte { return b[:len(b)*6/10] }
	flip := func(b []byte, at int) []byte {
		b = append([]byte(nil), b...)
		b[at] ^= 0xff
		return b
	}
	tgz := gzipBytes(t, tarB)
	zipB := zipBytes(t, ms...)
	tests := []struct {
		name    string
		data    []byte
		want    []string
		wantErr string // the container's error, exactly
	}{
		{
			name:    "truncated tar",
			data:    cut(tarB),
			want:    []string{"a", "b", "b ERR", "[tar] x ERR"},
			wantErr: "read tar archive: unexpected EOF in tar stream after {n} bytes",
		},
		{
			name:    "truncated tar.gz",
			data:    cut(tgz),
			want:    []string{"a", "b", "b ERR", "[tar.gz] x ERR"},
			wantErr: "read tar.gz archive: unexpected EOF in gzip stream after {n} bytes",
		},
		{
			name:    "truncated tar.zst",
			data:    cut(zstdBytes(t, tarB)),
			want:    []string{"a", "b", "b ERR", "[tar.zst] x ERR"},
			wantErr: "read tar.zst archive: unexpected EOF in zstd stream after {n} bytes",
		},
		{
			name:    "truncated zip (deflate, data descriptors)",
			data:    cut(zipB),
			want:    []string{"a", "b", "b ERR", "[zip] x ERR"},
			wantErr: "read zip archive: central directory: zip: not a valid zip file; 2 members recovered from local headers, then: member b: unexpected EOF",
		},
		{
			name:    "truncated zip (stored, sizes in local headers)",
			data:    cut(storedZip(t, ms...)),
			want:    []string{"a", "b", "b ERR", "[zip] x ERR"},
			wantErr: "read zip archive: central directory: zip: not a valid zip file; 2 members recovered from local headers",
		},
		{
			name:    "zip without central directory, complete members",
			data:    storedZip(t, ms...)[:len(storedZip(t, ms...))-3*46-22-3],
			want:    []string{"a", "b", "c", "[zip] x ERR"},
			wantErr: "read zip archive: central directory: zip: not a valid zip file; 3 members recovered from local headers",
		},
		{
			name:    "zip member corrupt",
			data:    flip(zipB, 40000),
			want:    []string{"a", "b", "b ERR", "c", "[zip] x ERR"},
			wantErr: "read zip archive: 1 of 3 members could not be read",
		},
		{
			name:    "tar.gz with bad gzip checksum",
			data:    flip(tgz, len(tgz)-8),
			want:    []string{"a", "b", "c", "[tar.gz] x ERR"},
			wantErr: "read tar.gz archive: gzip: invalid checksum in gzip stream after {n} bytes",
		},
		{
			name:    "tar.gz with trailing garbage",
			data:    append(append([]byte(nil), tgz...), "garbage after the gzip stream"...),
			want:    []string{"a", "b", "c", "[tar.gz] x ERR"},
			wantErr: "read tar.gz archive: gzip: invalid header in gzip stream after {n} bytes",
		},
		{
			name: "tar with trailing bytes after the end marker",
			data: append(append([]byte(nil), tarB...), "trailing"...),
			want: []string{"a", "b", "c", "[tar] x"},
		},
		{
			name:    "tar with corrupt second header",
			data:    flip(tarB, 512+512+10),
			want:    []string{"a", "[tar] x ERR"},
			wantErr: "read tar archive: archive/tar: invalid tar header in tar stream after 1536 bytes",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "x"), tc.data)
			gs := walkAll(t, p, Options{})
			require.Equal(t, tc.want, lines(gs))
			assert.Equal(t, "alpha", string(gs[0].Body), "members before the damage stay")
			c := gs[len(gs)-1]
			if tc.wantErr == "" {
				assert.NoError(t, c.Err)
			} else {
				assert.EqualError(t, c.Err, replaceP(tc.wantErr, p, len(tc.data)))
			}
			assert.Equal(t, sha(tc.data), c.SHA256, "hash covers every byte, damaged or trailing")
			assert.Equal(t, int64(len(tc.data)), c.Size)
			for i, g := range gs[:len(gs)-1] {
				if g.Err != nil {
					assert.Equal(t, gs[i-1].Member, g.Member, "error entry repeats the member it belongs to")
					assert.False(t, g.HasBody)
					var re *ReadError
					assert.ErrorAs(t, g.Err, &re)
				}
			}
		})
	}
}

func replaceP(s, p string, n int) string {
	return strings.NewReplacer("{p}", p, "{n}", strconv.Itoa(n)).Replace(s)
}

func TestMemberErrorMessages(t *testing.T) {
	ms := []member{{name: "a", body: []byte("alpha")}, {name: "b", body: noise(256 << 10)}}
	data := gzipBytes(t, tarBytes(t, ms...))
	data = data[:len(data)/2]
	p := writeFile(t, filepath.Join(t.TempDir(), "x.tgz"), data)
	gs := walkAll(t, p, Options{})
	require.Equal(t, []string{"a", "b", "b ERR", "[tar.gz] x.tgz ERR"}, lines(gs))
	assert.EqualError(t, gs[2].Err, "read: unexpected EOF in gzip stream after "+strconv.Itoa(len(data))+" bytes")
}

// writeBomb writes a compressed tar holding one member of n zero bytes
// (n a multiple of 1 MiB) to path. Gzip members and zstd frames may be
// concatenated, so the stream is the compressed tar header, then one
// compressed MiB of zeros repeated, then the compressed end-of-archive
// blocks: cheap to make even under -race, and never held in memory.
func writeBomb(t testing.TB, path string, n int64, compress func(testing.TB, []byte) []byte) {
	t.Helper()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: n, Mode: 0o644, ModTime: testTime}))
	require.Equal(t, blockSize, hdr.Len(), "WriteHeader writes the header block at once")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Write(compress(t, hdr.Bytes()))
	require.NoError(t, err)
	mib := compress(t, make([]byte, 1<<20))
	for range n >> 20 {
		_, err = f.Write(mib)
		require.NoError(t, err)
	}
	_, err = f.Write(compress(t, make([]byte, 2*blockSize)))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestWalkBombs(t *testing.T) {
	gz, zst := gzipBytes, zstdBytes
	tests := []struct {
		name   string
		size   int64
		wrap   func(testing.TB, []byte) []byte
		format string
		opt    Options
		want   string // the member error's reason
	}{
		{"gzip 200 MiB of zeros", 200 << 20, gz, "tar.gz", Options{}, "compression ratio exceeds cap of 200:1"},
		{"zstd 200 MiB of zeros", 200 << 20, zst, "tar.zst", Options{}, "compression ratio exceeds cap of 200:1"},
		{"gzip output cap", 4 << 20, gz, "tar.gz", Options{MaxArchiveBytes: 1 << 20}, "decompressed output exceeds cap of 1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bomb")
			writeBomb(t, p, tc.size, tc.wrap)
			var read int64
			var gs []got
			err := Walk(t.Context(), p, tc.opt, func(e *Entry, r io.Reader) error {
				if r != nil {
					n, _ := io.Copy(io.Discard, r)
					read += n
				}
				gs = append(gs, got{Entry: *e})
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, []string{"zeros", "zeros ERR", "[" + tc.format + "] bomb ERR"}, lines(gs))
			assert.Contains(t, gs[1].Err.Error(), tc.want)
			assert.Contains(t, gs[2].Err.Error(), tc.want)
			var ce *CapError
			require.ErrorAs(t, gs[2].Err, &ce)
			if tc.opt.MaxArchiveBytes > 0 {
				assert.Equal(t, tc.opt.MaxArchiveBytes-512, read, "stops at the cap, less the tar header")
			} else {
				assert.Less(t, read, int64(17<<20), "stops soon after 16 MiB")
			}
			assert.Equal(t, fileSHA(t, p), gs[2].SHA256)
		})
	}
	t.Run("zip member ratio", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create("zeros")
		require.NoError(t, err)
		_, err = w.Write(make([]byte, 20<<20))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		p := writeFile(t, filepath.Join(t.TempDir(), "bomb.zip"), buf.Bytes())
		gs := walkAll(t, p, Options{})
		require.Equal(t, []string{"zeros", "zeros ERR", "[zip] bomb.zip ERR"}, lines(gs))
		assert.Contains(t, gs[1].Err.Error(), "compression ratio exceeds cap of 200:1")
		assert.EqualError(t, gs[2].Err, "read zip archive: 1 of 1 members could not be read")
	})
	t.Run("zip stored members count against the output cap", func(t *testing.T) {
		p := writeFile(t, filepath.Join(t.TempDir(), "s.zip"), storedZip(t,
			member{name: "a", body: noise(600 << 10)}, member{name: "b", body: noise(600 << 10)}))
		gs := walkAll(t, p, Options{MaxArchiveBytes: 1 << 20})
		require.Equal(t, []string{"a", "b", "b ERR", "[zip] s.zip ERR"}, lines(gs))
		assert.Len(t, gs[1].Body, 1<<20-600<<10, "b stops at the cap")
		assert.EqualError(t, gs[2].Err, "read: decompressed output exceeds cap of 1 MiB")
	})
	t.Run("nested zip over the buffer cap is streamed", func(t *testing.T) {
		body := noise(4 << 10)
		inner := zipBytes(t, member{name: "n", body: body})
		p := writeFile(t, filepath.Join(t.TempDir(), "x.tar"), tarBytes(t, member{name: "in.zip", body: inner}, member{name: "after", body: []byte("after")}))
		gs := walkAll(t, p, Options{MaxNestedBuffer: 1 << 10})
		require.Equal(t, []string{"in.zip!/n", "[zip] in.zip ERR", "after", "[tar] x.tar"}, lines(gs))
		assert.Equal(t, body, gs[0].Body)
		assert.EqualError(t, gs[1].Err, "read zip archive: zip inside an archive is larger than the 1 KiB left of the 1 KiB in-memory budget for nested zips: its 1 members were read in file order from their local headers, not by its central directory")
		assert.Equal(t, sha(inner), gs[1].SHA256)
	})
	t.Run("nested zips share one buffer budget", func(t *testing.T) {
		body := noise(3 << 10)
		inner := zipBytes(t, member{name: "n", body: body})
		outer := storedZip(t, member{name: "inner.zip", body: inner}, member{name: "pad", body: noise(2 << 10)})
		p := writeFile(t, filepath.Join(t.TempDir(), "x.tar"), tarBytes(t, member{name: "outer.zip", body: outer}))
		// Each fits alone; both at once do not: the inner one is streamed.
		budget := int64(len(outer) + len(inner))
		gs := walkAll(t, p, Options{MaxNestedBuffer: budget})
		require.Equal(t, []string{"outer.zip!/inner.zip!/n", "[zip] outer.zip!/inner.zip ERR", "outer.zip!/pad", "[zip] outer.zip", "[tar] x.tar"}, lines(gs))
		assert.Equal(t, body, gs[0].Body)
		assert.Contains(t, gs[1].Err.Error(), "in-memory budget for nested zips: its 1 members were read in file order from their local headers")
		assert.Equal(t, sha(inner), gs[1].SHA256)
		// With room for both, both are read by their central directories.
		gs = walkAll(t, p, Options{MaxNestedBuffer: 4 * budget})
		require.Equal(t, []string{"outer.zip!/inner.zip!/n", "[zip] outer.zip!/inner.zip", "outer.zip!/pad", "[zip] outer.zip", "[tar] x.tar"}, lines(gs))
		assert.Equal(t, body, gs[0].Body)
	})
}

// TestWalkSparseTar: sparse members expand holes without input. The files
// were made by GNU tar 1.34 (`truncate -s 1T big; echo hi >> big;
// tar --sparse [--format=posix] -cf x.tar big`): 10 KiB claiming 1 TiB.
func TestWalkSparseTar(t *testing.T) {
	for _, name := range []string{"gnu-1tib.tar", "pax-1tib.tar"} {
		t.Run(name, func(t *testing.T) {
			p, err := filepath.Abs(filepath.Join("testdata", "sparse", name))
			require.NoError(t, err)
			var read int64
			var gs []got
			err = Walk(t.Context(), p, Options{}, func(e *Entry, r io.Reader) error {
				if r != nil {
					n, _ := io.Copy(io.Discard, r)
					read += n
				}
				gs = append(gs, got{Entry: *e})
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, []string{"big", "big ERR", "[tar] " + name + " ERR"}, lines(gs))
			assert.Equal(t, int64(1<<40+3), gs[0].Size)
			assert.Contains(t, gs[1].Err.Error(), "compression ratio exceeds cap of 200:1")
			assert.Contains(t, gs[2].Err.Error(), "compression ratio exceeds cap of 200:1")
			assert.Less(t, read, int64(17<<20))
			assert.Equal(t, fileSHA(t, p), gs[2].SHA256)
		})
	}
}
