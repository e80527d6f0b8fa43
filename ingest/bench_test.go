package ingest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
)

var benchSet struct {
	once  sync.Once
	dir   string
	root  string
	bytes int64
	err   error
}

// TestMain removes the bench export after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchSet.dir != "" {
		os.RemoveAll(benchSet.dir)
	}
	os.Exit(code)
}

// benchExport is a generated export of 20,000 events in 20 gzipped log
// files of 1,000 records (the shape of the bench set: fixtures/cmd/bench),
// made once per test binary.
func benchExport(b *testing.B) (string, int64) {
	benchSet.once.Do(func() {
		dir, err := os.MkdirTemp("", "ingest-bench")
		if err != nil {
			benchSet.err = err
			return
		}
		benchSet.dir = dir
		m, err := fixtures.Generate(filepath.Join(dir, "set"), fixtures.Options{Seed: 7, Hours: 2, FilesPerHour: 10, EventsPerFile: 1000, Parallel: 2})
		benchSet.root, benchSet.err = m.Root, err
		filepath.Walk(m.Root, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				benchSet.bytes += fi.Size()
			}
			return nil
		})
	})
	if benchSet.err != nil {
		b.Fatal(benchSet.err)
	}
	return benchSet.root, benchSet.bytes
}

// BenchmarkIngest ingests the bench export into a fresh case per
// iteration: MB/s of evidence as stored, and events/s.
func BenchmarkIngest(b *testing.B) {
	root, size := benchExport(b)
	b.SetBytes(size)
	events := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "case.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := Run(context.Background(), c, []string{root}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		events += sum.Events
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
