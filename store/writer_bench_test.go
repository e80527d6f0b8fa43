package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriterAccess measures the writer on S3 access-log rows (the
// rate `make bench` reports end to end); one op is one row.
func BenchmarkWriterAccess(b *testing.B) {
	c, err := Open(context.Background(), filepath.Join(b.TempDir(), "case.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if os.Getenv("NOIDX") != "" {
		c.DB.Exec("DROP INDEX s3_access_time")
		c.DB.Exec("DROP INDEX s3_access_key")
	}
	w := c.NewWriter(WriterOptions{})
	const perItem = 10000
	recs := make([]AccessRecord, perItem)
	for i := range recs {
		recs[i] = AccessRecord{LineNo: i + 1, BucketOwner: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
			Bucket: "awsexamplebucket1", Time: fmt.Sprintf("2019-02-06T00:%02d:%02dZ", i/60%60, i%60), RemoteIP: "192.0.2.3",
			Requester: "arn:aws:iam::123456789012:user/u1", RequestID: fmt.Sprintf("%016X", i), Operation: "REST.GET.OBJECT",
			Key: fmt.Sprintf("photos/%d.jpg", i), RequestURI: "GET /awsexamplebucket1/photos/x.jpg HTTP/1.1", HTTPStatus: "200",
			ErrorCode: "-", BytesSent: "1234", ObjectSize: "1234", TotalTime: "12", TurnAroundTime: "10", Referer: "-",
			UserAgent: "aws-cli/2.15.0", VersionID: "-", HostID: "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
			SignatureVer: "SigV4", CipherSuite: "ECDHE-RSA-AES128-GCM-SHA256", AuthType: "AuthHeader", HostHeader: "awsexamplebucket1.s3.us-west-1.amazonaws.com",
			TLSVersion: "TLSv1.2", AccessPointARN: "-", ACLRequired: "-", SourceRegion: "us-west-1", FieldCount: 27,
			Raw: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/u1 3E57427F3EXAMPLE REST.GET.OBJECT photos/x.jpg \"GET /awsexamplebucket1/photos/x.jpg HTTP/1.1\" 200 - 1234 1234 12 10 \"-\" \"aws-cli/2.15.0\" - s9lz= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSv1.2 - - us-west-1"}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += perItem {
		w.Add(&Item{Evidence: Evidence{Path: fmt.Sprintf("/log/%d", i), SHA256: "x", Kind: KindAccessLog}, Access: recs})
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
