package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/forensic-dev/forensic/ingest/accesslog"
	"github.com/forensic-dev/forensic/ingest/cloudtrail"
	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/ingest/source"
	"github.com/forensic-dev/forensic/store"
)

// streamBatch is how many access-log lines go to the writer at a time
// when a large file is streamed.
const streamBatch = 10000

// stream handles an item too large to buffer: it hashes the bytes as
// received and, for gzip or zstd, the content, in one pass; an access log
// is parsed line by line as it streams; anything else large is recorded
// with its hashes and the reason it was not parsed.
func (r *run) stream(root string, e *source.Entry, rd io.Reader) (string, error) {
	raw := &source.HashCounter{R: rd, H: sha256.New()}
	br := bufio.NewReaderSize(raw, 1<<20)
	magic, _ := br.Peek(4)
	ev := r.base(e, store.KindUnknown)
	var content *source.HashCounter
	var closeZ func()
	var zerr error
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		ev.Compression = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			zerr = fmt.Errorf("gzip header: %w", err)
			break
		}
		zr.Multistream(false)
		content = &source.HashCounter{R: &cappedReader{r: zr, raw: raw, opt: &r.opt}, H: sha256.New()}
	case bytes.HasPrefix(magic, zstdMagic):
		ev.Compression = "zstd"
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderConcurrency(1))
		if err != nil {
			zerr = fmt.Errorf("zstd: %w", err)
			break
		}
		closeZ = zr.Close
		content = &source.HashCounter{R: &cappedReader{r: zr, raw: raw, opt: &r.opt}, H: sha256.New()}
	}
	var cr *bufio.Reader
	if content != nil {
		cr = bufio.NewReaderSize(content, 1<<20)
	} else {
		cr = br
	}
	h, _ := cr.Peek(4096)
	name := fullName(e)
	it := &store.Item{Evidence: ev}
	tooLarge := fmt.Sprintf("item of %s is larger than the %s buffer cap and is not a line-oriented format: hashed, not parsed", humanBytes(e.Size), humanBytes(r.opt.MaxBuffered))
	var parseErr error
	streamed := false
	switch {
	case func() bool { _, _, _, ok := s3meta.Sidecar(name); return ok }():
		it.Evidence.Kind = store.KindObjectMetadata
		parseErr = fmt.Errorf("%s", tooLarge)
	case isCloudTrailName(name, &it.Evidence) || cloudtrail.LooksLikeDigest(h) || cloudtrail.LooksLikeRecords(h):
		if it.Evidence.Kind == store.KindUnknown {
			it.Evidence.Kind = store.KindCloudTrailLog
			if cloudtrail.LooksLikeDigest(h) {
				it.Evidence.Kind = store.KindCloudTrailDig
			}
		}
		parseErr = fmt.Errorf("%s", tooLarge)
	case accesslog.Looks(h) || func() bool { _, ok := accesslog.ParseKey(name); return ok && len(h) > 0 && h[0] != '{' }():
		it.Evidence.Kind = store.KindAccessLog
		streamed = true
		s := r.w.Begin(it.Evidence)
		batch := make([]store.AccessRow, 0, streamBatch)
		bad := 0
		n, err := accesslog.Parse(cr, 0, func(a *store.AccessRecord) error {
			if a.ParseError != "" {
				bad++
			}
			batch = append(batch, a.Row()) // encoded here, not on the single writer
			if len(batch) == streamBatch {
				r.streamAdd(s, batch)
				batch = make([]store.AccessRow, 0, streamBatch)
			}
			return nil
		})
		if len(batch) > 0 {
			r.streamAdd(s, batch)
		}
		it.RecordCount = n
		if err != nil {
			parseErr = fmt.Errorf("access log: %w", err)
		} else if bad > 0 {
			parseErr = fmt.Errorf("access log: %d lines could not be parsed (kept raw with their reason)", bad)
		}
		r.finishStream(e, it, raw, br, cr, content, zerr, parseErr, closeZ)
		r.count(it)
		r.items.Add(1)
		s.End(it)
		return it.Evidence.SHA256, nil
	case hasSidecar(e):
		it.Evidence.Kind = store.KindObject
		r.setObjectKey(root, e, &it.Evidence)
	}
	if !streamed {
		r.finishStream(e, it, raw, br, cr, content, zerr, parseErr, closeZ)
		r.add(it, 0)
	}
	return it.Evidence.SHA256, nil
}

