package ingest

import (
	"bufio"
	"container/heap"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
)

// manifestMemory bounds the lines of a folder's listing held in memory:
// past it they are sorted and written to a run file beside the case (the
// case's folder is the analyst's, never inside a source), and the runs
// are merged when the folder is done. A folder of a million files holds
// about 150 MB of lines.
var manifestMemory = 8 << 20

// manifest gathers a folder source's "SHA256  ./REL\n" lines and hashes
// them sorted by path (see run.container), in bounded memory.
type manifest struct {
	dir   string // where run files go
	lines []string
	held  int
	runs  []*os.File
	n     int64
	err   error
}

func newManifest(dir string) *manifest { return &manifest{dir: dir} }

func (m *manifest) add(line string) {
	m.lines = append(m.lines, line)
	m.held += len(line) + 16
	m.n++
	if m.held >= manifestMemory && m.err == nil {
		m.err = m.spill()
	}
}

func sortLines(lines []string) {
	sort.Slice(lines, func(i, j int) bool { return manifestPath(lines[i]) < manifestPath(lines[j]) })
}

// spill writes the lines held, sorted, as one run: each line as its
// length (uvarint) and its bytes (a file name may hold a newline).
func (m *manifest) spill() error {
	sortLines(m.lines)
	f, err := os.CreateTemp(m.dir, ".forensic-manifest-*")
	if err != nil {
		return fmt.Errorf("folder listing: %w", err)
	}
	os.Remove(f.Name()) // unlinked: gone with the process, whatever happens
	bw := bufio.NewWriterSize(f, 256<<10)
	var lb [binary.MaxVarintLen64]byte
	for _, l := range m.lines {
		bw.Write(lb[:binary.PutUvarint(lb[:], uint64(len(l)))])
		bw.WriteString(l)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("folder listing: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("folder listing: %w", err)
	}
	m.runs = append(m.runs, f)
	m.lines, m.held = m.lines[:0], 0
	return nil
}

// sum is the hex SHA-256 of every line in path order, and their number.
func (m *manifest) sum() (string, int64, error) {
	defer m.close()
	if m.err != nil {
		return "", 0, m.err
	}
	h := sha256.New()
	sortLines(m.lines)
	if len(m.runs) == 0 {
		for _, l := range m.lines {
			io.WriteString(h, l)
		}
		return hex.EncodeToString(h.Sum(nil)), m.n, nil
	}
	// Merge the runs and the lines still held.
	mh := &mergeHeap{}
	for _, f := range m.runs {
		r := &runReader{br: bufio.NewReaderSize(f, 64<<10)}
		if ok, err := r.next(); err != nil {
			return "", 0, err
		} else if ok {
			mh.rs = append(mh.rs, r)
		}
	}
	if len(m.lines) > 0 {
		mh.rs = append(mh.rs, &runReader{mem: m.lines, cur: m.lines[0], pos: 1})
	}
	heap.Init(mh)
	for mh.Len() > 0 {
		r := mh.rs[0]
		io.WriteString(h, r.cur)
		ok, err := r.next()
		if err != nil {
			return "", 0, err
		}
		if ok {
			heap.Fix(mh, 0)
		} else {
			heap.Pop(mh)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), m.n, nil
}

func (m *manifest) close() {
	for _, f := range m.runs {
		f.Close()
	}
	m.runs, m.lines = nil, nil
}

// runReader reads one sorted run: from a file, or from lines in memory.
type runReader struct {
	br  *bufio.Reader
	mem []string
	pos int
	cur string
}

func (r *runReader) next() (bool, error) {
	if r.br == nil {
		if r.pos >= len(r.mem) {
			return false, nil
		}
		r.cur = r.mem[r.pos]
		r.pos++
		return true, nil
	}
	n, err := binary.ReadUvarint(r.br)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("folder listing: %w", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return false, fmt.Errorf("folder listing: %w", err)
	}
	r.cur = string(b)
	return true, nil
}

type mergeHeap struct{ rs []*runReader }

func (h *mergeHeap) Len() int { return len(h.rs) }
func (h *mergeHeap) Less(i, j int) bool {
	return manifestPath(h.rs[i].cur) < manifestPath(h.rs[j].cur)
}
func (h *mergeHeap) Swap(i, j int) { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *mergeHeap) Push(x any)    { h.rs = append(h.rs, x.(*runReader)) }
func (h *mergeHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
}
