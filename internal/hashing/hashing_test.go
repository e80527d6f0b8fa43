package hashing

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func noise(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefgh{}\":,"[rng.IntN(13)]
	}
	return b
}

// TestHash: both hashes, the trailing flag and the content errors, for
// every shape of item, through a reused Hasher and a fresh one alike.
func TestHash(t *testing.T) {
	body := noise(300 << 10)
	g := gz(t, body)
	flipped := bytes.Clone(g)
	flipped[len(flipped)/2] ^= 1
	badCRC := bytes.Clone(g)
	badCRC[len(badCRC)-8] ^= 1
	tests := []struct {
		name        string
		in          []byte
		compression string
		content     []byte // nil: no content hash
		trailing    bool
		err         string // ContentErr contains
	}{
		{"plain", body, "", nil, false, ""},
		{"empty", nil, "", nil, false, ""},
		{"gzip", g, Gzip, body, false, ""},
		{"gzip, second member", append(bytes.Clone(g), gz(t, []byte("more"))...), Gzip, body, true, ""},
		{"gzip, one trailing byte", append(bytes.Clone(g), 0), Gzip, body, true, ""},
		{"gzip, truncated", g[:len(g)/2], Gzip, nil, false, "gzip: truncated: unexpected end of data after"},
		{"gzip, truncated trailer", g[:len(g)-3], Gzip, nil, false, "gzip: truncated"},
		{"gzip, one byte changed", flipped, Gzip, nil, false, "gzip: "},
		{"gzip, bad checksum", badCRC, Gzip, nil, false, "gzip: "},
		{"gzip, bad header", []byte{0x1f, 0x8b, 0, 0}, Gzip, nil, false, "gzip header: "},
		{"zstd", zst(t, body), Zstd, body, false, ""},
		{"zstd, two frames", append(zst(t, body[:1000]), zst(t, body[1000:])...), Zstd, body, false, ""},
		{"zstd, truncated", zst(t, body)[:1000], Zstd, nil, false, "zstd: "},
	}
	reused := New(Limits{})
	defer reused.Close()
	for _, tt := range tests {
		for name, h := range map[string]*Hasher{"reused": reused, "fresh": New(Limits{})} {
			h.Open(iotest.HalfReader(bytes.NewReader(tt.in)), "")
			res, err := h.Finish()
			require.NoError(t, err, tt.name)
			assert.Equal(t, sum(tt.in), res.SHA256, "%s %s", tt.name, name)
			assert.Equal(t, int64(len(tt.in)), res.Size, tt.name)
			assert.Equal(t, tt.compression, res.Compression, tt.name)
			assert.Equal(t, tt.trailing, res.Trailing, tt.name)
			if tt.content != nil {
				assert.Equal(t, sum(tt.content), res.ContentSHA256, "%s %s", tt.name, name)
				assert.Equal(t, int64(len(tt.content)), res.ContentSize, tt.name)
			} else {
				assert.Empty(t, res.ContentSHA256, tt.name)
			}
			if tt.err == "" {
				assert.NoError(t, res.ContentErr, tt.name)
			} else {
				assert.ErrorContains(t, res.ContentErr, tt.err, tt.name)
			}
		}
	}
}

// TestHashRead: Read yields the content, and whatever the caller leaves
// unread still counts in the hashes.
func TestHashRead(t *testing.T) {
	body := noise(200 << 10)
	h := New(Limits{})
	defer h.Close()
	for _, in := range [][]byte{body, gz(t, body), zst(t, body)} {
		h.Open(bytes.NewReader(in), "")
		got, err := io.ReadAll(h)
		require.NoError(t, err)
		assert.Equal(t, body, got)
		res, err := h.Finish()
		require.NoError(t, err)
		assert.Equal(t, sum(in), res.SHA256)

		h.Open(bytes.NewReader(in), "")
		part := make([]byte, 1000)
		_, err = io.ReadFull(h, part)
		require.NoError(t, err)
		res2, err := h.Finish()
		require.NoError(t, err)
		assert.Equal(t, res, res2, "a partial read hashes the same")
	}
	// A known SHA-256 is taken as given.
	h.Open(bytes.NewReader(body), "given")
	res, err := h.Finish()
	require.NoError(t, err)
	assert.Equal(t, "given", res.SHA256)
}

