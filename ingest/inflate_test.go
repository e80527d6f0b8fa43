package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInflateCaps checks the content, hash and size inflate returns, and
// its caps, at the edges of the parse cap, whatever size the gzip trailer
// claims (the buffer is sized from it).
func TestInflateCaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	content := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh{}\":,"[rng.IntN(13)]
		}
		return b
	}
	const parseCap = 200 << 10
	for _, n := range []int{0, 1, 1000, parseCap - 1, parseCap, parseCap + 1, 3 * parseCap} {
		body := content(n)
		sum := sha256.Sum256(body)
		gz := gz(t, body)
		zst, err := zstd.NewWriter(nil)
		require.NoError(t, err)
		for name, data := range map[string][]byte{"gzip": gz, "zstd": zst.EncodeAll(body, nil)} {
			r := &run{opt: Options{MaxParse: parseCap}}
			r.opt.defaults()
			out := r.inflate(data)
			assert.Equal(t, hex.EncodeToString(sum[:]), out.sha, "%s %d", name, n)
			assert.Equal(t, int64(n), out.size, "%s %d", name, n)
			assert.Equal(t, name, out.compression)
			if n > parseCap {
				assert.ErrorIs(t, out.err, errTooLarge, "%s %d", name, n)
				assert.Nil(t, out.data)
				continue
			}
			require.NoError(t, out.err, "%s %d", name, n)
			assert.True(t, bytes.Equal(body, out.data), "%s %d: content differs", name, n)
		}
	}

	// A trailer that lies about the size: the content is still read whole
	// (and the gzip reader reports the mismatch), and a huge claim does
	// not make a huge buffer.
	body := content(5000)
	for _, claim := range []uint32{0, 10, 4999, 5001, 1 << 31} {
		gz := gz(t, body)
		binary.LittleEndian.PutUint32(gz[len(gz)-4:], claim)
		r := &run{opt: Options{}}
		r.opt.defaults()
		out := r.inflate(gz)
		require.Error(t, out.err, "claim %d", claim)
		assert.Contains(t, out.err.Error(), "gzip")
	}

	// The decompression caps still apply.
	zeros := gz(t, make([]byte, 3<<20))
	r := &run{opt: Options{MaxContent: 1 << 20}}
	r.opt.defaults()
	out := r.inflate(zeros)
	assert.ErrorContains(t, out.err, "decompressed output exceeds cap of 1 MiB")
	r = &run{opt: Options{MaxRatio: 10}}
	r.opt.defaults()
	out = r.inflate(gz(t, make([]byte, ratioFloor+(1<<20))))
	assert.ErrorContains(t, out.err, "compression ratio exceeds cap of 10:1")
}
