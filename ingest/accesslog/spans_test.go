package accesslog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

// The case stores a parsed line as its raw bytes plus the spans of its
// fields; the s3_access view cuts the fields back out. Every field of
// every line must read back byte for byte as the parser split it: the
// corpus logs, and lines built to catch an off-by-one (a byte-order mark,
// multi-byte and invalid UTF-8, quotes inside quoted fields, short and
// long lines, CRLF, a line that does not parse).
func TestSpansReadBackThroughView(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("\xef\xbb\xbf" + line(27, nil) + "\r\n")
	for _, p := range corpusLogs {
		b, err := os.ReadFile(testcorpus.Path(t, p...))
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		if !bytes.HasSuffix(b, []byte("\n")) {
			in.WriteByte('\n')
		}
	}
	for _, l := range []string{
		line(27, map[int]string{7: "caf\u00e9/\u65e5\u672c.txt", 16: `"Mozilla/5.0 \xff\xfe ""`}),
		line(27, map[int]string{8: `"GET /a" HTTP/1.1"`, 15: `"https://example.com/a b"`}),
		line(24, nil),
		line(27, nil) + ` extra1 "extra two"`,
		"not an access log line at all",
		line(27, map[int]string{2: "[99/Foo/2024:00:00:00 +0000]"}),
	} {
		in.WriteString(l + "\n")
	}

	var recs []store.AccessRecord
	if _, err := Parse(bytes.NewReader(in.Bytes()), 0, func(a *store.AccessRecord) error {
		recs = append(recs, *a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recs) < 10 {
		t.Fatalf("only %d records parsed", len(recs))
	}

	c, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "case.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := c.NewWriter(store.WriterOptions{})
	rows := make([]store.AccessRow, len(recs))
	for i := range recs {
		rows[i] = recs[i].Row()
	}
	w.Add(&store.Item{Evidence: store.Evidence{Path: "/log", SHA256: "x", Kind: store.KindAccessLog}, AccessRows: rows})
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}

	cols := []string{"bucket_owner", "bucket", "remote_ip", "requester", "request_id", "operation", "key",
		"request_uri", "http_status", "error_code", "bytes_sent", "object_size", "total_time", "turn_around_time",
		"referer", "user_agent", "version_id", "host_id", "signature_version", "cipher_suite", "auth_type",
		"host_header", "tls_version", "access_point_arn", "acl_required", "source_region"}
	db := casetest.DB(t, c)
	for _, a := range recs {
		want := []string{a.BucketOwner, a.Bucket, a.RemoteIP, a.Requester, a.RequestID, a.Operation, a.Key,
			a.RequestURI, a.HTTPStatus, a.ErrorCode, a.BytesSent, a.ObjectSize, a.TotalTime, a.TurnAroundTime,
			a.Referer, a.UserAgent, a.VersionID, a.HostID, a.SignatureVer, a.CipherSuite, a.AuthType,
			a.HostHeader, a.TLSVersion, a.AccessPointARN, a.ACLRequired, a.SourceRegion}
		got := make([]any, len(cols)+2)
		vals := make([]*string, len(cols))
		for i := range cols {
			got[i] = &vals[i]
		}
		var raw string
		var fields *string
		got[len(cols)], got[len(cols)+1] = &raw, &fields
		q := "SELECT " + strings.Join(cols, ", ") + ", raw, fields FROM s3_access WHERE line_no = ?"
		if err := db.QueryRow(q, a.LineNo).Scan(got...); err != nil {
			t.Fatalf("line %d: %v", a.LineNo, err)
		}
		if raw != a.Raw {
			t.Errorf("line %d: raw %q, want %q", a.LineNo, raw, a.Raw)
		}
		// Fields past FieldCount (an older, shorter line) read as NULL.
		n := min(a.SpanCount, 27)
		for i, col := range cols {
			field := i
			if i >= 2 {
				field = i + 1 // field 3 (time) is the time column
			}
			switch {
			case field < n && (vals[i] == nil || *vals[i] != want[i]):
				t.Errorf("line %d %s: got %v, want %q", a.LineNo, col, deref(vals[i]), want[i])
			case field >= n && vals[i] != nil:
				t.Errorf("line %d %s: got %q past the line's %d fields, want NULL", a.LineNo, col, *vals[i], n)
			}
		}
		if (fields == nil) != (a.SpanCount == 0) {
			t.Errorf("line %d: fields %v with %d spans", a.LineNo, deref(fields), a.SpanCount)
		}
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
