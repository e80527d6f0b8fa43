package verify

import (
	"errors"
	"fmt"
	"io"
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
	// reader object verification uses (readEvidence).
	err := x.OnDiskLogChunks(ctx, func(chunk []store.Evidence) error {
		evs := make([]*store.Evidence, len(chunk))
		for i := range chunk {
			evs[i] = &chunk[i]
		}
		var mu sync.Mutex
		found := make(map[int64]*rehashResult, len(chunk))
		failed, err := readEvidence(ctx, evs, r.opt.Workers, func(e *store.Evidence, rd io.Reader) error {
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
		if err := r.rehashArchive(p, legacy[p], h, fresh); err != nil {
			return err
		}
	}
	n, err := x.RehashOutcome(ctx, func(e *store.Evidence, msg string, f *store.FreshHash) error {
		if f == nil {
			r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
				Summary: fmt.Sprintf("--rehash: cannot re-read %s: %s; its status rests on the hashes recorded at ingest", displayPath(e), msg),
				Detail:  map[string]any{"path": displayPath(e), "evidence_id": e.ID, "error": msg}})
			return nil
		}
		r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("--rehash: %s changed since it was ingested: SHA-256 %s, recorded %s", displayPath(e), f.SHA256, e.SHA256),
			Detail:  map[string]any{"path": displayPath(e), "evidence_id": e.ID, "expected_sha256": e.SHA256, "actual_sha256": f.SHA256}})
		return nil
	})
	r.rehashed = n
	return err
}

// rehashArchive walks the archive p once and re-hashes the log files the
// case records in it, each found again by its position (or, for rows
// recorded before positions were kept, by a name that occurs once).
func (r *run) rehashArchive(p string, hasLegacy bool, h *hasher, fresh func(int64, *rehashResult) error) error {
	ctx, x := r.ctx, r.x
	fail := func(id int64, msg string) error { return x.PutRehashFailure(ctx, id, msg) }
	byName := map[string]int{} // legacy rows: how often each name was met
	var inner error            // a write to the scratch tables that failed
	walkErr := source.Walk(ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
		if en.Container {
			return nil
		}
		want, err := x.MembersAt(ctx, p, store.EncodeMemberIndex(en.MemberIndex))
		if err != nil {
			inner = err
			return err
		}
		if hasLegacy && (en.Err == nil || rd != nil) {
			l, err := x.LegacyMembers(ctx, p, en.Member)
			if err != nil {
				inner = err
				return err
			}
			if len(l) > 0 {
				byName[en.Member]++
				want = append(want, l...)
			}
		}
		for _, id := range want {
			if en.Err != nil {
				if err := fail(id, en.Err.Error()); err != nil {
					inner = err
					return err
				}
				if err := x.MarkMemberSeen(ctx, id); err != nil {
					inner = err
					return err
				}
			}
		}
		if en.Err != nil || rd == nil || len(want) == 0 {
			return nil
		}
		// One reader, read once: every row at this position (the same
		// bytes ingested under one identity) is checked on it.
		if err := x.MarkMemberSeen(ctx, want[0]); err != nil {
			inner = err
			return err
		}
		res, err := h.hash(rd)
		if err != nil {
			var ioe errIO
			var re *source.ReadError
			if errors.As(err, &ioe) && errors.As(ioe.err, &re) {
				return re // Walk re-emits the member with Err set
			}
			if err := fail(want[0], err.Error()); err != nil {
				inner = err
				return err
			}
		} else if err := fresh(want[0], res); err != nil {
			inner = err
			return err
		}
		for _, id := range want[1:] {
			if err := x.MarkMemberSeen(ctx, id); err != nil {
				inner = err
				return err
			}
			if err := fail(id, fmt.Sprintf("member %s of archive %s is named by more than one evidence row; re-ingest the archive", en.Member, p)); err != nil {
				inner = err
				return err
			}
		}
		return nil
	})
	if inner != nil {
		return inner
	}
	if walkErr != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	// Rows the walk did not meet, and legacy rows of a name met more than
	// once.
	if hasLegacy {
		for name, n := range byName {
			if n <= 1 {
				continue
			}
			ids, err := x.LegacyMembers(ctx, p, name)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := x.PutRehashFailure(ctx, id, fmt.Sprintf("member %s occurs %d times in archive %s and this evidence row was recorded before positions were kept: which one it is cannot be told; re-ingest the archive", name, n, p)); err != nil {
					return err
				}
			}
		}
	}
	return x.UnseenMembers(ctx, p, func(u store.UnseenMember) error {
		if walkErr != nil {
			return fail(u.ID, fmt.Sprintf("walk archive %s: %v", p, walkErr))
		}
		idx := "[]"
		if u.MemberIndex.Valid {
			idx = u.MemberIndex.String
		}
		return fail(u.ID, fmt.Sprintf("member %s (position %s) not found in archive %s", u.Member, idx, p))
	})
}
