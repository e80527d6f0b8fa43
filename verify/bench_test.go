package verify

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
)

// BenchmarkVerify: one region, 30 days, 720 hourly digests with 10 log files each, ingested; then verify
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

// BenchmarkVerifyOrg verifies organization sets (2 accounts, 4 regions,
// 3 log files an hour) of two sizes, a quarter and the whole, so that the
// per-file cost can be compared: linear time means equal ns/log.
//
//	go test -run '^$' -bench VerifyOrg -benchtime 3x ./verify
func BenchmarkVerifyOrg(b *testing.B) {
	for _, hours := range []int{180, 720} {
		b.Run(fmt.Sprintf("hours=%d", hours), func(b *testing.B) {
			dir := b.TempDir()
			m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 1, Hours: hours,
				OrgID: "o-exampleorgid", Accounts: []string{"111122223333", "444455556666"},
				Regions:      []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"},
				FilesPerHour: 3, EventsPerFile: 1, Parallel: 2})
			if err != nil {
				b.Fatal(err)
			}
			c := ingestCase(b, filepath.Join(dir, "case.db"), m.Root)
			a := anchors(b, m)
			logs := hours * 8 * 3
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep, err := Run(context.Background(), c, Options{Anchors: a})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Failed() || rep.Summary.Logs.Valid != logs {
					b.Fatalf("not all valid: %+v", rep.Summary)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(logs), "ns/log")
		})
	}
}
