package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startMemProfile keeps, at path, a Go heap profile taken when the heap
// in use was largest (checked four times a second), for performance work
// (FORENSIC_MEMPROFILE); "" does nothing.
func startMemProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse <= peak+peak/20 {
				continue
			}
			peak = ms.HeapInuse
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "forensic: FORENSIC_MEMPROFILE: %v\n", err)
				return
			}
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
