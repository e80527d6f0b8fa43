package verify

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
)

// BenchmarkVerify is the performance target of issue #3: one region, 30
// days, 720 hourly digests with 10 log files each, ingested; then verify
// on the case, and verify --rehash (every log file re-read from disk).
// Setup (generate and ingest) runs once and is not timed.
//
//	go test -run '^$' -bench Verify -benchtime 5x ./verify
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"),
		fixtures.Options{Seed: 1, Hours: 720, FilesPerHour: 10, Parallel: 2})
	if err != nil {
		b.Fatal(err)
	}
	c := ingestCase(b, filepath.Join(dir, "case.db"), m.Root)
	a := anchors(b, m)
	for _, bc := range []struct {
		name   string
		rehash bool
	}{{"case", false}, {"rehash", true}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rep, err := Run(context.Background(), c, Options{Anchors: a, Rehash: bc.rehash})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Failed() || rep.Summary.Digests.Valid != 720 || rep.Summary.Logs.Valid != 7200 {
					b.Fatalf("not all valid: %+v", rep.Summary)
				}
			}
		})
	}
}
