package accesslog

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

// BenchmarkParse streams a synthetic 27-field log (10,000 lines of about
// 590 bytes; varied keys, times and user agents). With -cpu 1 on the
// 2-core build machine (Go 1.26), measured while other jobs kept its
// load average at 3-14: 390,000-490,000 lines/s (230-290 MB/s), 3
// allocations per line (the line, the record, the time). Target: 200,000
// lines/s on one core.
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	const n = 10000
	for i := range n {
		buf.WriteString(line(27, map[int]string{
			3:  fmt.Sprintf("[06/Feb/2019:00:%02d:%02d +0000]", i/60%60, i%60),
			8:  fmt.Sprintf("photos/%d.jpg", i),
			9:  fmt.Sprintf(`"GET /amzn-s3-demo-bucket/photos/%d.jpg HTTP/1.1"`, i),
			17: fmt.Sprintf(`"aws-cli/2.15.%d Python/3.11.6 Linux/6.2.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp"`, i%40),
		}))
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := Parse(bytes.NewReader(data), 1, func(r *store.AccessRecord) error {
			if r.ParseError != "" || r.Ambiguous {
				b.Fatalf("line %d: %q ambiguous=%v", r.LineNo, r.ParseError, r.Ambiguous)
			}
			return nil
		})
		if err != nil || got != n {
			b.Fatalf("Parse = %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
