package accesslog

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

// collect runs Parse and returns every record emitted.
func collect(t *testing.T, r io.Reader) ([]*store.AccessRecord, int) {
	t.Helper()
	var recs []*store.AccessRecord
	n, err := Parse(r, 42, func(rec *store.AccessRecord) error {
		c := *rec // the record is reused for the next line
		recs = append(recs, &c)
		return nil
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return recs, n
}

func TestParseCorpusHadoop(t *testing.T) {
	f, err := os.Open(testcorpus.Path(t, "s3-server-access-logs", "apache-hadoop", "TestAuditLogs_sampleLog1"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, n := collect(t, f)
	if n != 36 || len(recs) != 36 {
		t.Fatalf("Parse(sampleLog1) = %d lines, %d records, want 36, 36", n, len(recs))
	}
	for i, r := range recs {
		if r.ParseError != "" || r.Ambiguous || r.LineNo != i+1 || r.EvidenceID != 42 {
			t.Errorf("record %d: LineNo %d EvidenceID %d ParseError %q Ambiguous %v, want %d 42 \"\" false",
				i, r.LineNo, r.EvidenceID, r.ParseError, r.Ambiguous, i+1)
		}
	}
	// The file holds one real line 36 times; each ends with the junk `";`
	// left from the Java string it was copied out of, kept as logged.
	want := store.AccessRecord{
		EvidenceID:     42,
		LineNo:         36,
		BucketOwner:    "183c9826b45486e485693808f38e2c4071004bf5dfd4c3ab210f0a21a4000000",
		Bucket:         "bucket-london",
		Time:           "2021-05-13T11:26:06Z",
		RemoteIP:       "109.157.171.174",
		Requester:      "arn:aws:iam::152813717700:user/dev",
		RequestID:      "M7ZB7C4RTKXJKTM9",
		Operation:      "REST.PUT.OBJECT",
		Key:            "fork-0001/test/testParseBrokenCSVFile",
		RequestURI:     "PUT /fork-0001/test/testParseBrokenCSVFile HTTP/1.1",
		HTTPStatus:     "200",
		ErrorCode:      "-",
		BytesSent:      "-",
		ObjectSize:     "794",
		TotalTime:      "55",
		TurnAroundTime: "17",
		Referer:        "https://audit.example.org/hadoop/1/op_create/e8ede3c7-8506-4a43-8268-fe8fcbb510a4-00000278/?op=op_create&p1=fork-0001/test/testParseBrokenCSVFile&pr=alice&ps=2eac5a04-2153-48db-896a-09bc9a2fd132&id=e8ede3c7-8506-4a43-8268-fe8fcbb510a4-00000278&t0=154&fs=e8ede3c7-8506-4a43-8268-fe8fcbb510a4&t1=156&ts=1620905165700",
		UserAgent:      "Hadoop 3.4.0-SNAPSHOT, java/1.8.0_282 vendor/AdoptOpenJDK",
		VersionID:      "-",
		HostID:         "TrIqtEYGWAwvu0h1N9WJKyoqM0TyHUaY+ZZBwP2yNf2qQp1Z/0=",
		SignatureVer:   "SigV4",
		CipherSuite:    "ECDHE-RSA-AES128-GCM-SHA256",
		AuthType:       "AuthHeader",
		HostHeader:     "bucket-london.s3.eu-west-2.amazonaws.com",
		TLSVersion:     `TLSv1.2";`,
		FieldCount:     24,
	}
	got := *recs[35]
	if !strings.HasSuffix(got.Raw, ` TLSv1.2";`) || len(got.Raw) != 828 {
		t.Errorf("Raw = %d bytes ending %q, want 828 bytes ending ` TLSv1.2\";`", len(got.Raw), got.Raw[len(got.Raw)-20:])
	}
	want.Raw = got.Raw
	if d := diff(got, want); d != "" {
		t.Errorf("line 36:\n%s", d)
	}
}

func TestParseCorpusAWSExample(t *testing.T) {
	f, err := os.Open(testcorpus.Path(t, "awsdocs-examples", "s3-user-guide", "server-access-log-example.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, n := collect(t, f)
	if n != 5 || len(recs) != 5 {
		t.Fatalf("Parse(server-access-log-example.log) = %d lines, %d records, want 5, 5", n, len(recs))
	}
	type short struct{ op, status, errCode, apARN, acl string }
	wantShort := []short{
		{"REST.GET.VERSIONING", "200", "-", "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP", "Yes"},
		{"REST.GET.LOGGING_STATUS", "200", "-", "-", "-"},
		{"REST.GET.BUCKETPOLICY", "404", "NoSuchBucketPolicy", "-", "Yes"}, // this line ends in a space
		{"REST.GET.VERSIONING", "200", "-", "-", "-"},
		{"REST.PUT.OBJECT", "200", "-", "-", "Yes"},
	}
	for i, r := range recs {
		got := short{r.Operation, r.HTTPStatus, r.ErrorCode, r.AccessPointARN, r.ACLRequired}
		if r.ParseError != "" || r.Ambiguous || r.FieldCount != 26 || got != wantShort[i] {
			t.Errorf("line %d: %+v FieldCount %d ParseError %q Ambiguous %v, want %+v 26 \"\" false",
				i+1, got, r.FieldCount, r.ParseError, r.Ambiguous, wantShort[i])
		}
	}
	want := store.AccessRecord{
		EvidenceID:     42,
		LineNo:         5,
		BucketOwner:    owner,
		Bucket:         "DOC-EXAMPLE-BUCKET1",
		Time:           "2019-02-06T00:01:57Z",
		RemoteIP:       "192.0.2.3",
		Requester:      owner,
		RequestID:      "DD6CC733AEXAMPLE",
		Operation:      "REST.PUT.OBJECT",
		Key:            "s3-dg.pdf",
		RequestURI:     "PUT /DOC-EXAMPLE-BUCKET1/s3-dg.pdf HTTP/1.1",
		HTTPStatus:     "200",
		ErrorCode:      "-",
		BytesSent:      "-",
		ObjectSize:     "4406583",
		TotalTime:      "41754",
		TurnAroundTime: "28",
		Referer:        "-",
		UserAgent:      "S3Console/0.4",
		VersionID:      "-",
		HostID:         "10S62Zv81kBW7BB6SX4XJ48o6kpcl6LPwEoizZQQxJd5qDSCTLX0TgS37kYUBKQW3+bPdrg1234=",
		SignatureVer:   "SigV4",
		CipherSuite:    "ECDHE-RSA-AES128-SHA",
		AuthType:       "AuthHeader",
		HostHeader:     "DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com",
		TLSVersion:     "TLSV1.2",
		AccessPointARN: "-",
		ACLRequired:    "Yes",
		FieldCount:     26,
	}
	want.Raw = recs[4].Raw
	if d := diff(*recs[4], want); d != "" {
		t.Errorf("line 5:\n%s", d)
	}
	if !strings.HasPrefix(recs[4].Raw, owner+" DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:01:57 +0000]") || !strings.HasSuffix(recs[4].Raw, " - Yes") {
		t.Errorf("line 5 Raw = %q, want the line as in the file", recs[4].Raw)
	}
}

func TestParseLines(t *testing.T) {
	good := line(27, nil)
	tests := []struct {
		name    string
		in      string
		lines   int
		lineNos []int
		raws    []string
	}{
		{"empty input", "", 0, nil, nil},
		{"one line with newline", good + "\n", 1, []int{1}, []string{good}},
		{"one line without newline", good, 1, []int{1}, []string{good}},
		{"CRLF", good + "\r\n" + good + "\r\n", 2, []int{1, 2}, []string{good, good}},
		// A "\r" not followed by "\n" is not a terminator: Raw keeps it.
		{"CR at the end without newline", good + "\r\n" + good + "\r", 2, []int{1, 2}, []string{good, good + "\r"}},
		{"empty lines skipped, numbers kept", "\n\r\n" + good + "\n\n" + good + "\n\n", 6, []int{3, 5}, []string{good, good}},
		{"blank line is a record", good + "\n  \n", 2, []int{1, 2}, []string{good, "  "}},
		{"garbage kept", "hello\n" + good + "\n", 2, []int{1, 2}, []string{"hello", good}},
		{"byte-order mark kept in Raw", "\xef\xbb\xbf" + good + "\n", 1, []int{1}, []string{"\xef\xbb\xbf" + good}},
	}
	for _, tt := range tests {
		for _, reader := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"one byte at a time", iotest.OneByteReader},
		} {
			t.Run(tt.name+"/"+reader.name, func(t *testing.T) {
				recs, n := collect(t, reader.wrap(strings.NewReader(tt.in)))
				var nos []int
				var raws []string
				for _, r := range recs {
					nos = append(nos, r.LineNo)
					raws = append(raws, r.Raw)
				}
				if n != tt.lines || !equalInts(nos, tt.lineNos) || !equalStrings(raws, tt.raws) {
					t.Errorf("Parse(%q) = %d lines, LineNos %v, Raw %q; want %d, %v, %q", tt.in, n, nos, raws, tt.lines, tt.lineNos, tt.raws)
				}
				for _, r := range recs {
					if strings.HasPrefix(r.Raw, good) && (r.ParseError != "" || r.FieldCount != 27) {
						t.Errorf("line %d: ParseError %q FieldCount %d, want \"\" 27", r.LineNo, r.ParseError, r.FieldCount)
					}
				}
			})
		}
	}
	// The byte-order mark must not end up in a field.
	recs, _ := collect(t, strings.NewReader("\xef\xbb\xbf"+good))
	if recs[0].BucketOwner != owner || recs[0].ParseError != "" {
		t.Errorf("with BOM: BucketOwner %q ParseError %q, want %q \"\"", recs[0].BucketOwner, recs[0].ParseError, owner)
	}
}

func TestParseLongLine(t *testing.T) {
	good := line(27, nil)
	long := strings.Repeat("A", 5<<20)
	for _, tt := range []struct {
		name string
		in   string
		size int
	}{
		{"LF", good + "\n" + long + "\n" + good + "\n", 5 << 20},
		{"CRLF", good + "\r\n" + long + "\r\n" + good + "\r\n", 5 << 20},
		{"long last line", good + "\n" + good + "\n" + long, 5 << 20},
		{"one byte over", good + "\n" + long[:maxLine+1] + "\n" + good, maxLine + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, n := collect(t, strings.NewReader(tt.in))
			if n != 3 || len(recs) != 3 {
				t.Fatalf("Parse = %d lines, %d records, want 3, 3", n, len(recs))
			}
			i := 1
			if tt.name == "long last line" {
				i = 2
			}
			for j, r := range recs {
				if j == i {
					continue
				}
				if r.ParseError != "" || r.Raw != good || r.LineNo != j+1 {
					t.Errorf("record %d: LineNo %d ParseError %q, want %d and no error", j, r.LineNo, r.ParseError, j+1)
				}
			}
			r := recs[i]
			wantErr := "line longer than 1 MiB cap (" + itoa(tt.size) + " bytes; Raw keeps the first 4096); fields read from its first 65536 and last 65536 bytes, field 1 (Bucket Owner) cut by the bytes between and left empty; only 1 fields, want at least 18"
			if r.ParseError != wantErr || r.Raw != long[:longPrefix] || r.LineNo != i+1 || r.EvidenceID != 42 || r.FieldCount != 1 || r.BucketOwner != "" {
				t.Errorf("long line: LineNo %d ParseError %q len(Raw) %d FieldCount %d, want %d %q %d 1",
					r.LineNo, r.ParseError, len(r.Raw), r.FieldCount, i+1, wantErr, longPrefix)
			}
		})
	}
	// Exactly maxLine bytes (plus CRLF) is within the cap: it is parsed.
	recs, _ := collect(t, strings.NewReader(long[:maxLine]+"\r\n"))
	if len(recs) != 1 || recs[0].ParseError != "only 1 fields, want at least 18" || len(recs[0].Raw) != maxLine {
		t.Errorf("maxLine-byte line: %d records, ParseError %q, len(Raw) %d; want 1, only 1 fields, %d", len(recs), recs[0].ParseError, len(recs[0].Raw), maxLine)
	}
}

func TestParseErrors(t *testing.T) {
	good := line(27, nil)
	boom := errors.New("boom")

	// A read error stops the parse; the lines before it are emitted.
	var got []int
	n, err := Parse(io.MultiReader(strings.NewReader(good+"\n"+good+"\nhalf a li"), iotest.ErrReader(boom)), 1,
		func(r *store.AccessRecord) error { got = append(got, r.LineNo); return nil })
	if !errors.Is(err, boom) || n != 2 || !equalInts(got, []int{1, 2}) || err.Error() != "read access log line 3: boom" {
		t.Errorf("Parse(read error) = %d, %v, emitted %v; want 2, read access log line 3: boom, [1 2]", n, err, got)
	}

	// An emit error stops the parse at that line.
	got = nil
	n, err = Parse(strings.NewReader(good+"\n"+good+"\n"+good+"\n"), 1, func(r *store.AccessRecord) error {
		got = append(got, r.LineNo)
		if r.LineNo == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 2 || !equalInts(got, []int{1, 2}) || err.Error() != "line 2: boom" {
		t.Errorf("Parse(emit error) = %d, %v, emitted %v; want 2, line 2: boom, [1 2]", n, err, got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
