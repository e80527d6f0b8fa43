package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// readFiles reads each file on disk once, read-only, on a pool of
// workers (default GOMAXPROCS), and hands its raw bytes, as stored, to
// check, which runs concurrently. It returns, by evidence id, why each
// file could not be read: it cannot be opened or is no longer a regular
// file, or check returned an error (return errIO for a read failure).
// The error return is for cancellation only. Archive members are read by
// walkMembers.
func readFiles(ctx context.Context, evs []*store.Evidence, workers int, check func(e *store.Evidence, rd io.Reader) error) (map[int64]string, error) {
	failed := map[int64]string{}
	var mu sync.Mutex
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan *store.Evidence)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range next {
				if err := readFile(e, check); err != nil {
					mu.Lock()
					failed[e.ID] = err.Error()
					mu.Unlock()
				}
			}
		}()
	}
	for _, e := range evs {
		if ctx.Err() != nil {
			break
		}
		next <- e
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return failed, nil
}

// walkMembers walks archive p once and hands each member to read that the
// scratch tables record in it (store.MemberList, IndexLogMembers) to
// read, found again by its position, never by name: one archive may hold
// two members of one name. Rows recorded before the case kept positions
// (hasLegacy) are found by name, and only when the name occurs once (a
// first walk counts the names). Every row ends handled exactly once:
// read (read returned nil), or given to fail with why it could not be
// read — read returned errIO, the archive reported the member damaged
// (read should return a *source.ReadError it met, so that Walk emits the
// member again with Err set), another row names the same member, or the
// walk did not meet it. Any other error from read or fail stops the walk
// and is returned.
func (r *run) walkMembers(p string, hasLegacy bool, read func(id int64, rd io.Reader) error, fail func(id int64, msg string) error) error {
	ctx, x := r.ctx, r.x
	var inner error // an error of read or fail, or of the scratch tables
	abort := func(err error) error {
		inner = err
		return err
	}
	if hasLegacy {
		walkErr := source.Walk(ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
			if en.Container || en.Err != nil && rd == nil {
				return nil
			}
			if err := x.MeetLegacyName(ctx, p, en.Member); err != nil {
				return abort(err)
			}
			return nil
		})
		if inner != nil {
			return inner
		}
		if walkErr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	handle := func(id int64, msg string) error {
		if err := fail(id, msg); err != nil {
			return err
		}
		return x.MarkMemberSeen(ctx, id)
	}
	walkErr := source.Walk(ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
		if en.Container {
			return nil
		}
		want, err := x.MembersAt(ctx, p, store.EncodeMemberIndex(en.MemberIndex))
		if err != nil {
			return abort(err)
		}
		if hasLegacy && (en.Err == nil || rd != nil) {
			l, err := x.LegacyMembers(ctx, p, en.Member)
			if err != nil {
				return abort(err)
			}
			for _, m := range l {
				if m.Met > 1 {
					msg := fmt.Sprintf("member %s occurs %d times in archive %s and this evidence row was recorded before positions were kept: which one it is cannot be told; re-ingest the archive", en.Member, m.Met, p)
					if err := handle(m.ID, msg); err != nil {
						return abort(err)
					}
					continue
				}
				want = append(want, m.ID)
			}
		}
		if en.Err != nil {
			for _, id := range want {
				if err := handle(id, en.Err.Error()); err != nil {
					return abort(err)
				}
			}
			return nil
		}
		if rd == nil || len(want) == 0 {
			return nil
		}
		// One reader, read once: every row at this position (the same
		// bytes ingested under one identity) is checked on it.
		err = read(want[0], rd)
		var re *source.ReadError
		var ioe errIO
		switch {
		case errors.As(err, &re):
			return re // Walk emits the member again with Err set: nothing is handled yet
		case errors.As(err, &ioe):
			err = handle(want[0], err.Error())
		case err == nil:
			err = x.MarkMemberSeen(ctx, want[0])
		}
		if err != nil {
			return abort(err)
		}
		for _, id := range want[1:] {
			if err := handle(id, fmt.Sprintf("member %s of archive %s is named by more than one evidence row; re-ingest the archive", en.Member, p)); err != nil {
				return abort(err)
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

// readFile opens a file on disk read-only and checks it; a path that is no
// longer a regular file (replaced by a link or a named pipe, say) is not
// followed or opened.
func readFile(e *store.Evidence, check func(e *store.Evidence, rd io.Reader) error) error {
	f, err := regfile.OpenNoFollow(e.Path)
	var nr *regfile.NotRegularError
	if errors.As(err, &nr) {
		return fmt.Errorf("%s is no longer a regular file (%s)", e.Path, nr.Type)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return check(e, f)
}
