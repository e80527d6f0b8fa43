package source

import (
	"bytes"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const (
	blockSize = 512 // a tar header block

	// sniffLimit bounds the bytes read (and kept for replay) while deciding
	// whether a gzip or zstd stream holds a tar: producing 512 bytes needs
	// a few KiB of deflate input or one zstd block (at most 128 KiB).
	sniffLimit = 1 << 20

	// gzipSniffInput is the deflate input after the gzip header given to the
	// sniffing decoder: enough for the first 512 bytes of any tar (a
	// stored block needs 517 bytes, literals of a header under 600).
	gzipSniffInput = 2 << 10

	// maxZstdWindow bounds a zstd frame's window, and so the decoder's
	// history buffer: 128 MiB admits zstd --long=27 and --ultra -22.
	maxZstdWindow = 128 << 20
)

var errSniffLimit = errors.New("sniff limit reached")

// recorder passes reads through and keeps every byte read, up to limit.
type recorder struct {
	r     io.Reader
	buf   []byte
	limit int
}

func (rc *recorder) Read(p []byte) (int, error) {
	room := rc.limit - len(rc.buf)
	if room <= 0 {
		return 0, errSniffLimit
	}
	if len(p) > room {
		p = p[:room]
	}
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

// detect reads the start of r and reports the archive format it holds ("" for
// none) and the bytes it consumed, which the caller must replay before the
// rest of r. Read errors count as "not an archive"; the replay meets them
// again.
func (w *walker) detect(r io.Reader) (format string, consumed []byte) {
	rec := &recorder{r: r, limit: sniffLimit}
	var head [blockSize]byte
	n, _ := io.ReadFull(rec, head[:])
	h := head[:n]
	replay := func() io.Reader { return io.MultiReader(bytes.NewReader(h), rec) }
	switch {
	case bytes.HasPrefix(h, []byte("PK\x03\x04")), bytes.HasPrefix(h, []byte("PK\x05\x06")):
		format = "zip"
	case isTarHeader(h):
		format = "tar"
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		// A tar header deflates to a few hundred bytes; feeding the
		// decoder little input keeps it from inflating up to its 32 KiB
		// window of every .json.gz member just to look at 512 bytes.
		limit := int64(sniffLimit)
		if n, ok := gzipHeaderLen(h); ok {
			limit = int64(n) + gzipSniffInput
		}
		if w.gzipHoldsTar(io.LimitReader(replay(), limit)) {
			format = "tar.gz"
		}
	case bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		if w.zstdHoldsTar(replay()) {
			format = "tar.zst"
		}
	}
	return format, rec.buf
}

// gzipHoldsTar and zstdHoldsTar reuse one decoder per walk: sniffing runs
// to completion before anything else reads, and a fresh flate decoder costs
// about 50 KiB, which every .json.gz member would pay.
func (w *walker) gzipHoldsTar(r io.Reader) bool {
	var err error
	if w.gzSniff == nil {
		w.gzSniff, err = gzip.NewReader(r)
	} else {
		err = w.gzSniff.Reset(r)
	}
	if err != nil {
		return false
	}
	return holdsTar(w.gzSniff)
}

func (w *walker) zstdHoldsTar(r io.Reader) bool {
	var err error
	if w.zstdSniff == nil {
		w.zstdSniff, err = newZstd(r)
		if err != nil {
			w.zstdSniff = nil
		}
	} else {
		err = w.zstdSniff.Reset(r)
	}
	if err != nil {
		return false
	}
	return holdsTar(w.zstdSniff)
}

func holdsTar(r io.Reader) bool {
	var b [blockSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return false
	}
	return isTarHeader(b[:])
}

// newZstd returns a synchronous (no goroutines, no read-ahead beyond the
// current block) decoder with a bounded window.
func newZstd(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderMaxMemory(maxZstdWindow))
}

// isTarHeader reports whether b starts with a tar header block: POSIX or GNU
// magic at offset 257, or an old-style header whose checksum is valid.
func isTarHeader(b []byte) bool {
	if len(b) < blockSize {
		return false
	}
	magic := b[257:265]
	if bytes.HasPrefix(magic, []byte("ustar\x00")) || bytes.Equal(magic, []byte("ustar  \x00")) {
		return true
	}
	return tarChecksumOK(b[:blockSize])
}

// tarChecksumOK checks a header's checksum field (bytes 148..155: octal
// digits, padded with spaces or NULs) against the sum of the header bytes
// with the field itself counted as eight spaces.
func tarChecksumOK(b []byte) bool {
	field := bytes.Trim(b[148:156], " \x00")
	if len(field) == 0 {
		return false
	}
	var want int64
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	var unsigned, signed int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// gzipHeaderLen returns the length of the gzip member header at the start
// of b (RFC 1952 2.3: 10 fixed bytes, then FEXTRA, FNAME, FCOMMENT, FHCRC as
// flagged), if b holds all of it.
func gzipHeaderLen(b []byte) (int, bool) {
	if len(b) < 10 {
		return 0, false
	}
	flg, n := b[3], 10
	if flg&0x04 != 0 { // FEXTRA
		if len(b) < n+2 {
			return 0, false
		}
		n += 2 + int(b[n]) | int(b[n+1])<<8
	}
	for _, f := range []byte{0x08, 0x10} { // FNAME, FCOMMENT: zero-terminated
		if flg&f != 0 {
			if n >= len(b) {
				return 0, false
			}
			i := bytes.IndexByte(b[n:], 0)
			if i < 0 {
				return 0, false
			}
			n += i + 1
		}
	}
	if flg&0x02 != 0 { // FHCRC
		n += 2
	}
	return n, n <= len(b)
}
