package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"

	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// readEvidence reads each item once and hands its raw bytes, as stored,
// to check: files on disk opened read-only by a pool of workers (default
// GOMAXPROCS), archive members by walking each archive once with
// source.Walk and taking the wanted members as they stream by (the way
// rehash re-reads log files). check runs concurrently for files on disk.
// It returns, by evidence id, why each item could not be read: the file
// cannot be opened or is no longer a regular file, check returned an
// error (return errIO for a read failure), the archive reported the
// member damaged (check should return a *source.ReadError it met, so that
// Walk emits the member again with Err set), or the member is no longer
// in its archive. The error return is for cancellation only.
func readEvidence(ctx context.Context, evs []*store.Evidence, workers int, check func(e *store.Evidence, rd io.Reader) error) (map[int64]string, error) {
	failed := map[int64]string{}
	var mu sync.Mutex
	fail := func(e *store.Evidence, msg string) {
		mu.Lock()
		failed[e.ID] = msg
		mu.Unlock()
	}
	var disk []*store.Evidence
	// Archive members are found again by their position (member_index),
	// never by name: one archive may hold two members of one name. Rows
	// recorded before the case kept positions are found by name, and
	// only when the name occurs once.
	archives := map[string]map[string][]*store.Evidence{}
	for _, e := range evs {
		if e.Member == "" {
			disk = append(disk, e)
			continue
		}
		if archives[e.Path] == nil {
			archives[e.Path] = map[string][]*store.Evidence{}
		}
		k := memberKey(e.Member, e.MemberIndex)
		archives[e.Path][k] = append(archives[e.Path][k], e)
	}
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
					fail(e, err.Error())
				}
			}
		}()
	}
	for _, e := range disk {
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
	paths := make([]string, 0, len(archives))
	for p := range archives {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		members := archives[p]
		seen := map[int64]bool{}
		byName := map[string]int{} // legacy rows: how often each name was met
		err := source.Walk(ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
			if en.Container {
				return nil
			}
			want := members[memberKey(en.Member, en.MemberIndex)]
			if legacy := members[memberKey(en.Member, nil)]; len(legacy) > 0 && (en.Err == nil || rd != nil) {
				byName[en.Member]++
				want = append(want, legacy...)
			}
			for _, e := range want {
				if en.Err != nil {
					fail(e, en.Err.Error())
					seen[e.ID] = true
				}
			}
			if en.Err != nil || rd == nil || len(want) == 0 {
				return nil
			}
			// One reader, read once: every row at this position (the
			// same bytes ingested under one identity) is checked on it.
			e := want[0]
			seen[e.ID] = true
			err := check(e, rd)
			var re *source.ReadError
			if errors.As(err, &re) {
				return re
			}
			if err != nil {
				fail(e, err.Error())
			}
			for _, o := range want[1:] {
				seen[o.ID] = true
				fail(o, fmt.Sprintf("member %s of archive %s is named by more than one evidence row; re-ingest the archive", en.Member, p))
			}
			return nil
		})
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, es := range members {
			for _, e := range es {
				switch {
				case e.MemberIndex == nil && byName[e.Member] > 1:
					failed[e.ID] = fmt.Sprintf("member %s occurs %d times in archive %s and this evidence row was recorded before positions were kept: which one it is cannot be told; re-ingest the archive", e.Member, byName[e.Member], p)
				case seen[e.ID]:
				case err != nil:
					failed[e.ID] = fmt.Sprintf("walk archive %s: %v", p, err)
				default:
					failed[e.ID] = fmt.Sprintf("member %s (position %s) not found in archive %s", e.Member, store.EncodeMemberIndex(e.MemberIndex), p)
				}
			}
		}
	}
	return failed, nil
}

// memberKey finds an archive member again: by its positions when
// recorded, else (idx nil) by its name.
func memberKey(member string, idx []int) string {
	if idx == nil {
		return "name\x00" + member
	}
	return "index\x00" + store.EncodeMemberIndex(idx)
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
