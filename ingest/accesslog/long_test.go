package accesslog

import (
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

// An over-long line keeps every field that lies whole in its first or
// last 64 KiB; the long field is left empty and named.
func TestParseLongLineKeepsFields(t *testing.T) {
	big := strings.Repeat("Mozilla/5.0 (X11; Linux) ", 2<<20/25)
	del := map[int]string{7: "REST.DELETE.OBJECT", 8: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x.json.gz",
		9: `"DELETE /amzn-s3-demo-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x.json.gz HTTP/1.1"`, 10: "204"}
	with := func(extra map[int]string) map[int]string {
		m := map[int]string{}
		for k, v := range del {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name  string
		in    string
		field int  // the long field, 1-based
		last  bool // the last line, without a newline
		nl    string
	}{
		{"long User-Agent", line(27, with(map[int]string{17: `"` + big + `"`})), 17, false, "\n"},
		{"long Referer", line(27, with(map[int]string{16: `"` + big + `"`})), 16, false, "\r\n"},
		{"long Request-URI, last line", line(27, with(map[int]string{9: `"DELETE /` + strings.Repeat("a", 3<<20) + ` HTTP/1.1"`})), 9, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			good := line(27, nil)
			in, at := good+"\n"+tt.in+tt.nl+good+"\n", 1
			if tt.last {
				in, at = good+"\n"+good+"\n"+tt.in, 2
			}
			recs, n := collect(t, strings.NewReader(in))
			if n != 3 || len(recs) != 3 {
				t.Fatalf("Parse = %d lines, %d records, want 3, 3", n, len(recs))
			}
			r := recs[at]
			want := rec27()
			want.Operation, want.Key, want.HTTPStatus = del[7], del[8], del[10]
			want.RequestURI = strings.Trim(del[9], `"`)
			p := fieldPtrs(&want)
			*p[tt.field-1] = ""
			wantErr := "line longer than 1 MiB cap (" + itoa(len(tt.in)) + " bytes; Raw keeps the first 4096); fields read from its first 65536 and last 65536 bytes, field " +
				itoa(tt.field) + " (" + fieldNames[tt.field-1] + ") cut by the bytes between and left empty"
			want.ParseError, want.Raw, want.EvidenceID, want.LineNo = wantErr, tt.in[:longPrefix], 42, at+1
			got := *r
			got.Spans, got.SpanCount = [27][2]int32{}, 0
			if r.SpanCount != 0 {
				t.Errorf("SpanCount %d, want 0 (Raw holds only a prefix: fields are stored)", r.SpanCount)
			}
			if !equalRecords(got, want) {
				t.Errorf("long line:\n got %+v\nwant %+v", brief(got), brief(want))
			}
			for i := range recs {
				if i != at && (recs[i].ParseError != "" || recs[i].Raw != good) {
					t.Errorf("record %d: ParseError %q", i, recs[i].ParseError)
				}
			}
		})
	}
}

func equalRecords(a, b store.AccessRecord) bool {
	return a.BucketOwner == b.BucketOwner && a.Bucket == b.Bucket && a.Time == b.Time && a.RemoteIP == b.RemoteIP &&
		a.Requester == b.Requester && a.RequestID == b.RequestID && a.Operation == b.Operation && a.Key == b.Key &&
		a.RequestURI == b.RequestURI && a.HTTPStatus == b.HTTPStatus && a.ErrorCode == b.ErrorCode &&
		a.BytesSent == b.BytesSent && a.ObjectSize == b.ObjectSize && a.TotalTime == b.TotalTime &&
		a.TurnAroundTime == b.TurnAroundTime && a.Referer == b.Referer && a.UserAgent == b.UserAgent &&
		a.VersionID == b.VersionID && a.HostID == b.HostID && a.SignatureVer == b.SignatureVer &&
		a.CipherSuite == b.CipherSuite && a.AuthType == b.AuthType && a.HostHeader == b.HostHeader &&
		a.TLSVersion == b.TLSVersion && a.AccessPointARN == b.AccessPointARN && a.ACLRequired == b.ACLRequired &&
		a.SourceRegion == b.SourceRegion && len(a.Extra) == len(b.Extra) && a.FieldCount == b.FieldCount &&
		a.Ambiguous == b.Ambiguous && a.ParseError == b.ParseError && a.Raw == b.Raw &&
		a.EvidenceID == b.EvidenceID && a.LineNo == b.LineNo
}

// brief is rec with long values shortened, for messages.
func brief(r store.AccessRecord) store.AccessRecord {
	for _, p := range fieldPtrs(&r) {
		if p != nil && len(*p) > 80 {
			*p = (*p)[:80] + "…"
		}
	}
	if len(r.Extra) > 3 {
		r.Extra = r.Extra[:3]
	}
	if len(r.Raw) > 80 {
		r.Raw = r.Raw[:80] + "…"
	}
	return r
}

// A long Referer full of `" ` (fake field ends) makes the split
// uncertain: the fields before it are still as logged, and the record is
// marked Ambiguous.
func TestParseLongLineInjectedReferer(t *testing.T) {
	ref := `"` + strings.Repeat(`Mozilla/5.0 (X11; "Linux" -) `, 2<<20/30) + `"`
	in := line(27, map[int]string{7: "REST.DELETE.OBJECT", 8: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x.json.gz", 10: "204", 16: ref})
	recs, _ := collect(t, strings.NewReader(in+"\n"))
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	want := rec27()
	got, wp := fieldPtrs(r), fieldPtrs(&want)
	want.Operation, want.Key, want.HTTPStatus = "REST.DELETE.OBJECT", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x.json.gz", "204"
	for i := 0; i < fReferer; i++ {
		if i != fTime && *got[i] != *wp[i] {
			t.Errorf("field %d (%s) = %q, want %q", i+1, fieldNames[i], *got[i], *wp[i])
		}
	}
	if r.Time != want.Time || !r.Ambiguous || !strings.HasPrefix(r.ParseError, "line longer than 1 MiB cap (") {
		t.Errorf("Time %q Ambiguous %v ParseError %q; want %q, true, line longer than 1 MiB cap ...", r.Time, r.Ambiguous, r.ParseError, want.Time)
	}
}
