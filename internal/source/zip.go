package source

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/klauspost/compress/zip"
)

// maxLinkTarget bounds a zip symlink's content, which is its target.
const maxLinkTarget = 4096

// walkZipFile walks a zip on disk through f as an io.ReaderAt, after
// hashing the whole file in a streaming pass.
func (w *walker) walkZipFile(e Entry, f *os.File, depth int) error {
	c := container(e, "zip")
	raw := &HashCounter{R: io.NewSectionReader(f, 0, math.MaxInt64), H: sha256.New()}
	err := w.drain(raw)
	if cerr := w.ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		c.Err = fmt.Errorf("read zip archive: %w", pathless(err))
		return w.emit(&c)
	}
	c.Size = raw.N
	c.SHA256 = hex.EncodeToString(raw.H.Sum(nil))
	archErr, stop := w.zipArchive(e, f, raw.N, depth)
	if stop != nil {
		return stop
	}
	if archErr != nil {
		c.Err = fmt.Errorf("read zip archive: %w", archErr)
	}
	return w.emit(&c)
}

// walkZipNested walks a zip found inside another archive. A zip needs
// random access, so it is buffered in memory, within MaxNestedBuffer for
// all the nested zips being read at once (a zip inside a zip inside a
// zip holds all three); one that does not fit in what is left of it is
// read as a stream instead, in file order from its local headers, as
// zipRecover reads a zip whose central directory is damaged, and its
// container entry says so.
func (w *walker) walkZipNested(e Entry, src io.Reader, depth int) error {
	c := container(e, "zip")
	raw := &HashCounter{R: src, H: sha256.New()}
	limit := w.opt.MaxNestedBuffer - w.nested
	var archErr, stop error
	var buf bytes.Buffer
	if e.Size < 0 || e.Size <= limit {
		if e.Size >= 0 {
			buf.Grow(int(e.Size) + bytes.MinRead)
		}
		_, err := io.CopyN(&buf, raw, limit+1)
		held := int64(buf.Cap())
		w.nested += held
		switch {
		case err == io.EOF:
			archErr, stop = w.zipArchive(e, bytes.NewReader(buf.Bytes()), int64(buf.Len()), depth)
		case err == nil:
			// Larger than its header said: stream it, with what was
			// read so far in front.
			archErr, stop = w.zipStream(e, io.MultiReader(bytes.NewReader(buf.Bytes()), raw), depth, limit)
		default:
			archErr = err
		}
		w.nested -= held
	} else {
		archErr, stop = w.zipStream(e, raw, depth, limit)
	}
	if stop != nil {
		return stop
	}
	buf = bytes.Buffer{} // release before draining
	err := w.drain(raw)
	if cerr := w.ctx.Err(); cerr != nil {
		return cerr
	}
	if err == nil {
		c.Size = raw.N
		c.SHA256 = hex.EncodeToString(raw.H.Sum(nil))
	} else if archErr == nil {
		archErr = err
	}
	if archErr != nil {
		c.Err = fmt.Errorf("read zip archive: %w", archErr)
	}
	return w.emit(&c)
}

// zipStream emits the members of a nested zip too large for what is left
// of the nested-zip budget (limit), from its local headers.
func (w *walker) zipStream(e Entry, r io.Reader, depth int, limit int64) (archErr, stop error) {
	n, rerr, stop := w.zipRecover(e, bufio.NewReaderSize(r, 64<<10), depth)
	if stop != nil {
		return nil, stop
	}
	msg := fmt.Sprintf("zip inside an archive is larger than the %s left of the %s in-memory budget for nested zips: its %d members were read in file order from their local headers, not by its central directory",
		formatBytes(max(limit, 0)), formatBytes(w.opt.MaxNestedBuffer), n)
	if rerr != nil {
		return fmt.Errorf("%s, then: %w", msg, rerr), nil
	}
	return errors.New(msg), nil
}

// zipArchive emits the members of the zip held by ra, by its central
// directory, or by its local headers when the central directory cannot be
// read.
func (w *walker) zipArchive(parent Entry, ra io.ReaderAt, size int64, depth int) (archErr, stop error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		n, rerr, stop := w.zipRecover(parent, bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 64<<10), depth)
		if stop != nil {
			return nil, stop
		}
		msg := fmt.Sprintf("central directory: %v; %d members recovered from local headers", err, n)
		if rerr != nil {
			return fmt.Errorf("%s, then: %w", msg, rerr), nil
		}
		return errors.New(msg), nil
	}
	var total int64 // decompressed output of all members, against MaxArchiveBytes
	failed, files := 0, 0
	for idx, f := range zr.File {
		if err := w.ctx.Err(); err != nil {
			return nil, err
		}
		size := int64(-1)
		if f.UncompressedSize64 <= math.MaxInt64 {
			size = int64(f.UncompressedSize64)
		}
		m := memberOf(parent, f.Name, idx)
		m.Size, m.Mode, m.ModTime = size, f.Mode(), f.Modified
		mode := f.Mode()
		isDir := mode.IsDir() || strings.HasSuffix(f.Name, "/")
		if isDir && f.UncompressedSize64 == 0 {
			continue
		}
		files++
		switch {
		case isDir:
			m.Err = fmt.Errorf("zip directory entry holds %d bytes", f.UncompressedSize64)
			stop = w.emit(&m)
		case mode&fs.ModeSymlink != 0:
			m.LinkTarget, m.Err = zipLinkTarget(f)
			if m.Err != nil {
				failed++
				m.Err = fmt.Errorf("symbolic link target: %w", m.Err)
			}
			stop = w.emit(&m)
		case SpecialType(mode) != "":
			stop = w.emit(&m) // no content: the entry is what it is, its type in Mode
		case !mode.IsRegular():
			m.Err = fmt.Errorf("unsupported zip entry type (%s)", typeName(mode))
			stop = w.emit(&m)
		default:
			rc, err := f.Open()
			if err != nil {
				failed++
				m.Err = fmt.Errorf("open: %w", pathless(err))
				stop = w.emit(&m)
				break
			}
			// Stored members are guarded too: members may overlap, so
			// the output of all members together is capped.
			csize := int64(min(f.CompressedSize64, math.MaxInt64/2))
			track := &errTrack{r: w.newGuard(rc, func() int64 { return csize }, &total)}
			stop = w.item(m, track, nil, depth+1)
			rc.Close()
			if track.err != nil {
				failed++
			}
		}
		if stop != nil {
			return nil, stop
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d members could not be read", failed, files), nil
	}
	return nil, nil
}

func zipLinkTarget(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxLinkTarget {
		return "", fmt.Errorf("symbolic link target longer than %d bytes", maxLinkTarget)
	}
	return string(b), nil
}