// TestHashCapture: the content up to a limit, with reserve told of every
// growth; past the limit nothing is kept and the hashes are still whole.
func TestHashCapture(t *testing.T) {
	body := noise(100 << 10)
	h := New(Limits{})
	for _, limit := range []int64{0, 1000, 100<<10 - 1, 100 << 10, 1 << 20} {
		h.Open(bytes.NewReader(gz(t, body)), "")
		var reserved int64
		content, complete, err := h.Capture(nil, limit, func(n int64) {
			assert.Greater(t, n, reserved)
			reserved = n
		})
		require.NoError(t, err)
		res, err := h.Finish()
		require.NoError(t, err)
		assert.Equal(t, sum(body), res.ContentSHA256, "limit %d", limit)
		if limit < int64(len(body)) {
			assert.False(t, complete, "limit %d", limit)
			assert.True(t, content == nil, "limit %d: content kept past the limit", limit)
			continue
		}
		assert.True(t, complete, "limit %d", limit)
		assert.True(t, bytes.Equal(body, content), "limit %d: content differs", limit)
		assert.LessOrEqual(t, reserved, limit+1)
		assert.GreaterOrEqual(t, reserved, int64(cap(content)))
	}
}

// TestHashCaps: the decompression caps stop the content, not the hashing
// of the bytes as received.
func TestHashCaps(t *testing.T) {
	zeros := gz(t, make([]byte, 3<<20))
	res, err := Hash(bytes.NewReader(zeros), Limits{MaxContent: 1 << 20})
	require.NoError(t, err)
	assert.EqualError(t, res.ContentErr, "gzip: decompressed output exceeds cap of 1 MiB (decompression bomb guard)")
	assert.Empty(t, res.ContentSHA256)
	assert.Equal(t, sum(zeros), res.SHA256)

	big := gz(t, make([]byte, RatioFloor+(1<<20)))
	res, err = Hash(bytes.NewReader(big), Limits{MaxRatio: 10})
	require.NoError(t, err)
	assert.ErrorContains(t, res.ContentErr, "gzip: compression ratio exceeds cap of 10:1 after ")
	assert.Equal(t, sum(big), res.SHA256)
	res, err = Hash(bytes.NewReader(big), Limits{MaxRatio: 2000})
	require.NoError(t, err)
	assert.NoError(t, res.ContentErr, "zeros compress at about 1030:1")
	assert.Equal(t, sum(make([]byte, RatioFloor+(1<<20))), res.ContentSHA256)

	zbig := zst(t, make([]byte, 2<<20))
	res, err = Hash(bytes.NewReader(zbig), Limits{MaxContent: 1 << 20})
	require.NoError(t, err)
	assert.EqualError(t, res.ContentErr, "zstd: decompressed output exceeds cap of 1 MiB (decompression bomb guard)")
}

// TestHashReadError: an error reading the bytes as received is returned
// as the reader gave it, by Read and by Finish, never taken for damaged
// content.
func TestHashReadError(t *testing.T) {
	boom := errors.New("boom")
	body := noise(100 << 10)
	for _, in := range [][]byte{body, gz(t, body), zst(t, body)} {
		for _, cut := range []int{0, 2, 10, len(in) / 2} {
			h := New(Limits{})
			h.Open(io.MultiReader(bytes.NewReader(in[:cut]), iotest.ErrReader(boom)), "")
			_, rerr := io.ReadAll(h)
			assert.ErrorIs(t, rerr, boom, "cut %d", cut)
			res, err := h.Finish()
			assert.ErrorIs(t, err, boom, "cut %d", cut)
			assert.Empty(t, res.SHA256)
			assert.NoError(t, res.ContentErr)
			h.Close()
		}
	}
}

// FuzzHash: whatever the bytes, the bytes' SHA-256 is exact and, for gzip,
// the content hash and trailing flag agree with compress/gzip reading the
// first member.
func FuzzHash(f *testing.F) {
	one := gz(f, []byte(`{"Records":[]}`))
	f.Add(one)
	f.Add(append(bytes.Clone(one), one...))
	f.Add(one[:len(one)/2])
	f.Add([]byte(`{"Records":[]}`))
	f.Add(zst(f, []byte(strings.Repeat("x", 100))))
	f.Add([]byte{})
	h := New(Limits{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h.Open(bytes.NewReader(data), "")
		res, err := h.Finish()
		if err != nil {
			t.Fatalf("Finish: %v (a bytes.Reader cannot fail)", err)
		}
		if res.SHA256 != sum(data) {
			t.Fatalf("SHA256 = %s, want %s", res.SHA256, sum(data))
		}
		if res.Compression != Gzip || res.ContentErr != nil {
			return
		}
		br := bytes.NewReader(data)
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatalf("read a gzip header compress/gzip rejects: %v", err)
		}
		zr.Multistream(false)
		content, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("read a member compress/gzip rejects: %v", err)
		}
		if res.ContentSHA256 != sum(content) {
			t.Fatalf("ContentSHA256 = %s, want %s", res.ContentSHA256, sum(content))
		}
		if res.Trailing != (br.Len() > 0) {
			t.Fatalf("Trailing = %v, want %v", res.Trailing, br.Len() > 0)
		}
	})
}
