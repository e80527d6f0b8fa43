package lake_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/internal/lake"
)

// lakeInputs builds n query folders of k result files each, every file
// listed by its folder's sign file (signed by a key that is not supplied:
// the signature is not what is measured).
func lakeInputs(n, k int) ([]lake.SignInput, []lake.ResultInput) {
	signs := make([]lake.SignInput, 0, n)
	results := make([]lake.ResultInput, 0, n*k)
	sig := strings.Repeat("ab", 256)
	for q := range n {
		dir := fmt.Sprintf("b/AWSLogs/111122223333/CloudTrail-Lake/Query/2024/03/04/%08x-0000-4000-8000-000000000000", q)
		var files []string
		for f := 1; f <= k; f++ {
			h := fmt.Sprintf("%056x%08x", q, f)
			files = append(files, fmt.Sprintf(`{"fileHashValue":"%s","fileName":"result_%d.csv.gz"}`, h, f))
			results = append(results, lake.ResultInput{Path: fmt.Sprintf("%s/result_%d.csv.gz", dir, f), SHA256: h, Size: 1000})
		}
		data := `{"version":"1.0","region":"us-east-1","files":[` + strings.Join(files, ",") + `],"hashAlgorithm":"SHA-256","signatureAlgorithm":"SHA256withRSA",` +
			`"queryCompleteTime":"2024-03-04T22:06:30Z","hashSignature":"` + sig + `","publicKeyFingerprint":"67b9fa73676d86966b449dd677850753"}`
		signs = append(signs, lake.SignInput{Path: dir + "/result_sign.json", Data: []byte(data)})
	}
	return signs, results
}

// BenchmarkClassify: time and memory of the Lake matching at two sizes
// (1,000 and 4,000 queries of 10 files), to show both grow linearly.
func BenchmarkClassify(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		signs, results := lakeInputs(n, 10)
		b.Run(fmt.Sprintf("queries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sv, rv, err := lake.Classify(signs, results, nil)
				if err != nil || len(sv) != n || len(rv) != n*10 {
					b.Fatalf("%v: %d sign verdicts, %d result verdicts", err, len(sv), len(rv))
				}
			}
			b.ReportMetric(float64(n*10), "files")
		})
	}
}
