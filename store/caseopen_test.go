package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A case path (or a journal beside it) that is a named pipe or a device is
// refused at once with an error naming it, by Open and OpenReadOnly;
// SQLite would block on the pipe for ever.
func TestOpenRefusesNonRegularCase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.db")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.db")
	c, err := Open(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	journal := filepath.Join(dir, "journal.db")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(journal+"-journal", 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, named, want string }{
		{fifo, fifo, "named pipe"},
		{zero, zero, "character device"},
		{journal, journal + "-journal", "named pipe"},
	} {
		for name, open := range map[string]func(context.Context, string) (*Case, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
			done := make(chan error, 1)
			go func() {
				c, err := open(ctx, tt.path)
				if err == nil {
					c.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.named+" is a "+tt.want) {
					t.Errorf("%s(%s) = %v, want an error saying %s is a %s", name, tt.path, err, tt.named, tt.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("%s(%s) blocked", name, tt.path)
			}
		}
	}
	// The untouched case still opens both ways.
	for name, open := range map[string]func(context.Context, string) (*Case, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		c, err := open(ctx, good)
		if err != nil {
			t.Errorf("%s(good) = %v", name, err)
			continue
		}
		c.Close()
	}
}
