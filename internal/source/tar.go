package source

import (
	"github.com/forensic-dev/forensic/internal/display"

	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/gzip"
)

// walkTar walks a tar, tar.gz or tar.zst whose raw bytes are src, then
// emits its container entry.
func (w *walker) walkTar(e Entry, src io.Reader, format string, depth int) error {
	raw := &HashCounter{R: src, H: sha256.New()}
	rawIn := func() int64 { return raw.N }
	var stream io.Reader = raw
	var archErr error
	switch format {
	case "tar.gz":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			archErr = &streamError{layer: "gzip", off: raw.N, err: err}
			break
		}
		defer zr.Close()
		stream = w.newGuard(&layerReader{r: zr, layer: "gzip", in: rawIn}, rawIn, nil)
	case "tar.zst":
		zr, err := newZstd(raw)
		if err != nil {
			archErr = &streamError{layer: "zstd", off: raw.N, err: err}
			break
		}
		defer zr.Close()
		stream = w.newGuard(&layerReader{r: zr, layer: "zstd", in: rawIn}, rawIn, nil)
	}
	if archErr == nil {
		var stop error
		archErr, stop = w.tarMembers(e, stream, depth)
		if stop != nil {
			return stop
		}
	}
	// Read the raw bytes to the end so the hash covers trailing bytes.
	rawErr := w.drain(raw)
	if err := w.ctx.Err(); err != nil {
		return err
	}
	c := container(e, format)
	if rawErr == nil {
		c.Size = raw.N
		c.SHA256 = hex.EncodeToString(raw.H.Sum(nil))
	} else if archErr == nil {
		archErr = rawErr
	}
	if archErr != nil {
		c.Err = fmt.Errorf("read %s archive: %w", format, archErr)
	}
	return w.emit(&c)
}

// tarMembers emits the members of the tar stream, then reads the stream to
// its end so that damage after the end-of-archive marker (a bad gzip CRC,
// say) is noticed. archErr is what is wrong with the archive; stop ends the
// walk.
func (w *walker) tarMembers(parent Entry, stream io.Reader, depth int) (archErr, stop error) {
	counted := &HashCounter{R: stream}
	tr := tar.NewReader(counted)
	annotate := func(err error) error {
		var se *streamError
		var ce *CapError
		if errors.As(err, &se) || errors.As(err, &ce) {
			return err
		}
		return &streamError{layer: "tar", off: counted.N, err: err}
	}
	var capped error // the first member stopped by the ratio cap
	for idx := 0; ; idx++ {
		if err := w.ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return annotate(err), nil
		}
		m := memberOf(parent, hdr.Name, idx)
		m.Size, m.Mode, m.ModTime = hdr.Size, hdr.FileInfo().Mode(), hdr.ModTime
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue // no content; pax global headers are metadata (git archive writes one)
		case tar.TypeReg, '\x00', tar.TypeCont, tar.TypeGNUSparse:
			// Sparse members (GNU or PAX) expand holes without input:
			// 10 KiB of tar can claim a 1 TiB member. The ratio cap, with
			// the member's share of the tar stream as input, stops that;
			// ordinary members are never above 1:1. The output cap is
			// left to the decompressor's guard: a plain tar is not a
			// compressed stream.
			start := counted.N - blockSize
			g := w.newGuard(tr, func() int64 { return counted.N - start }, nil)
			g.max = math.MaxInt64
			stop = w.item(m, g, nil, depth+1)
			if g.err != nil && capped == nil {
				capped = fmt.Errorf("member %s: %w", display.Quote(hdr.Name), g.err)
			}
		case tar.TypeSymlink, tar.TypeLink:
			// Mode tells them apart: fs.ModeSymlink for a symbolic
			// link, no type bits for a hard link.
			m.LinkTarget = hdr.Linkname
			stop = w.emit(&m)
		case tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
			// Special files have no content: the entry is what they
			// are, its type in Mode.
			stop = w.emit(&m)
		default:
			m.Err = fmt.Errorf("unsupported tar entry type %s", tarTypeName(hdr.Typeflag))
			stop = w.emit(&m)
		}
		if stop != nil {
			return nil, stop
		}
	}
	if err := w.drain(counted); err != nil {
		if cerr := w.ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return annotate(err), nil
	}
	return capped, nil
}

func tarTypeName(t byte) string {
	names := map[byte]string{
		tar.TypeChar:        "character device",
		tar.TypeBlock:       "block device",
		tar.TypeFifo:        "fifo",
		tar.TypeGNULongName: "GNU long name",
		tar.TypeGNULongLink: "GNU long link",
		'V':                 "GNU volume label",
		'M':                 "GNU multi-volume continuation",
		'D':                 "GNU dump directory",
	}
	if n, ok := names[t]; ok {
		return fmt.Sprintf("%q (%s)", t, n)
	}
	return fmt.Sprintf("%q", t)
}
