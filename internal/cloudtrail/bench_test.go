package cloudtrail

import (
	"os"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

// BenchmarkSplitExtract splits and extracts every invictus corpus file
// (decompressed, in memory); MB/s counts content bytes.
func BenchmarkSplitExtract(b *testing.B) {
	var files [][]byte
	var size int64
	for _, f := range corpusFiles(b, "invictus-aws-dataset/CloudTrail/*.json") {
		content, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, content)
		size += int64(len(content))
	}
	b.Run("split", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, content := range files {
				if _, err := Split(content, func(int, []byte) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("split+extract", func(b *testing.B) {
		b.SetBytes(size)
		events := 0
		var ev store.Event
		for b.Loop() {
			for _, content := range files {
				if _, err := Split(content, func(_ int, raw []byte) error {
					events++
					return Extract(raw, &ev)
				}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
}
