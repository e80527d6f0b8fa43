package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriterAccess measures the writer on S3 access-log rows (the
// rate `make bench` reports end to end); one op is one row. NOIDX=1 drops
// the index first; WAL=1 loads in WAL mode instead of with the rollback
// journal, for comparison.
func BenchmarkWriterAccess(b *testing.B) {
	c, err := Open(context.Background(), filepath.Join(b.TempDir(), "case.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if os.Getenv("NOIDX") != "" {
		c.db.Exec("DROP INDEX s3_access_lines_time")
	}
	w := c.NewWriter(WriterOptions{LoadInWAL: os.Getenv("WAL") != ""})
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
	rows := make([]AccessRow, len(recs))
	for i := range recs {
		// Spans as the parser fills them (their values do not matter here).
		recs[i].SpanCount = 27
		for j := range recs[i].Spans {
			recs[i].Spans[j] = [2]int32{int32(j * 11), int32(j % 40)}
		}
		rows[i] = recs[i].Row() // as the ingest workers do
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += perItem {
		w.Add(&Item{Evidence: Evidence{Path: fmt.Sprintf("/log/%d", i), SHA256: "x", Kind: KindAccessLog}, AccessRows: rows})
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriterEvents measures the writer on CloudTrail rows; one op is
// one event.
func BenchmarkWriterEvents(b *testing.B) {
	c, err := Open(context.Background(), filepath.Join(b.TempDir(), "case.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if os.Getenv("NOIDX") != "" {
		for _, ix := range []string{"ct_events_time", "ct_events_name", "ct_events_source_ip", "ct_events_principal"} {
			c.db.Exec("DROP INDEX " + ix)
		}
	}
	w := c.NewWriter(WriterOptions{LoadInWAL: os.Getenv("WAL") != ""})
	const perItem = 1000
	evs, raw := benchEvents(perItem)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i += perItem {
		w.Add(&Item{Evidence: Evidence{Path: fmt.Sprintf("/log/%d", i), SHA256: "x", Kind: KindCloudTrailLog}, Events: evs})
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// benchEvents are n CloudTrail rows of one S3 data-event record, with
// the record's bytes.
func benchEvents(n int) ([]Event, []byte) {
	raw := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:sess1","arn":"arn:aws:sts::111122223333:assumed-role/role1/sess1","accountId":"111122223333","accessKeyId":"ASIA000000000001","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/role1","accountId":"111122223333","userName":"role1"},"attributes":{"creationDate":"2024-03-04T09:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"[aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.47.7]","requestParameters":{"bucketName":"data-bucket","Host":"data-bucket.s3.us-east-1.amazonaws.com","key":"reports/2024/03/part-00001.parquet"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"abc","bytesTransferredOut":1234},"requestID":"ABCDEF0123456789","eventID":"11111111-2222-3333-4444-555555555555","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data-bucket/reports/x"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"data-bucket.s3.us-east-1.amazonaws.com"}}`)
	t, f := true, false
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{RecordIndex: i, EventID: fmt.Sprintf("%08x-2222-3333-4444-%012x", i, i*7919), EventTime: fmt.Sprintf("2024-03-04T10:%02d:%02dZ", i/60%60, i%60),
			EventVersion: "1.08", EventSource: "s3.amazonaws.com", EventName: []string{"GetObject", "PutObject", "ListBucket", "AssumeRole"}[i%4],
			EventType: "AwsApiCall", EventCategory: "Data", AWSRegion: "us-east-1", SourceIP: fmt.Sprintf("198.51.%d.%d", i%7, i%251),
			UserAgent: "aws-sdk-go-v2/1.24.0", Principal: fmt.Sprintf("arn:aws:sts::111122223333:assumed-role/role%d/sess%d", i%13, i%97),
			IdentityType: "AssumedRole", AccessKeyID: fmt.Sprintf("ASIA%012d", i%311), AccountID: "111122223333", RecipientAccountID: "111122223333",
			RequestID: fmt.Sprintf("%016X", i), ReadOnly: &t, ManagementEvent: &f, Verifiable: true, Raw: raw}
	}
	return evs, raw
}

// BenchmarkMergeCase measures store.MergeCase (report --case A --case B)
// at two sizes of the case merged; one op is one merge, and ns/event is
// its time per CloudTrail record: equal at both sizes when the cost is
// linear.
func BenchmarkMergeCase(b *testing.B) {
	for _, n := range []int{50000, 100000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			ctx := context.Background()
			src := filepath.Join(b.TempDir(), "src.db")
			c, err := Open(ctx, src)
			if err != nil {
				b.Fatal(err)
			}
			w := c.NewWriter(WriterOptions{})
			const perItem = 1000
			evs, _ := benchEvents(perItem)
			for i := 0; i < n; i += perItem {
				w.Add(&Item{Evidence: Evidence{Path: fmt.Sprintf("/log/%d", i), SHA256: "x", Kind: KindCloudTrailLog}, Events: evs})
			}
			if _, err := w.Close(); err != nil {
				b.Fatal(err)
			}
			c.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dst, err := Open(ctx, filepath.Join(b.TempDir(), "m.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := dst.MergeCase(ctx, src, MergeOptions{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				dst.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
		})
	}
}
