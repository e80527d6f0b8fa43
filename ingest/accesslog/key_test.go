package accesslog

import (
	"testing"
	"time"
)

func TestParseKey(t *testing.T) {
	ts := time.Date(2023, 12, 29, 10, 16, 19, 0, time.UTC)
	day := time.Date(2023, 12, 29, 0, 0, 0, 0, time.UTC)
	const u = "43862272FFD6E668"
	tests := []struct {
		path string
		want KeyInfo
		ok   bool
	}{
		{"2023-12-29-10-16-19-" + u, KeyInfo{Layout: "simple", Unique: u, Time: ts}, true},
		{"logs/2023-12-29-10-16-19-" + u, KeyInfo{Layout: "simple", Prefix: "logs/", Unique: u, Time: ts}, true},
		{"logs2023-12-29-10-16-19-" + u, KeyInfo{Layout: "simple", Prefix: "logs", Unique: u, Time: ts}, true},
		{"/evidence/case 1/bucket/logs/2023-12-29-10-16-19-" + u,
			KeyInfo{Layout: "simple", Prefix: "/evidence/case 1/bucket/logs/", Unique: u, Time: ts}, true},
		{"123456789012/us-east-1/amzn-s3-demo-bucket/2023/12/29/2023-12-29-00-00-00-" + u,
			KeyInfo{Layout: "partitioned", AccountID: "123456789012", Region: "us-east-1", SourceBucket: "amzn-s3-demo-bucket", Unique: u, Time: day}, true},
		{"logs/123456789012/us-gov-west-1/amzn-s3-demo-bucket/2023/12/29/2023-12-29-10-16-19-" + u,
			KeyInfo{Layout: "partitioned", Prefix: "logs/", AccountID: "123456789012", Region: "us-gov-west-1", SourceBucket: "amzn-s3-demo-bucket", Unique: u, Time: ts}, true},
		{"logs1123456789012/eu-west-2/Legacy_Bucket/2023/12/29/2023-12-29-00-00-00-" + u,
			KeyInfo{Layout: "partitioned", Prefix: "logs1", AccountID: "123456789012", Region: "eu-west-2", SourceBucket: "Legacy_Bucket", Unique: u, Time: day}, true},
		{"/mnt/case/a/b/123456789012/us-east-1/bkt/2023/12/29/2023-12-29-00-00-00-" + u,
			KeyInfo{Layout: "partitioned", Prefix: "/mnt/case/a/b/", AccountID: "123456789012", Region: "us-east-1", SourceBucket: "bkt", Unique: u, Time: day}, true},
		// Partition folders that disagree with the name, a short account
		// or a region that is not one: read as a simple key.
		{"123456789012/us-east-1/bkt/2023/12/28/2023-12-29-00-00-00-" + u,
			KeyInfo{Layout: "simple", Prefix: "123456789012/us-east-1/bkt/2023/12/28/", Unique: u, Time: day}, true},
		{"12345678901/us-east-1/bkt/2023/12/29/2023-12-29-00-00-00-" + u,
			KeyInfo{Layout: "simple", Prefix: "12345678901/us-east-1/bkt/2023/12/29/", Unique: u, Time: day}, true},
		{"123456789012/useast/bkt/2023/12/29/2023-12-29-00-00-00-" + u,
			KeyInfo{Layout: "simple", Prefix: "123456789012/useast/bkt/2023/12/29/", Unique: u, Time: day}, true},

		// Not access-log keys.
		{"AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz", KeyInfo{}, false},
		{"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/10/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T114500Z.json.gz", KeyInfo{}, false},
		{"AWSLogs/o-abc123/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json", KeyInfo{}, false},
		{"logs/2023-12-29-10-16-19-" + u + ".gz", KeyInfo{}, false},
		{"logs/2023-12-29-10-16-19-", KeyInfo{}, false},
		{"logs/2023-12-29-10-16-19", KeyInfo{}, false},
		{"logs/2023-02-30-10-16-19-" + u, KeyInfo{}, false},
		{"logs/2023-12-29-24-16-19-" + u, KeyInfo{}, false},
		{"logs/2023-12-29T10-16-19-" + u, KeyInfo{}, false},
		{"logs/2023-12-29-10-16-19-" + u + "/", KeyInfo{}, false},
		{"", KeyInfo{}, false},
		{"readme.txt", KeyInfo{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseKey(tt.path)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseKey(%q) = %+v, %v, want %+v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
