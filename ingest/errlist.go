package ingest

import (
	"container/heap"
	"sort"
)

// DefaultMaxErrors is how many item errors a run keeps in memory for its
// Summary: the whole list is on the evidence rows (evidence.error) and
// goes to Options.OnError as it is found, so a run over millions of bad
// items holds no more than this many.
const DefaultMaxErrors = 1000

// errList keeps the max errors that sort first by (path, error), so the
// list a run reports does not depend on the order the workers found them
// in, and counts all of them.
type errList struct {
	max   int
	total int
	h     errHeap // a max-heap: the error that sorts last on top
}

func (l *errList) add(e ItemError) {
	l.total++
	switch {
	case l.h.Len() < l.max:
		heap.Push(&l.h, e)
	case errLess(e, l.h[0]):
		l.h[0] = e
		heap.Fix(&l.h, 0)
	}
}

// sorted is the errors kept, in (path, error) order.
func (l *errList) sorted() []ItemError {
	out := append([]ItemError{}, l.h...)
	sort.Slice(out, func(i, j int) bool { return errLess(out[i], out[j]) })
	return out
}

func errLess(a, b ItemError) bool {
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	return a.Error < b.Error
}

type errHeap []ItemError

func (h errHeap) Len() int           { return len(h) }
func (h errHeap) Less(i, j int) bool { return errLess(h[j], h[i]) }
func (h errHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *errHeap) Push(x any)        { *h = append(*h, x.(ItemError)) }
func (h *errHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
