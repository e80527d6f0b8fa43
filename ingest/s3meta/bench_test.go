package s3meta

import (
	"fmt"
	"strings"
	"testing"
)

// bigListing builds a list-object-versions output of n versions.
func bigListing(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Name": "b", "Versions": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"ETag": "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", "ChecksumAlgorithm": ["CRC64NVME"], "ChecksumType": "FULL_OBJECT", "Size": 11, "StorageClass": "STANDARD", "Key": "dir/object-%08d.txt", "VersionId": "3HL4kqtJvjVBH40Nrjfkd%08d", "IsLatest": true, "LastModified": "2026-11-28T19:36:01.000Z", "Owner": {"DisplayName": "alice", "ID": "7009a8971cd660687538875e7c86c5b672fe116bd438f46db45460ddcd036c32"}}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkParseListing(b *testing.B) {
	data := bigListing(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		metas, _, _, err := Parse("l.json", data)
		if err != nil || len(metas) != 10000 {
			b.Fatal(len(metas), err)
		}
	}
}
