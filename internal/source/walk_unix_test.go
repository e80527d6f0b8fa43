//go:build unix

package source

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWalkSpecialFile(t *testing.T) {
	ev := t.TempDir()
	writeFile(t, filepath.Join(ev, "a"), []byte("a"))
	fifo := filepath.Join(ev, "b-fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	writeFile(t, filepath.Join(ev, "c"), []byte("c"))

	done := make(chan []got, 1)
	go func() { done <- walkAll(t, ev, Options{}) }()
	var gs []got
	select {
	case gs = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Walk blocked: it must never open a fifo")
	}
	assert.Equal(t, []string{"a", "b-fifo", "c", "[dir] " + filepath.Base(ev)}, lines(gs))
	assert.NoError(t, gs[1].Err, "a special file is an entry, not an error")
	assert.Equal(t, "fifo", SpecialType(gs[1].Mode))
	assert.False(t, gs[1].HasBody)
	assert.Equal(t, int64(-1), gs[1].Size)

	err := Walk(t.Context(), fifo, Options{}, nil)
	assert.EqualError(t, err, "evidence "+fifo+": not a folder or regular file (named pipe)")
}
