package verify

import (
	"bytes"
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

// memberHooks are what walkMembers does with the members it finds.
type memberHooks struct {
	// read reads the member of row id; see walkMembers.
	read func(id int64, rd io.Reader) error
	// fail records why the member of row id could not be read.
	fail func(id int64, msg string) error
	// prefetch, if set, is told the rows the walk is about to meet, a
	// page at a time in walk order, before any of them is read or failed.
	prefetch func(ids []int64) error
}

// memberPage is how many members to read walkMembers fetches at a time.
const memberPage = 256

// walkMembers walks archive p once and hands each member to read that the
// scratch tables record in it (store.MemberList, IndexLogMembers) to
// h.read, found again by its position, never by name: one archive may
// hold two members of one name. A walk meets members in position order
// (store.MemberSortKey), so the rows are read from the scratch tables a
// page at a time in that order beside the walk, not asked for member by
// member. Rows recorded before the case kept positions (hasLegacy) are
// found by name, and only when the name occurs once (a first walk counts
// the names). Every row ends handled exactly once: read (h.read returned
// nil), or given to h.fail with why it could not be read — h.read
// returned errIO, the archive reported the member damaged (h.read should
// return a *source.ReadError it met, so that Walk emits the member again
// with Err set), another row names the same member, or the walk did not
// meet it. Any other error from h.read or h.fail stops the walk and is
// returned.
func (r *run) walkMembers(p string, hasLegacy bool, h memberHooks) error {
	ctx, x := r.ctx, r.x
	var inner error // an error of read or fail, or of the scratch tables
	abort := func(err error) error {
		inner = err
		return err
	}
	seen := x.MemberSeen()
	handle := func(id int64, msg string) error {
		if err := h.fail(id, msg); err != nil {
			return err
		}
		return seen.Add(ctx, id)
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
		rep, err := x.RepeatedLegacyMembers(ctx, p)
		if err != nil {
			return err
		}
		for _, m := range rep {
			msg := fmt.Sprintf("member %s occurs %d times in archive %s and this evidence row was recorded before positions were kept: which one it is cannot be told; re-ingest the archive", m.Member, m.Met, p)
			if err := handle(m.ID, msg); err != nil {
				return err
			}
		}
		if err := seen.Flush(ctx); err != nil {
			return err
		}
	}
	cur := &memberCursor{r: r, path: p, prefetch: h.prefetch}
	var groupKey []byte         // the position last met
	var group []int64           // its rows
	handled := map[int64]bool{} // of the rows met at it (Walk may emit it again)
	walkErr := source.Walk(ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
		if en.Container {
			return nil
		}
		key := store.MemberSortKey(en.MemberIndex)
		if groupKey == nil || !bytes.Equal(key, groupKey) {
			g, err := cur.take(key)
			if err != nil {
				return abort(err)
			}
			groupKey, group = key, g
			clear(handled)
		}
		var want []int64
		for _, id := range group {
			if !handled[id] {
				want = append(want, id)
			}
		}
		if hasLegacy && (en.Err == nil || rd != nil) {
			l, err := x.LegacyMembers(ctx, p, en.Member)
			if err != nil {
				return abort(err)
			}
			for _, m := range l {
				if !handled[m.ID] {
					want = append(want, m.ID)
				}
			}
		}
		done := func(id int64, msg string) error {
			handled[id] = true
			if msg == "" {
				return seen.Add(ctx, id)
			}
			return handle(id, msg)
		}
		if en.Err != nil {
			for _, id := range want {
				if err := done(id, en.Err.Error()); err != nil {
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
		err := h.read(want[0], rd)
		var re *source.ReadError
		var ioe errIO
		switch {
		case errors.As(err, &re):
			return re // Walk emits the member again with Err set: nothing is handled yet
		case errors.As(err, &ioe):
			err = done(want[0], err.Error())
		case err == nil:
			err = done(want[0], "")
		}
		if err != nil {
			return abort(err)
		}
		for _, id := range want[1:] {
			if err := done(id, fmt.Sprintf("member %s of archive %s is named by more than one evidence row; re-ingest the archive", en.Member, p)); err != nil {
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
	if err := seen.Flush(ctx); err != nil {
		return err
	}
	return x.UnseenMembers(ctx, p, func(u store.UnseenMember) error {
		if walkErr != nil {
			return h.fail(u.ID, fmt.Sprintf("walk archive %s: %v", p, walkErr))
		}
		idx := "[]"
		if u.MemberIndex.Valid {
			idx = u.MemberIndex.String
		}
		return h.fail(u.ID, fmt.Sprintf("member %s (position %s) not found in archive %s", u.Member, idx, p))
	})
}

// memberCursor reads an archive's members to read in position order, a
// page at a time, beside a walk.
type memberCursor struct {
	r        *run
	path     string
	prefetch func([]int64) error
	page     []store.PositionedMember
	next     int
	lastKey  []byte
	lastID   int64
	done     bool
}

// take returns the rows at position key, passing over those at earlier
// positions (the walk did not meet them: they stay unseen).
func (c *memberCursor) take(key []byte) ([]int64, error) {
	var out []int64
	for {
		if c.next == len(c.page) {
			if err := c.fill(); err != nil {
				return nil, err
			}
			if c.next == len(c.page) {
				return out, nil
			}
		}
		m := c.page[c.next]
		switch bytes.Compare(m.Key, key) {
		case -1:
			c.next++
		case 0:
			out = append(out, m.ID)
			c.next++
		default:
			return out, nil
		}
	}
}

func (c *memberCursor) fill() error {
	if c.done {
		return nil
	}
	page, err := c.r.x.MembersAfter(c.r.ctx, c.path, c.lastKey, c.lastID, memberPage)
	if err != nil {
		return err
	}
	c.page, c.next = page, 0
	if len(page) < memberPage {
		c.done = true
	}
	if len(page) == 0 {
		return nil
	}
	last := page[len(page)-1]
	c.lastKey, c.lastID = last.Key, last.ID
	if c.prefetch != nil {
		ids := make([]int64, len(page))
		for i, m := range page {
			ids[i] = m.ID
		}
		return c.prefetch(ids)
	}
	return nil
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
