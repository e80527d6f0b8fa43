// Package hashing computes the hashes every evidence item gets, in one pass
// over its bytes, for ingest (buffered and streamed items alike) and for
// verify --rehash, so that the same bytes get the same hashes and the same
// verdict on every path:
//
//   - the SHA-256 of the bytes as received;
//   - for gzip (magic 1f 8b), the SHA-256 of the first member's decompressed
//     content, read with multistream off — what a CloudTrail digest's
//     hashValue covers, and all awscli reads — and whether any byte follows
//     that member (Result.Trailing);
//   - for zstd (magic 28 b5 2f fd), the SHA-256 of the whole decompressed
//     content (every frame).
//
// Decompression is guarded against bombs: reading stops with an error once
// the content passes Limits.MaxContent, or once it passes RatioFloor and
// more than Limits.MaxRatio times the compressed bytes the decompressor has
// consumed so far. zstd frames may use a window of at most MaxZstdWindow,
// which bounds the decoder's memory.
//
// A Hasher is the content of one item at a time: Open it on the bytes as
// received, Read the content (decompressed, or the bytes themselves when
// uncompressed) as far as the caller likes, then Finish, which reads the
// rest and returns the Result. A Hasher keeps its buffers and decompressors
// from item to item (thousands of small log files would otherwise cost a
// fresh buffer and inflater state each); it is not safe for concurrent use.
package hashing

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Defaults and fixed bounds.
const (
	// DefaultMaxContent caps the content one compressed item may inflate
	// to (decompression-bomb guard).
	DefaultMaxContent = 16 << 30
	// DefaultMaxRatio caps content:compressed once the content passes
	// RatioFloor. Real CloudTrail gzip runs at 5-20:1.
	DefaultMaxRatio = 1000
	// RatioFloor is the content size below which the ratio cap does not
	// apply: small repetitive files legitimately compress far beyond it.
	RatioFloor = 64 << 20
	// MaxZstdWindow bounds a zstd frame's window, and so the decoder's
	// memory (enough for zstd --long=27 and --ultra -22).
	MaxZstdWindow = 128 << 20
	// bufSize is the read buffer over the bytes as received.
	bufSize = 64 << 10
)

