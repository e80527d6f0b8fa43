package source

import (
	"fmt"
	"hash"
	"io"
)

// HashCounter passes reads through R, counting the bytes in N and hashing
// them into H unless H is nil.
type HashCounter struct {
	R io.Reader
	H hash.Hash
	N int64
}

func (c *HashCounter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	if c.H != nil {
		c.H.Write(p[:n])
	}
	c.N += int64(n)
	return n, err
}

// streamError says where in which layer of an archive reading failed:
// "unexpected EOF in gzip stream after 1234 bytes".
type streamError struct {
	layer string // "gzip", "zstd", "tar"
	off   int64  // bytes of that layer's input consumed
	err   error
}

func (e *streamError) Error() string {
	return fmt.Sprintf("%v in %s stream after %d bytes", e.err, e.layer, e.off)
}
func (e *streamError) Unwrap() error { return e.err }

// layerReader annotates the read errors of one layer with a streamError.
type layerReader struct {
	r     io.Reader
	layer string
	in    func() int64 // input bytes consumed so far
}

func (l *layerReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		err = &streamError{layer: l.layer, off: l.in(), err: err}
	}
	return n, err
}

// CapError reports that a decompression cap was reached.
type CapError struct {
	Ratio bool  // the ratio cap, else the output cap
	Cap   int64 // the cap: a ratio (Ratio) or bytes
	Out   int64 // bytes produced so far
	In    int64 // compressed bytes consumed so far
}

func (e *CapError) Error() string {
	if e.Ratio {
		return fmt.Sprintf("compression ratio exceeds cap of %d:1 (%d bytes from %d compressed bytes)", e.Cap, e.Out, e.In)
	}
	return fmt.Sprintf("decompressed output exceeds cap of %s", formatBytes(e.Cap))
}

// guard stops a decompressed stream at the output and ratio caps. The
// error is sticky: a decompressor is never read again after a cap is hit.
type guard struct {
	r     io.Reader
	in    func() int64 // compressed bytes consumed so far
	total *int64       // output counted against maxOut (shared by a zip's members)
	own   int64        // output of this stream, for the ratio
	max   int64
	ratio int64
	err   error
}

func (w *walker) newGuard(r io.Reader, in func() int64, total *int64) *guard {
	if total == nil {
		total = new(int64)
	}
	return &guard{r: r, in: in, total: total, max: w.opt.MaxArchiveBytes, ratio: w.opt.MaxRatio}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if left := g.max - *g.total; int64(len(p)) > left {
		p = p[:left+1] // read at most one byte past the cap
	}
	n, err := g.r.Read(p)
	*g.total += int64(n)
	g.own += int64(n)
	switch in := g.in(); {
	case *g.total > g.max:
		n -= int(*g.total - g.max)
		*g.total = g.max
		g.err = &CapError{Cap: g.max, Out: g.max, In: in}
		return n, g.err
	case g.own > ratioFloor && (g.own-1)/g.ratio >= in: // own > ratio*in, without overflow
		g.err = &CapError{Ratio: true, Cap: g.ratio, Out: g.own, In: in}
		return n, g.err
	}
	return n, err
}

// errTrack remembers the first read error other than io.EOF.
type errTrack struct {
	r   io.Reader
	err error
}

func (t *errTrack) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}
