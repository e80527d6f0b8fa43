package verify

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/forensic-dev/forensic/ingest/source"
	"github.com/forensic-dev/forensic/store"
)

// rehashResult is a log file's hashes computed again from the evidence.
type rehashResult struct {
	sha         string // hex SHA-256 of the bytes as stored
	contentSHA  string // hex SHA-256 of the first gzip member's content (the bytes when not compressed)
	compression string
	trailing    bool
	err         string // the content could not be decompressed
}

// errIO marks a failure to read the evidence itself (not its content).
type errIO struct{ err error }

func (e errIO) Error() string { return e.err.Error() }

// ioReader records read errors of the underlying evidence.
type ioReader struct {
	r   io.Reader
	err error
}

func (r *ioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// hasher re-hashes stored items; one per worker, its buffers and
// decompressor reused from item to item (thousands of small log files
// would otherwise cost a fresh 64 KiB buffer and inflater state each).
type hasher struct {
	hb, hc hash.Hash
	src    ioReader
	br     *bufio.Reader
	zr     *gzip.Reader
	buf    []byte
}

func newHasher() *hasher {
	return &hasher{hb: sha256.New(), hc: sha256.New(), buf: make([]byte, 64<<10)}
}

// teeHash feeds the bytes read to the raw hash.
type teeHash struct{ h *hasher }

func (t teeHash) Read(p []byte) (int, error) {
	n, err := t.h.src.Read(p)
	t.h.hb.Write(p[:n])
	return n, err
}

// hashStream reads one stored item once: SHA-256 of its bytes and, for
// gzip, of the first member's content (Multistream off) and whether bytes
// follow it; zstd content is hashed whole. Memory is bounded by the
// buffers, whatever the item's size.
func hashStream(rd io.Reader) (*rehashResult, error) { return newHasher().hash(rd) }

func (h *hasher) hash(rd io.Reader) (*rehashResult, error) {
	h.hb.Reset()
	h.hc.Reset()
	h.src = ioReader{r: rd}
	if h.br == nil {
		h.br = bufio.NewReaderSize(teeHash{h}, 64<<10)
	} else {
		h.br.Reset(teeHash{h})
	}
	br := h.br
	res := &rehashResult{}
	magic, _ := br.Peek(4)
	hc := h.hc
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		res.compression = "gzip"
		var err error
		if h.zr == nil {
			h.zr, err = gzip.NewReader(br)
		} else {
			err = h.zr.Reset(br)
		}
		if err != nil {
			res.err = fmt.Sprintf("gzip header: %v", err)
			h.zr = nil
			break
		}
		zr := h.zr
		zr.Multistream(false)
		if _, err := io.CopyBuffer(hc, zr, h.buf); err != nil {
			res.err = fmt.Sprintf("gzip: %v", err)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				res.err = "gzip: truncated: unexpected end of data"
			}
			break
		}
		res.contentSHA = hex.EncodeToString(hc.Sum(nil))
		_, perr := br.Peek(1)
		res.trailing = perr == nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		res.compression = "zstd"
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderConcurrency(1))
		if err != nil {
			res.err = fmt.Sprintf("zstd: %v", err)
			break
		}
		_, err = io.CopyBuffer(hc, zr, h.buf)
		zr.Close()
		if err != nil {
			res.err = fmt.Sprintf("zstd: %v", err)
			break
		}
		res.contentSHA = hex.EncodeToString(hc.Sum(nil))
	}
	if _, err := io.CopyBuffer(io.Discard, br, h.buf); err != nil && h.src.err == nil {
		return nil, errIO{err}
	}
	if h.src.err != nil {
		return nil, errIO{h.src.err}
	}
	res.sha = hex.EncodeToString(h.hb.Sum(nil))
	if res.compression == "" {
		res.contentSHA = res.sha
	}
	return res, nil
}

// rehash re-reads every log file: files on disk directly (in parallel),
// archive members by walking each archive once with source.Walk. A file
// that cannot be read keeps its ingest-time hashes and gets a rehash
// finding; one whose bytes changed since ingest is judged on its new
// hashes and gets a rehash finding too.
func (r *run) rehash() error {
	r.fresh = map[int64]*rehashResult{}
	var disk []*store.Evidence
	archives := map[string]map[string]*store.Evidence{}
	for _, e := range r.in.logs {
		if e.Member == "" {
			disk = append(disk, e)
			continue
		}
		if archives[e.Path] == nil {
			archives[e.Path] = map[string]*store.Evidence{}
		}
		archives[e.Path][e.Member] = e
	}
	var mu sync.Mutex
	failed := map[int64]string{}
	record := func(e *store.Evidence, res *rehashResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed[e.ID] = err.Error()
			return
		}
		r.fresh[e.ID] = res
	}
	workers := r.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan *store.Evidence)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHasher()
			for e := range next {
				f, err := os.Open(e.Path)
				if err != nil {
					record(e, nil, err)
					continue
				}
				res, err := h.hash(f)
				f.Close()
				record(e, res, err)
			}
		}()
	}
	for _, e := range disk {
		if r.ctx.Err() != nil {
			break
		}
		next <- e
	}
	close(next)
	wg.Wait()
	if err := r.ctx.Err(); err != nil {
		return err
	}
	paths := make([]string, 0, len(archives))
	for p := range archives {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		members := archives[p]
		seen := map[string]bool{}
		h := newHasher()
		err := source.Walk(r.ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
			e := members[en.Member]
			if e == nil || en.Container {
				return nil
			}
			if en.Err != nil {
				record(e, nil, en.Err)
				seen[en.Member] = true
				return nil
			}
			if rd == nil {
				return nil
			}
			res, err := h.hash(rd)
			var ioe errIO
			if errors.As(err, &ioe) {
				var re *source.ReadError
				if errors.As(ioe.err, &re) {
					return re // Walk re-emits the member with Err set
				}
			}
			record(e, res, err)
			seen[en.Member] = true
			return nil
		})
		if err != nil && r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		for m, e := range members {
			if seen[m] {
				continue
			}
			if err != nil {
				failed[e.ID] = fmt.Sprintf("walk archive %s: %v", p, err)
			} else {
				failed[e.ID] = fmt.Sprintf("member %s not found in archive %s", m, p)
			}
		}
	}
	r.rehashed = len(r.fresh)
	byID := map[int64]*store.Evidence{}
	for _, e := range r.in.logs {
		byID[e.ID] = e
	}
	ids := make([]int64, 0, len(failed)+len(r.fresh))
	for id := range failed {
		ids = append(ids, id)
	}
	for id, res := range r.fresh {
		if res.sha != byID[id].SHA256 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		e := byID[id]
		if msg, ok := failed[id]; ok {
			r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
				Summary: fmt.Sprintf("--rehash: cannot re-read %s: %s; its status rests on the hashes recorded at ingest", displayPath(e), msg),
				Detail:  map[string]any{"path": displayPath(e), "evidence_id": id, "error": msg}})
			continue
		}
		res := r.fresh[id]
		r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("--rehash: %s changed since it was ingested: SHA-256 %s, recorded %s", displayPath(e), res.sha, e.SHA256),
			Detail:  map[string]any{"path": displayPath(e), "evidence_id": id, "expected_sha256": e.SHA256, "actual_sha256": res.sha}})
	}
	return nil
}
