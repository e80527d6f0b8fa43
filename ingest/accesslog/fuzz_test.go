package accesslog

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

// seedLines are lines worth mutating: the corpus lines and the traps.
func seedLines(f *testing.F) []string {
	seeds := []string{
		line(27, nil),
		line(24, nil),
		line(18, nil),
		line(27, nil) + ` x "y z" -`,
		line(27, map[int]string{9: `"GET /" HTTP/1.1"`}),
		line(27, map[int]string{17: `"Safari/604.1""`}),
		line(27, map[int]string{16: `"a b" "c"`, 17: `"d" - F SigV4 C AuthHeader h TLSv1.2 - - us-east-1 "e"`}),
		line(27, map[int]string{9: "-", 16: `"-"`, 17: "-"}),
		owner + " b [06/Feb/2019:00:00:38 +0000",
		"hello world",
		"",
	}
	for _, p := range corpusLogs {
		b, err := os.ReadFile(testcorpus.Path(f, p...))
		if err != nil {
			f.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		seeds = append(seeds, first)
	}
	return seeds
}

func FuzzParseLine(f *testing.F) {
	for _, s := range seedLines(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, l string) {
		var r store.AccessRecord
		ParseLine(l, &r)
		if r.Raw != l {
			t.Fatalf("Raw = %q, want the input %q", r.Raw, l)
		}
		if r.ParseError == "" && r.FieldCount < minFields {
			t.Fatalf("no ParseError but FieldCount %d < %d for %q", r.FieldCount, minFields, l)
		}
		if r.ParseError == "" && r.Time == "" {
			t.Fatalf("no ParseError but no Time for %q", l)
		}
		if len(r.Extra) != max(r.FieldCount-fixedFields, 0) {
			t.Fatalf("len(Extra) = %d with FieldCount %d for %q", len(r.Extra), r.FieldCount, l)
		}
		// Every field is text of the line.
		for _, v := range []string{r.BucketOwner, r.Bucket, r.Operation, r.Key, r.RequestURI, r.Referer, r.UserAgent, r.HostID, r.TLSVersion, r.SourceRegion} {
			if !strings.Contains(l, v) {
				t.Fatalf("field %q is not in the line %q", v, l)
			}
		}
		for _, v := range r.Extra {
			if !strings.Contains(l, v) || (v == "" && !strings.Contains(l, "  ")) {
				t.Fatalf("extra %q is not in the line %q", v, l)
			}
		}
		// Parsing is deterministic and independent of the previous line.
		var again store.AccessRecord
		p := lineParser{}
		p.parse(line(27, nil), &again)
		p.parse(l, &again)
		if diff(again, r) != "" {
			t.Fatalf("second parse differs for %q:\n%s", l, diff(again, r))
		}
	})
}

func FuzzParse(f *testing.F) {
	seeds := seedLines(f)
	f.Add([]byte(strings.Join(seeds, "\n")))
	f.Add([]byte(strings.Join(seeds, "\r\n") + "\r\n"))
	f.Add([]byte("\n\n\r\n \n"))
	f.Add([]byte("\xef\xbb\xbf" + seeds[0]))
	f.Fuzz(func(t *testing.T, data []byte) {
		// What Parse must see: lines split on "\n", a final empty piece
		// is not a line, one "\r" before "\n" is dropped.
		var want []string
		if len(data) > 0 {
			want = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			for i := range want {
				if i < len(want)-1 || bytes.HasSuffix(data, []byte("\n")) {
					want[i] = strings.TrimSuffix(want[i], "\r")
				}
			}
		}
		next := 0
		n, err := Parse(bytes.NewReader(data), 9, func(r *store.AccessRecord) error {
			if r.LineNo <= next || r.LineNo > len(want) {
				t.Fatalf("LineNo %d after %d, %d lines", r.LineNo, next, len(want))
			}
			next = r.LineNo
			if w := want[r.LineNo-1]; r.Raw != w || w == "" || r.EvidenceID != 9 {
				t.Fatalf("line %d: Raw %q EvidenceID %d, want %q 9", r.LineNo, r.Raw, r.EvidenceID, w)
			}
			// Spans locate the fields in Raw (a byte-order mark included).
			if e := spanErrors(r); e != "" {
				t.Fatalf("line %d %q:\n%s", r.LineNo, r.Raw, e)
			}
			return nil
		})
		if err != nil || n != len(want) {
			t.Fatalf("Parse = %d, %v, want %d lines", n, err, len(want))
		}
		for i := next; i < len(want); i++ {
			if want[i] != "" {
				t.Fatalf("line %d %q not emitted", i+1, want[i])
			}
		}
	})
}

// corpusLogs are the S3 server access-log files of the test corpus (internal/testcorpus).
var corpusLogs = [][]string{
	{"s3-server-access-logs", "apache-hadoop", "TestAuditLogs_sampleLog1"},
	{"awsdocs-examples", "s3-user-guide", "server-access-log-example.log"},
}

// FuzzParseLongLine: a line over the cap, made of head, mid repeated and
// tail, yields one record whose fields all lie whole in its first or last
// 64 KiB, whatever its bytes, and the same record with or without a
// newline.
func FuzzParseLongLine(f *testing.F) {
	seed := line(27, map[int]string{17: `"UA`})
	f.Add(seed[:strings.Index(seed, `"UA`)+3], "Mozilla ", `" - `+hostID+` SigV4 C AuthHeader h TLSv1.2 - - us-east-1`)
	f.Add(line(15, nil)+` "`, `a" b `, `" "c" - x`)
	f.Add("", "x", "")
	f.Add(`"`, ` "`, `"`)
	f.Fuzz(func(t *testing.T, head, mid, tail string) {
		clean := strings.NewReplacer("\n", " ", "\r", " ")
		head, mid, tail = clean.Replace(head), clean.Replace(mid), clean.Replace(tail)
		if mid == "" {
			mid = " "
		}
		l := head + strings.Repeat(mid, maxLine/len(mid)+1) + tail
		first, last := l[:longHead], l[len(l)-longTail:]
		var recs []store.AccessRecord
		for _, in := range []string{l + "\n", l} {
			var got []store.AccessRecord
			if _, err := Parse(strings.NewReader(in), 1, func(r *store.AccessRecord) error {
				got = append(got, *r)
				return nil
			}); err != nil || len(got) != 1 {
				t.Fatalf("Parse = %d records, %v; want 1", len(got), err)
			}
			recs = append(recs, got[0])
		}
		r := recs[0]
		if diff(r, recs[1]) != "" {
			t.Fatalf("with and without a newline:\n%s", diff(r, recs[1]))
		}
		if !strings.HasPrefix(r.ParseError, "line longer than 1 MiB cap (") || r.Raw != l[:longPrefix] || r.SpanCount != 0 {
			t.Fatalf("ParseError %q len(Raw) %d SpanCount %d", r.ParseError, len(r.Raw), r.SpanCount)
		}
		for i, p := range fieldPtrs(&r) {
			if p != nil && *p != "" && !strings.Contains(first, *p) && !strings.Contains(last, *p) {
				t.Fatalf("field %d %q lies in neither end of the line", i+1, *p)
			}
		}
	})
}