// Compression names, as stored in evidence.compression.
const (
	Gzip = "gzip"
	Zstd = "zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Limits are the decompression caps; zero fields take the defaults.
type Limits struct {
	MaxContent int64 // content bytes, see DefaultMaxContent
	MaxRatio   int64 // see DefaultMaxRatio
}

func (l Limits) withDefaults() Limits {
	if l.MaxContent <= 0 {
		l.MaxContent = DefaultMaxContent
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return l
}

// Result is what one item hashed to.
type Result struct {
	SHA256      string // hex SHA-256 of the bytes as received
	Size        int64  // bytes as received
	Compression string // "", Gzip or Zstd
	// ContentSHA256 is the hex SHA-256 of the content (first gzip member,
	// whole zstd stream); empty when uncompressed or when the content
	// could not be read to its end (ContentErr says why).
	ContentSHA256 string
	ContentSize   int64 // content bytes read (up to the failure, if any)
	Trailing      bool  // gzip: bytes follow the first member
	// ContentErr is why the content could not be read to its end: a bad
	// header, corrupt or truncated data, or a cap. The bytes as received
	// are hashed regardless.
	ContentErr error
}

// Hasher hashes one item at a time; see the package documentation.
type Hasher struct {
	lim Limits
	src counter
	br  *bufio.Reader
	gz  *gzip.Reader
	zd  *zstd.Decoder
	hc  hash.Hash
	buf []byte

	// The item being read.
	known string    // the caller's SHA-256 of the bytes as received, if any
	comp  string    // compression
	dec   io.Reader // the decompressor; nil when uncompressed or failed
	n     int64     // content bytes read
	cerr  error     // content error, sticky
	eof   bool      // the content was read to its end
}

// counter passes the bytes as received through, counting and hashing them
// and remembering the first read error.
type counter struct {
	r    io.Reader
	h    hash.Hash
	hash bool
	n    int64
	err  error
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.hash {
		c.h.Write(p[:n])
	}
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// New returns a Hasher enforcing lim.
func New(lim Limits) *Hasher {
	return &Hasher{lim: lim.withDefaults(), src: counter{h: sha256.New()}, hc: sha256.New()}
}

// Open starts an item whose bytes as received are read from raw. When the
// caller has already computed the SHA-256 of exactly these bytes (it read
// them into memory), knownSHA256 saves hashing them again; otherwise pass "".
func (h *Hasher) Open(raw io.Reader, knownSHA256 string) {
	h.src.r, h.src.n, h.src.err = raw, 0, nil
	h.src.hash = knownSHA256 == ""
	h.src.h.Reset()
	h.hc.Reset()
	h.known, h.comp, h.dec, h.n, h.cerr, h.eof = knownSHA256, "", nil, 0, nil, false
	if h.br == nil {
		h.br = bufio.NewReaderSize(&h.src, bufSize)
	} else {
		h.br.Reset(&h.src)
	}
	magic, _ := h.br.Peek(4) // a read error is kept in src.err
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		h.comp = Gzip
		var err error
		if h.gz == nil {
			h.gz, err = gzip.NewReader(h.br)
		} else {
			err = h.gz.Reset(h.br)
		}
		if err != nil {
			h.gz = nil // start afresh next time
			h.failHeader(fmt.Errorf("gzip header: %w", err))
			return
		}
		h.gz.Multistream(false)
		h.dec = h.gz
	case bytes.HasPrefix(magic, zstdMagic):
		h.comp = Zstd
		var err error
		if h.zd == nil {
			h.zd, err = zstd.NewReader(h.br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxWindow(MaxZstdWindow), zstd.WithDecoderMaxMemory(MaxZstdWindow))
		} else {
			err = h.zd.Reset(h.br)
		}
		if err != nil {
			if h.zd != nil {
				h.zd.Close()
			}
			h.zd = nil
			h.failHeader(fmt.Errorf("zstd: %w", err))
			return
		}
		h.dec = h.zd
	}
}

// Compression is the item's compression: "", Gzip or Zstd.
func (h *Hasher) Compression() string { return h.comp }

// failHeader records a content error found by Open.
func (h *Hasher) failHeader(err error) {
	if h.src.err == nil {
		h.cerr = err
	}
}

// fail records a content error and returns it, or, when the bytes
// themselves could not be read, returns that (Finish reports it).
func (h *Hasher) fail(err error, prefix string) error {
	if h.src.err != nil {
		return h.src.err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated: unexpected end of data after %d decompressed bytes", h.n)
	}
	if !strings.HasPrefix(err.Error(), prefix+": ") { // klauspost says "gzip: invalid checksum"
		err = fmt.Errorf("%s: %w", prefix, err)
	}
	h.cerr = err
	h.dec = nil
	return h.cerr
}

// Read reads the item's content: decompressed, or the bytes as received
// when uncompressed. A failure to read the bytes themselves is returned as
// the reader gave it (a *source.ReadError from an archive, say); a content
// error is returned from then on, and is also Result.ContentErr.
func (h *Hasher) Read(p []byte) (int, error) {
	if h.cerr != nil {
		return 0, h.cerr
	}
	if h.comp == "" {
		n, err := h.br.Read(p)
		if err != nil && err != io.EOF && h.src.err != nil {
			return n, h.src.err
		}
		return n, err
	}
	if h.src.err != nil {
		return 0, h.src.err
	}
	if h.dec == nil || h.eof {
		return 0, io.EOF
	}
	n, err := h.dec.Read(p)
	if n > 0 {
		h.hc.Write(p[:n])
		h.n += int64(n)
		if h.n > h.lim.MaxContent {
			h.cerr = fmt.Errorf("%s: decompressed output exceeds cap of %s (decompression bomb guard)", h.comp, FormatBytes(h.lim.MaxContent))
			h.dec = nil
			return n, h.cerr
		}
		if in := h.consumed(); h.n > RatioFloor && in > 0 && h.n/in > h.lim.MaxRatio {
			h.cerr = fmt.Errorf("%s: compression ratio exceeds cap of %d:1 after %s (decompression bomb guard)", h.comp, h.lim.MaxRatio, FormatBytes(h.n))
			h.dec = nil
			return n, h.cerr
		}
	}
	switch {
	case err == io.EOF:
		h.eof = true
	case err != nil:
		return n, h.fail(err, h.comp)
	}
	return n, err
}

// consumed is how many bytes as received the decompressor has taken.
func (h *Hasher) consumed() int64 { return h.src.n - int64(h.br.Buffered()) }

// Capture reads the rest of the content, appended to dst, up to limit bytes
// in all; past the limit it goes on reading (and hashing) without keeping
// anything and reports complete = false. reserve, when set, is called with
// the new capacity before dst grows, so the caller can count the memory
// against a budget. err is the Read error that ended the content, if any.
func (h *Hasher) Capture(dst []byte, limit int64, reserve func(capacity int64)) (content []byte, complete bool, err error) {
	for {
		if int64(len(dst)) > limit {
			break
		}
		if len(dst) == cap(dst) {
			c := min(max(2*int64(cap(dst)), 64<<10), limit+1)
			if reserve != nil {
				reserve(c)
			}
			nb := make([]byte, len(dst), c)
			copy(nb, dst)
			dst = nb
		}
		n, rerr := h.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if rerr == io.EOF && int64(len(dst)) <= limit {
			return dst, true, nil
		}
		if rerr == io.EOF {
			return nil, false, nil
		}
		if rerr != nil {
			return dst, false, rerr
		}
	}
	// Over the limit: hash the rest, keep nothing.
	for {
		_, rerr := h.Read(h.scratch())
		if rerr == io.EOF {
			return nil, false, nil
		}
		if rerr != nil {
			return nil, false, rerr
		}
	}
}

func (h *Hasher) scratch() []byte {
	if h.buf == nil {
		h.buf = make([]byte, bufSize)
	}
	return h.buf
}

// Finish reads what the caller left of the content and of the bytes as
// received and returns the item's hashes. err is a failure to read the
// bytes themselves (as the reader gave it); the Result then holds what was
// learnt before it, without SHA256.
func (h *Hasher) Finish() (Result, error) {
	for h.dec != nil && !h.eof && h.cerr == nil {
		if _, err := h.Read(h.scratch()); err != nil {
			break
		}
	}
	res := Result{Compression: h.comp, ContentSize: h.n, ContentErr: h.cerr}
	if h.comp != "" && h.eof && h.cerr == nil {
		res.ContentSHA256 = hex.EncodeToString(h.hc.Sum(nil))
		if h.comp == Gzip {
			_, perr := h.br.Peek(1)
			res.Trailing = perr == nil
		}
	}
	for h.src.err == nil {
		if _, err := h.br.Read(h.scratch()); err != nil {
			break
		}
	}
	h.src.r = nil
	if h.src.err != nil {
		return res, h.src.err
	}
	res.Size = h.src.n
	res.SHA256 = h.known
	if res.SHA256 == "" {
		res.SHA256 = hex.EncodeToString(h.src.h.Sum(nil))
	}
	return res, nil
}

// Close releases the decompressors.
func (h *Hasher) Close() {
	if h.zd != nil {
		h.zd.Close()
		h.zd = nil
	}
}

// Hash reads r once and returns its hashes.
func Hash(r io.Reader, lim Limits) (Result, error) {
	h := New(lim)
	defer h.Close()
	h.Open(r, "")
	return h.Finish()
}

// FormatBytes renders a size for messages: "16 GiB", "256 MiB", "64.5 MiB",
// "1000 bytes".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
