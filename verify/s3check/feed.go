package s3check

import (
	"hash"
	"io"
	"runtime"
	"slices"
	"sync"
)

// chunkSize is how many bytes every hasher gets per call: large enough
// that per-call overhead vanishes and CRC64 uses its fast path, small
// enough to stay in L2 while each hasher reads it in turn.
const chunkSize = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// unit is one independent consumer of the object bytes: a whole-object
// hasher or a part layout of one algorithm.
type unit interface {
	write(p []byte)
	weight() int
}

type hashUnit struct {
	h    hash.Hash
	cost int
}

func (u hashUnit) write(p []byte) { u.h.Write(p) }
func (u hashUnit) weight() int    { return u.cost }

// minShare: the helper goroutine is used only when it gets at least
// 1/minShare of the work; below that the hand-off costs more than it
// saves.
const minShare = 5

// split divides units into two groups of similar total weight (largest
// first, each to the lighter group). b is empty when splitting does not
// pay.
func split(units []unit) (a, b []unit) {
	sorted := slices.Clone(units)
	slices.SortStableFunc(sorted, func(x, y unit) int { return y.weight() - x.weight() })
	wa, wb := 0, 0
	for _, u := range sorted {
		if wa <= wb {
			a, wa = append(a, u), wa+u.weight()
		} else {
			b, wb = append(b, u), wb+u.weight()
		}
	}
	if wb*minShare < wa+wb {
		return units, nil
	}
	return a, b
}

// feed reads r to the end in chunkSize chunks and gives every chunk to
// every unit, in order. With parallel set and more than one P, a helper
// goroutine runs part of the units on the same chunk while this one runs
// the rest; it starts only once the object is longer than one chunk.
func feed(r io.Reader, units []unit, parallel bool) (int64, error) {
	bufp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bufp)
	buf := *bufp

	a, b := units, []unit(nil)
	if parallel && runtime.GOMAXPROCS(0) > 1 {
		a, b = split(units)
	}
	var work chan []byte
	var done chan struct{}
	defer func() {
		if work != nil {
			close(work)
		}
	}()
	var size int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			chunk := buf[:n]
			size += int64(n)
			if len(b) > 0 && work == nil && n == len(buf) {
				work, done = make(chan []byte), make(chan struct{})
				go func(b []unit) {
					for c := range work {
						for _, u := range b {
							u.write(c)
						}
						done <- struct{}{}
					}
				}(b)
			}
			if work != nil {
				work <- chunk
				for _, u := range a {
					u.write(chunk)
				}
				<-done
			} else {
				for _, u := range units {
					u.write(chunk)
				}
			}
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return size, nil
		default:
			return size, err
		}
	}
}
