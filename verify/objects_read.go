package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"

	"github.com/forensic-dev/forensic/ingest/source"
	"github.com/forensic-dev/forensic/internal/regfile"
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
	archives := map[string]map[string]*store.Evidence{}
	for _, e := range evs {
		if e.Member == "" {
			disk = append(disk, e)
			continue
		}
		if archives[e.Path] == nil {
			archives[e.Path] = map[string]*store.Evidence{}
		}
		archives[e.Path][e.Member] = e
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
		seen := map[string]bool{}
		err := source.Walk(ctx, p, source.Options{}, func(en *source.Entry, rd io.Reader) error {
			e := members[en.Member]
			if e == nil || en.Container {
				return nil
			}
			if en.Err != nil {
				fail(e, en.Err.Error())
				seen[en.Member] = true
				return nil
			}
			if rd == nil {
				return nil
			}
			seen[en.Member] = true
			err := check(e, rd)
			var re *source.ReadError
			if errors.As(err, &re) {
				return re
			}
			if err != nil {
				fail(e, err.Error())
			}
			return nil
		})
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
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
	return failed, nil
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
