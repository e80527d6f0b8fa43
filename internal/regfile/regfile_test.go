package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within fails the test instead of hanging the suite when fn blocks.
func within(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("blocked for 20 s: a FIFO or device was opened or read")
	}
}

func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(reg, []byte("key"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zero := link("zero", "/dev/zero")
	toFifo := link("to-fifo", fifo)
	toReg := link("to-key", reg)

	for _, tt := range []struct {
		name, path string
		noFollow   bool
		want       string // "" = readable
	}{
		{"regular", reg, false, ""},
		{"regular, no follow", reg, true, ""},
		{"link to regular", toReg, false, ""},
		{"link to regular, no follow", toReg, true, "symbolic link to " + reg},
		{"fifo", fifo, false, "named pipe"},
		{"fifo, no follow", fifo, true, "named pipe"},
		{"link to fifo", toFifo, false, "named pipe"},
		{"link to /dev/zero", zero, false, "character device"},
		{"link to /dev/zero, no follow", zero, true, "symbolic link to /dev/zero"},
		{"/dev/zero", "/dev/zero", false, "character device"},
		{"/dev/null", "/dev/null", true, "character device"},
		{"folder", dir, false, "folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			within(t, func() {
				read := ReadFile
				if tt.noFollow {
					read = ReadFileNoFollow
				}
				b, err := read(tt.path, 1<<20)
				if tt.want == "" {
					if err != nil || string(b) != "key" {
						t.Errorf("ReadFile(%s) = %q, %v; want \"key\"", tt.path, b, err)
					}
					return
				}
				var nr *NotRegularError
				if !errors.As(err, &nr) {
					t.Fatalf("ReadFile(%s) = %q, %v; want a *NotRegularError", tt.path, b, err)
				}
				if nr.Path != tt.path || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %q: want the path %s and %q", err, tt.path, tt.want)
				}
				if _, err := Check(tt.path); !tt.noFollow && err == nil {
					t.Errorf("Check(%s) = nil, want an error", tt.path)
				}
			})
		})
	}
}

func TestReadFileLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(p, make([]byte, 11), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p, 10); err == nil || !strings.Contains(err.Error(), "larger than 10 bytes") {
		t.Errorf("ReadFile of 11 bytes with max 10: %v, want larger than 10 bytes", err)
	}
	if b, err := ReadFile(p, 11); err != nil || len(b) != 11 {
		t.Errorf("ReadFile of 11 bytes with max 11: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "absent"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(absent) = %v, want not exist", err)
	}
}