// streamAdd hands a batch of a stream's rows to the writer within the
// in-flight row budget.
func (r *run) streamAdd(s *store.Stream, batch []store.AccessRow) {
	it := &store.Item{AccessRows: batch}
	n := rowsKiB(it)
	r.rows.acquire(n)
	it.Done = func() { r.rows.release(n) }
	s.Add(it)
}

// finishStream drains the content and the raw bytes so both hashes cover
// everything, and fills the evidence row.
func (r *run) finishStream(e *source.Entry, it *store.Item, raw *source.HashCounter, br, cr *bufio.Reader, content *source.HashCounter, zerr, parseErr error, closeZ func()) {
	ev := &it.Evidence
	var cerr error
	var re *source.ReadError
	if content != nil {
		switch _, err := io.Copy(io.Discard, cr); {
		case err == nil:
		case errors.As(err, &re): // the bytes under the decompressor
			cerr = err
		case errors.Is(err, io.ErrUnexpectedEOF):
			cerr = fmt.Errorf("%s: truncated: unexpected end of data after %d decompressed bytes", ev.Compression, content.N)
		default:
			cerr = fmt.Errorf("%s: %w", ev.Compression, err)
		}
		ev.ContentSHA256 = hex.EncodeToString(content.H.Sum(nil))
		ev.ContentSize = content.N
		if ev.Compression == "gzip" && cerr == nil {
			if _, err := br.Peek(1); err == nil {
				ev.GzipTrailing = true
			}
		}
		if closeZ != nil {
			closeZ()
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil && cerr == nil {
		cerr = err
		if !errors.As(err, &re) { // a ReadError says "read: ..." itself
			cerr = fmt.Errorf("read: %w", err)
		}
	}
	if cerr != nil && errors.As(cerr, &re) {
		r.streamedFailure = displayName(e)
	}
	ev.SHA256 = hex.EncodeToString(raw.H.Sum(nil))
	ev.Size = raw.N
	r.bytes.Add(raw.N)
	for _, err := range []error{zerr, cerr, parseErr} {
		if err != nil && ev.Error == "" {
			ev.Error = err.Error()
		}
	}
	if ev.Error != "" && cerr != nil && ev.Compression != "" {
		ev.ContentSHA256 = ""
	}
}

// isCloudTrailName classifies by the AWSLogs/... key shape and fills the
// evidence's key fields.
func isCloudTrailName(name string, ev *store.Evidence) bool {
	ki, ok := cloudtrail.ParseKey(name)
	if !ok {
		return false
	}
	ev.S3Key, ev.Account, ev.OrgID, ev.Region, ev.Trail, ev.Backfill = ki.Key, ki.Account, ki.OrgID, ki.Region, ki.Trail, ki.Backfill
	switch ki.Type {
	case "CloudTrail-Digest":
		ev.Kind = store.KindCloudTrailDig
	default:
		ev.Kind = store.KindCloudTrailLog
	}
	return true
}

// cappedReader enforces the decompression caps on a streamed item.
type cappedReader struct {
	r   io.Reader
	raw *source.HashCounter
	opt *Options
	n   int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.opt.MaxContent {
		return n, fmt.Errorf("decompressed output exceeds cap of %s (decompression bomb guard)", humanBytes(c.opt.MaxContent))
	}
	if c.n > ratioFloor && c.raw.N > 0 && c.n/c.raw.N > c.opt.MaxRatio {
		return n, fmt.Errorf("compression ratio exceeds cap of %d:1 after %s (decompression bomb guard)", c.opt.MaxRatio, humanBytes(c.n))
	}
	return n, err
}
