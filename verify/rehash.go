package verify

import (
	"fmt"
	"io"
	"sync"

	"github.com/forensic-dev/forensic/internal/hashing"
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

func (e errIO) Unwrap() error { return e.err }

// hasher re-hashes stored items with internal/hashing, the implementation
// ingest hashed them with; one per worker, its buffers and decompressors
// reused from item to item (thousands of small log files would otherwise
// cost a fresh 64 KiB buffer and inflater state each).
type hasher struct{ h *hashing.Hasher }

func newHasher() *hasher { return &hasher{h: hashing.New(hashing.Limits{})} }

// hashStream reads one stored item once: SHA-256 of its bytes and, for
// gzip, of the first member's content (Multistream off) and whether bytes
// follow it; zstd content is hashed whole. Memory is bounded by the
// buffers, whatever the item's size.
func hashStream(rd io.Reader) (*rehashResult, error) {
	h := newHasher()
	defer h.h.Close()
	return h.hash(rd)
}

func (h *hasher) hash(rd io.Reader) (*rehashResult, error) {
	h.h.Open(rd, "")
	res, err := h.h.Finish()
	if err != nil {
		return nil, errIO{err}
	}
	out := &rehashResult{sha: res.SHA256, contentSHA: res.ContentSHA256, compression: res.Compression, trailing: res.Trailing}
	if res.ContentErr != nil {
		out.err = res.ContentErr.Error()
	}
	if res.Compression == "" {
		out.contentSHA = res.SHA256
	}
	return out, nil
}

// rehash re-reads every log file: files on disk directly (in parallel,
// a chunk at a time), archive members by walking each archive once with
// source.Walk (found again by position, never by name). A file that
// cannot be read keeps its ingest-time hashes and gets a rehash finding;
// one whose bytes differ from the ingested ones is changed_since_ingest
// (its indexed events are not verified) and gets a rehash finding too;
// the others are judged on the hashes just computed, not on those the
// case records. What it finds goes to the scratch tables (store/rehash.go)
// and the logs pass reads it back a chunk at a time: memory does not grow
// with the number of log files.
func (r *run) rehash() error {
	ctx, x := r.ctx, r.x
	if err := x.IndexLogMembers(ctx); err != nil {
		return err
	}
	fresh := func(id int64, res *rehashResult) error {
		return x.PutFresh(ctx, id, store.FreshHash{SHA256: res.sha, ContentSHA256: res.contentSHA,
			Compression: res.compression, Trailing: res.trailing, Err: res.err})
	}
	hashers := sync.Pool{New: func() any { return newHasher() }}
	// Files on disk: a chunk at a time, read on every worker by the
	// reader object verification uses (readFiles).
	err := x.OnDiskLogChunks(ctx, func(chunk []store.Evidence) error {
		evs := make([]*store.Evidence, len(chunk))
		for i := range chunk {
			evs[i] = &chunk[i]
		}
		var mu sync.Mutex
		found := make(map[int64]*rehashResult, len(chunk))
		failed, err := readFiles(ctx, evs, r.opt.Workers, func(e *store.Evidence, rd io.Reader) error {
			h := hashers.Get().(*hasher)
			defer hashers.Put(h)
			res, err := h.hash(rd)
			if err != nil {
				return err
			}
			mu.Lock()
			found[e.ID] = res
			mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range evs {
			if msg, ok := failed[e.ID]; ok {
				if err := x.PutRehashFailure(ctx, e.ID, msg); err != nil {
					return err
				}
			} else if res := found[e.ID]; res != nil {
				if err := fresh(e.ID, res); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Archive members: each archive walked once.
	paths, legacy, err := x.MemberArchives(ctx)
	if err != nil {
		return err
	}
	h := newHasher()
	defer h.h.Close()
	for _, p := range paths {
		err := r.walkMembers(p, legacy[p], memberHooks{
			read: func(id int64, rd io.Reader) error {
				res, err := h.hash(rd)
				if err != nil {
					return err // errIO
				}
				return fresh(id, res)
			},
			fail: func(id int64, msg string) error { return x.PutRehashFailure(ctx, id, msg) },
		})
		if err != nil {
			return err
		}
	}
	n, err := x.RehashOutcome(ctx, func(e *store.Evidence, msg string, f *store.FreshHash) error {
		if f == nil {
			r.addFinding(Finding{Type: FindingRehash, Severity: SeverityError,
				Summary: fmt.Sprintf("--rehash: cannot re-read %s: %s; its status rests on the hashes recorded at ingest", displayPath(e), msg),
				Detail:  map[string]any{"path": displayPath(e), "evidence_id": e.ID, "error": msg}})
			return nil
		}
		r.addFinding(Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("--rehash: %s changed since it was ingested: SHA-256 %s, recorded %s", displayPath(e), f.SHA256, e.SHA256),
			Detail:  map[string]any{"path": displayPath(e), "evidence_id": e.ID, "expected_sha256": e.SHA256, "actual_sha256": f.SHA256}})
		return nil
	})
	r.rehashed = n
	return err
}
