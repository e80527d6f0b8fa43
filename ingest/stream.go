package ingest

import "github.com/forensic-dev/forensic/store"

// streamAdd hands a part of a stream's rows to the writer within the
// in-flight row budget.
func (r *run) streamAdd(s *store.Stream, part *store.Item) {
	n := rowsKiB(part)
	r.rows.acquire(n)
	part.Done = func() { r.rows.release(n) }
	s.Add(part)
}
