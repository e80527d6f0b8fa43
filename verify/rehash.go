package verify

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/forensic-dev/forensic/internal/hashing"
	"github.com/forensic-dev/forensic/internal/source"
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

// rehash re-reads every log file: files on disk directly (in parallel),
// archive members by walking each archive once with source.Walk (found
// again by position, never by name). A file that cannot be read keeps its
// ingest-time hashes and gets a rehash finding; one whose bytes differ
// from the ingested ones is changed_since_ingest (its indexed events are
// not verified) and gets a rehash finding too; the others are judged on
// the hashes just computed, not on those the case records.
func (r *run) rehash() error {
	r.fresh = map[int64]*rehashResult{}
	evs, err := r.c.EvidenceOfKinds(r.ctx, store.KindCloudTrailLog)
	if err != nil {
		return err
	}
	logs := make([]*store.Evidence, len(evs))
	for i := range evs {
		logs[i] = &evs[i]
	}
	var mu sync.Mutex
	hashers := sync.Pool{New: func() any { return newHasher() }}
	failed, err := readEvidence(r.ctx, logs, r.opt.Workers, func(e *store.Evidence, rd io.Reader) error {
		h := hashers.Get().(*hasher)
		defer hashers.Put(h)
		res, err := h.hash(rd)
		if err != nil {
			var ioe errIO
			var re *source.ReadError
			if errors.As(err, &ioe) && errors.As(ioe.err, &re) {
				return re // Walk re-emits the member with Err set
			}
			return err
		}
		mu.Lock()
		r.fresh[e.ID] = res
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for id := range failed {
		delete(r.fresh, id) // what could not be read exactly is not judged on a guess
	}
	r.rehashed = len(r.fresh)
	byID := map[int64]*store.Evidence{}
	for _, e := range logs {
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
