package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the signal goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The first signal cancels the context and says a second one stops at
// once; the second calls exit with 128 + the signal number.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	for _, tt := range []struct {
		sig  os.Signal
		code int
		name string
	}{
		{syscall.SIGINT, 130, "SIGINT"},
		{syscall.SIGTERM, 143, "SIGTERM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			var stderr syncBuffer
			exited := make(chan int, 1)
			ctx, stop := handleSignals(context.Background(), sigs, &stderr, func(code int) { exited <- code })
			defer stop()

			sigs <- tt.sig
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the first signal did not cancel the context")
			}
			if got := stderr.String(); !strings.Contains(got, tt.name) || !strings.Contains(got, "send it again to stop at once") {
				t.Errorf("stderr after the first signal = %q, want the signal and that a second one stops at once", got)
			}
			select {
			case code := <-exited:
				t.Fatalf("exit(%d) after the first signal", code)
			default:
			}

			sigs <- tt.sig
			select {
			case code := <-exited:
				if code != tt.code {
					t.Errorf("exit code = %d, want %d", code, tt.code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the second signal did not exit")
			}
			if got := stderr.String(); !strings.Contains(got, "stopping at once") {
				t.Errorf("stderr = %q, want it to say it stops at once", got)
			}
		})
	}
}

// Without a signal nothing happens; stop cancels the context and ends
// the watch, so a signal after it is not acted on.
func TestSignalsStop(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	var stderr syncBuffer
	exited := make(chan int, 2)
	ctx, stop := handleSignals(context.Background(), sigs, &stderr, func(code int) { exited <- code })
	if ctx.Err() != nil {
		t.Fatal("context cancelled before any signal")
	}
	stop()
	stop() // idempotent
	if ctx.Err() == nil {
		t.Error("stop did not cancel the context")
	}
	// stop returned: the watcher has ended, and nothing reads sigs.
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		t.Errorf("exit(%d) after stop", code)
	default:
	}
	if stderr.String() != "" {
		t.Errorf("stderr = %q after stop, want nothing", stderr.String())
	}
}
