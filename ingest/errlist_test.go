package ingest

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/store"
)

// writeBadTar writes a tar of n items that each fail to read (a gzip cut
// short), streamed to disk.
func writeBadTar(t *testing.T, p string, n int) {
	t.Helper()
	f, err := os.Create(p)
	require.NoError(t, err)
	bw := bufio.NewWriter(f)
	tw := tar.NewWriter(bw)
	bad := gz(t, []byte(recordsA))
	bad = bad[:len(bad)/2]
	for i := 0; i < n; i++ {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("bad/%07d.json.gz", i), Mode: 0o644, Size: int64(len(bad)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(bad)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, bw.Flush())
	require.NoError(t, f.Close())
}

// liveHeapAfterIngest ingests a tar of n bad items into a fresh case and
// returns the Go heap still live once the case is closed, with the run's
// Summary held (what a caller keeps of the run).
func liveHeapAfterIngest(t *testing.T, n int) (uint64, *Summary) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.tar")
	writeBadTar(t, p, n)
	c, err := store.Open(context.Background(), filepath.Join(dir, "case.db"))
	require.NoError(t, err)
	printed := 0
	sum, err := Run(context.Background(), c, []string{p}, Options{OnError: func(ItemError) { printed++ }})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.Equal(t, n, printed, "every error is handed on as it is found")
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(sum)
	return ms.HeapAlloc, sum
}

// TestIngestErrorsBoundedMemory: what a run keeps of its item errors does
// not grow with their number: the Summary lists the first
// DefaultMaxErrors (by path) and counts the rest, every error goes to
// OnError as it is found and stays on its evidence row. Measured as the
// live heap after runs over 5,000 and 40,000 bad items: the errors of
// 35,000 more items held in the Summary would be about 8 MB.
func TestIngestErrorsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 45,000 items")
	}
	small, s1 := liveHeapAfterIngest(t, 5000)
	large, s2 := liveHeapAfterIngest(t, 40000)
	assert.Equal(t, 5000, s1.ErrorCount)
	assert.Equal(t, 40000, s2.ErrorCount)
	assert.Equal(t, DefaultMaxErrors, len(s2.Errors), "errors kept")
	assert.True(t, sort.SliceIsSorted(s2.Errors, func(i, j int) bool { return s2.Errors[i].Path < s2.Errors[j].Path }))
	assert.Contains(t, s2.Errors[0].Path, "bad/0000000.json.gz", "the first by path are kept")
	growth := int64(large) - int64(small)
	t.Logf("live heap after 5,000 bad items %.1f MiB, after 40,000 %.1f MiB", float64(small)/(1<<20), float64(large)/(1<<20))
	assert.Less(t, growth, int64(2<<20), "live heap grew by %d bytes for 35,000 more bad items", growth)
}

// TestManifestSpills: a folder listing larger than its memory bound is
// sorted through run files and hashes as the listing sorted in memory
// does (a name with a newline included).
func TestManifestSpills(t *testing.T) {
	defer func(n int) { manifestMemory = n }(manifestMemory)
	manifestMemory = 4 << 10
	var lines []string
	for i := 0; i < 2000; i++ {
		name := fmt.Sprintf("./d%03d/f%05d", (i*7919)%113, i)
		if i == 5 {
			name += "\nwith newline"
		}
		lines = append(lines, fmt.Sprintf("%064x  %s\n", i, name))
	}
	m := newManifest(t.TempDir())
	for _, l := range lines {
		m.add(l)
	}
	require.Greater(t, len(m.runs), 10)
	got, n, err := m.sum()
	require.NoError(t, err)
	sortLines(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	assert.Equal(t, hex.EncodeToString(h.Sum(nil)), got)
	assert.EqualValues(t, len(lines), n)
}
