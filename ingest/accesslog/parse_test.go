package accesslog

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/store"
)

const (
	owner  = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
	hostID = "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234="
)

// fields27 is a synthetic current-format line, one element per field,
// written exactly as S3 writes it.
var fields27 = []string{
	owner,
	"amzn-s3-demo-bucket",
	"[06/Feb/2019:00:00:38 +0000]",
	"192.0.2.3",
	"arn:aws:iam::123456789012:user/alice",
	"3E57427F3EXAMPLE",
	"REST.GET.OBJECT",
	"photos/cat.jpg",
	`"GET /amzn-s3-demo-bucket/photos/cat.jpg?x-id=GetObject HTTP/1.1"`,
	"200",
	"-",
	"1024",
	"2048",
	"12",
	"10",
	`"https://example.com/gallery"`,
	`"curl/8.5.0"`,
	"-",
	hostID,
	"SigV4",
	"TLS_AES_128_GCM_SHA256",
	"AuthHeader",
	"amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com",
	"TLSv1.3",
	"-",
	"-",
	"us-east-1",
}

// line joins fields27[:n] after replacing fields by 1-based position.
func line(n int, repl map[int]string) string {
	f := append([]string(nil), fields27[:n]...)
	for i, v := range repl {
		f[i-1] = v
	}
	return strings.Join(f, " ")
}

// rec27 is what ParseLine must produce for line(27, nil), minus Raw.
func rec27() store.AccessRecord {
	return store.AccessRecord{
		BucketOwner:    owner,
		Bucket:         "amzn-s3-demo-bucket",
		Time:           "2019-02-06T00:00:38Z",
		RemoteIP:       "192.0.2.3",
		Requester:      "arn:aws:iam::123456789012:user/alice",
		RequestID:      "3E57427F3EXAMPLE",
		Operation:      "REST.GET.OBJECT",
		Key:            "photos/cat.jpg",
		RequestURI:     "GET /amzn-s3-demo-bucket/photos/cat.jpg?x-id=GetObject HTTP/1.1",
		HTTPStatus:     "200",
		ErrorCode:      "-",
		BytesSent:      "1024",
		ObjectSize:     "2048",
		TotalTime:      "12",
		TurnAroundTime: "10",
		Referer:        "https://example.com/gallery",
		UserAgent:      "curl/8.5.0",
		VersionID:      "-",
		HostID:         hostID,
		SignatureVer:   "SigV4",
		CipherSuite:    "TLS_AES_128_GCM_SHA256",
		AuthType:       "AuthHeader",
		HostHeader:     "amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com",
		TLSVersion:     "TLSv1.3",
		AccessPointARN: "-",
		ACLRequired:    "-",
		SourceRegion:   "us-east-1",
		FieldCount:     27,
	}
}

// truncated returns rec27 with only the first n fields set.
func truncated(n int) store.AccessRecord {
	r := rec27()
	p := []*string{
		&r.BucketOwner, &r.Bucket, &r.Time, &r.RemoteIP, &r.Requester, &r.RequestID,
		&r.Operation, &r.Key, &r.RequestURI, &r.HTTPStatus, &r.ErrorCode, &r.BytesSent,
		&r.ObjectSize, &r.TotalTime, &r.TurnAroundTime, &r.Referer, &r.UserAgent,
		&r.VersionID, &r.HostID, &r.SignatureVer, &r.CipherSuite, &r.AuthType,
		&r.HostHeader, &r.TLSVersion, &r.AccessPointARN, &r.ACLRequired, &r.SourceRegion,
	}
	for _, s := range p[n:] {
		*s = ""
	}
	r.FieldCount = n
	return r
}

func with(r store.AccessRecord, f func(*store.AccessRecord)) store.AccessRecord {
	f(&r)
	return r
}

func TestParseLine(t *testing.T) {
	injectedUA := `"curl/8.5.0" - FAKEHOSTID SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader evil.example TLSv1.2 - - eu-west-1 x"`
	tests := []struct {
		name string
		line string
		want store.AccessRecord
	}{
		{"27 fields", line(27, nil), rec27()},
		{"24 fields", line(24, nil), truncated(24)},
		{"25 fields", line(25, nil), truncated(25)},
		{"26 fields", line(26, nil), truncated(26)},
		{"18 fields, oldest format", line(18, nil), truncated(18)},
		{"30 fields keep extras verbatim", line(27, nil) + ` x-new - 42`,
			with(rec27(), func(r *store.AccessRecord) {
				r.Extra = []string{"x-new", "-", "42"}
				r.FieldCount = 30
			})},
		{"quoted extra at the end keeps its quotes", line(27, nil) + ` x-new "quoted extra, with spaces"`,
			with(rec27(), func(r *store.AccessRecord) {
				r.Extra = []string{"x-new", `"quoted extra, with spaces"`}
				r.FieldCount = 29
			})},
		// A quoted extra followed by another field could also close the
		// User-Agent (an 18-field reading): both readings are clean, so the
		// line is flagged; the one with more fixed fields wins.
		{"quoted extra followed by a field is ambiguous", line(27, nil) + ` x-new "quoted extra" -`,
			with(rec27(), func(r *store.AccessRecord) {
				r.Extra = []string{"x-new", `"quoted extra"`, "-"}
				r.FieldCount = 30
				r.Ambiguous = true
			})},
		// Injected fake fields in an older 24-field line: the fake reading
		// has more fixed fields and wins, but the line is flagged.
		{"user agent injecting a 27-field tail into a 24-field line",
			line(24, map[int]string{17: `"a" - FAKE SigV4 C AuthHeader h TLSv1.2 arn:aws:s3:::x Yes us-east-1 "b"`}),
			with(truncated(24), func(r *store.AccessRecord) {
				r.UserAgent = "a"
				r.VersionID, r.HostID, r.SignatureVer, r.CipherSuite, r.AuthType = "-", "FAKE", "SigV4", "C", "AuthHeader"
				r.HostHeader, r.TLSVersion, r.AccessPointARN, r.ACLRequired, r.SourceRegion = "h", "TLSv1.2", "arn:aws:s3:::x", "Yes", "us-east-1"
				r.Extra = append([]string{`"b"`}, fields27[17:24]...)
				r.FieldCount = 35
				r.Ambiguous = true
			})},
		{"trailing blanks and CR are not fields", line(26, nil) + " \r", truncated(26)},
		{"quoted dash and bare dash", line(27, map[int]string{9: "-", 16: `"-"`, 17: "-"}),
			with(rec27(), func(r *store.AccessRecord) { r.RequestURI, r.Referer, r.UserAgent = "-", "-", "-" })},
		{"bare dash referer, quoted dash user agent", line(27, map[int]string{16: "-", 17: `"-"`}),
			with(rec27(), func(r *store.AccessRecord) { r.Referer, r.UserAgent = "-", "-" })},
		{"bare referer token", line(27, map[int]string{16: "https://example.com/"}),
			with(rec27(), func(r *store.AccessRecord) { r.Referer = "https://example.com/" })},
		{"referer with spaces", line(27, map[int]string{16: `"https://example.com/a page?q=two words"`}),
			with(rec27(), func(r *store.AccessRecord) { r.Referer = "https://example.com/a page?q=two words" })},
		{"request-uri with an unescaped quote", line(27, map[int]string{9: `"GET /" HTTP/1.1"`}),
			with(rec27(), func(r *store.AccessRecord) { r.RequestURI = `GET /" HTTP/1.1` })},
		// HTTP does not allow spaces in a request target, but if one were
		// logged, fake fields in it make two clean readings: the first
		// (shortest Request-URI) is taken and the line is flagged.
		{"request-uri with fake fields inside", line(27, map[int]string{9: `"GET /x" 404 - 1 2 3 4 "r" "u" HTTP/1.1"`}),
			with(rec27(), func(r *store.AccessRecord) {
				r.RequestURI, r.HTTPStatus, r.BytesSent, r.ObjectSize, r.TotalTime, r.TurnAroundTime = "GET /x", "404", "1", "2", "3", "4"
				r.Referer = "r"
				r.UserAgent = `u" HTTP/1.1" 200 - 1024 2048 12 10 "https://example.com/gallery" "curl/8.5.0`
				r.Ambiguous = true
			})},
		{"user agent ending in a quote", line(27, map[int]string{17: `"Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) Version/12.0 Mobile/15E148 Safari/604.1""`}),
			with(rec27(), func(r *store.AccessRecord) {
				r.UserAgent = `Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) Version/12.0 Mobile/15E148 Safari/604.1"`
			})},
		{"user agent with a quoted word and spaces", line(27, map[int]string{17: `"Mozilla "compatible" thing"`}),
			with(rec27(), func(r *store.AccessRecord) { r.UserAgent = `Mozilla "compatible" thing` })},
		{"user agent injecting fake trailing fields", line(27, map[int]string{17: injectedUA}),
			with(rec27(), func(r *store.AccessRecord) {
				r.UserAgent = injectedUA[1 : len(injectedUA)-1]
				r.Ambiguous = true
			})},
		{"user agent injecting fake fields and a well-formed quoted extra",
			line(27, map[int]string{17: `"a" - FAKE SigV4 C AuthHeader h TLSv1.2 - - us-east-1 "b"`}),
			with(rec27(), func(r *store.AccessRecord) {
				r.UserAgent = `a" - FAKE SigV4 C AuthHeader h TLSv1.2 - - us-east-1 "b`
				r.Ambiguous = true
			})},
		{"referer injecting a fake user agent", line(27, map[int]string{16: `"https://r.example/" "fake-agent"`}),
			// Two clean splits: Referer="https://r.example/" with User-Agent
			// `fake-agent" "curl/8.5.0`, or the reverse; the first is taken.
			with(rec27(), func(r *store.AccessRecord) {
				r.Referer = "https://r.example/"
				r.UserAgent = `fake-agent" "curl/8.5.0`
				r.Ambiguous = true
			})},
		{"time with an offset is converted to UTC", line(27, map[int]string{3: "[06/Feb/2019:01:30:38 +0130]"}), rec27()},
		{"time across midnight and a leap day", line(27, map[int]string{3: "[29/Feb/2024:23:59:59 -0100]"}),
			with(rec27(), func(r *store.AccessRecord) { r.Time = "2024-03-01T00:59:59Z" })},
		{"invalid UTF-8 kept as is", line(27, map[int]string{17: "\"agent\xff\xfe\""}),
			with(rec27(), func(r *store.AccessRecord) { r.UserAgent = "agent\xff\xfe" })},
		{"lifecycle operation and copy record", line(27, map[int]string{7: "S3.EXPIRE.OBJECT", 9: "-", 5: "AmazonS3"}),
			with(rec27(), func(r *store.AccessRecord) {
				r.Operation, r.RequestURI, r.Requester = "S3.EXPIRE.OBJECT", "-", "AmazonS3"
			})},

		{"garbage", "hello world", store.AccessRecord{BucketOwner: "hello", Bucket: "world", FieldCount: 2,
			ParseError: "only 2 fields, want at least 18"}},
		{"blank", "   ", store.AccessRecord{ParseError: "no fields: line is blank"}},
		{"17 fields", line(17, nil), with(truncated(17), func(r *store.AccessRecord) {
			r.ParseError = "only 17 fields, want at least 18"
		})},
		{"time not a date", line(27, map[int]string{3: "[06/Foo/2019:00:00:38 +0000]"}), with(rec27(), func(r *store.AccessRecord) {
			r.Time = ""
			r.ParseError = `field 3 (Time) "06/Foo/2019:00:00:38 +0000" is not [dd/Mon/yyyy:hh:mm:ss +zzzz]`
		})},
		{"time 31 February", line(27, map[int]string{3: "[31/Feb/2019:00:00:38 +0000]"}), with(rec27(), func(r *store.AccessRecord) {
			r.Time = ""
			r.ParseError = `field 3 (Time) "31/Feb/2019:00:00:38 +0000" is not [dd/Mon/yyyy:hh:mm:ss +zzzz]`
		})},
		{"unterminated time bracket", owner + " b [06/Feb/2019:00:00:38 +0000", store.AccessRecord{
			BucketOwner: owner, Bucket: "b", Time: "2019-02-06T00:00:38Z", FieldCount: 3,
			ParseError: "unterminated [ in field 3 (Time)"}},
		{"status not a number", line(27, map[int]string{10: "OK"}), with(rec27(), func(r *store.AccessRecord) {
			r.HTTPStatus = "OK"
			r.ParseError = `field 10 (HTTP status) "OK" is not a 3-digit code or -`
		})},
		{"unterminated user agent", line(16, nil) + ` "x"x"x`, with(truncated(17), func(r *store.AccessRecord) {
			r.UserAgent = `x"x"x`
			r.ParseError = "unterminated quote in field 17 (User-Agent)"
		})},
		{"unterminated request-uri", line(8, nil) + ` "GET / HTTP/1.1`, with(truncated(9), func(r *store.AccessRecord) {
			r.RequestURI = "GET / HTTP/1.1"
			r.ParseError = "unterminated quote in field 9 (Request-URI)"
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got store.AccessRecord
			got.EvidenceID, got.LineNo = 7, 3 // must survive
			ParseLine(tt.line, &got)
			want := tt.want
			want.EvidenceID, want.LineNo, want.Raw = 7, 3, tt.line
			if d := diff(got, want); d != "" {
				t.Errorf("ParseLine(%q):\n%s", tt.line, d)
			}
		})
	}
}

// spanErrors checks that r's spans locate each of its fields in Raw and
// that nothing is left past them from an earlier line.
func spanErrors(r *store.AccessRecord) string {
	var b strings.Builder
	fields := []string{r.BucketOwner, r.Bucket, "", r.RemoteIP, r.Requester, r.RequestID, r.Operation,
		r.Key, r.RequestURI, r.HTTPStatus, r.ErrorCode, r.BytesSent, r.ObjectSize, r.TotalTime,
		r.TurnAroundTime, r.Referer, r.UserAgent, r.VersionID, r.HostID, r.SignatureVer, r.CipherSuite,
		r.AuthType, r.HostHeader, r.TLSVersion, r.AccessPointARN, r.ACLRequired, r.SourceRegion}
	if n := r.FieldCount - len(r.Extra); r.SpanCount != min(n, 27) && !strings.HasPrefix(r.ParseError, "line longer") {
		fmt.Fprintf(&b, "  SpanCount %d for %d fields\n", r.SpanCount, n)
	}
	for i, sp := range r.Spans {
		start, end := int(sp[0]), int(sp[0])+int(sp[1])
		switch {
		case i >= r.SpanCount && sp != [2]int32{}:
			fmt.Fprintf(&b, "  span %d %v past SpanCount %d\n", i+1, sp, r.SpanCount)
		case i >= r.SpanCount || i == 2:
		case start < 0 || end > len(r.Raw) || end < start:
			fmt.Fprintf(&b, "  span %d %v outside the line\n", i+1, sp)
		case r.Raw[start:end] != fields[i]:
			fmt.Fprintf(&b, "  span %d %v is %q, field is %q\n", i+1, sp, r.Raw[start:end], fields[i])
		}
	}
	return b.String()
}

// diff lists the fields where got and want differ, after spanErrors(got);
// spans are compared only when want has them.
func diff(got, want store.AccessRecord) string {
	var b0 strings.Builder
	b0.WriteString(spanErrors(&got))
	if want.SpanCount > 0 && (got.SpanCount != want.SpanCount || got.Spans != want.Spans) {
		fmt.Fprintf(&b0, "  spans %v (%d), want %v (%d)\n", got.Spans, got.SpanCount, want.Spans, want.SpanCount)
	}
	want.Spans, want.SpanCount = [27][2]int32{}, 0
	got.Spans, got.SpanCount = [27][2]int32{}, 0
	g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want)
	if g == w {
		return b0.String()
	}
	if g == w {
		return ""
	}
	gf, wf := strings.Split(g, ", "), strings.Split(w, ", ")
	b := &b0
	for i := 0; i < len(gf) || i < len(wf); i++ {
		var a, c string
		if i < len(gf) {
			a = gf[i]
		}
		if i < len(wf) {
			c = wf[i]
		}
		if a != c {
			fmt.Fprintf(b, "  got  %s\n  want %s\n", a, c)
		}
	}
	return b.String()
}

// TestParseLineReuse checks that a record reused across lines keeps
// nothing from the previous one.
func TestParseLineReuse(t *testing.T) {
	var r store.AccessRecord
	ParseLine(line(27, nil)+" extra", &r)
	ParseLine("garbage", &r)
	want := store.AccessRecord{BucketOwner: "garbage", FieldCount: 1, ParseError: "only 1 fields, want at least 18", Raw: "garbage"}
	if d := diff(r, want); d != "" {
		t.Errorf("second ParseLine:\n%s", d)
	}
}

// TestParseLineBoundedWork feeds lines built to maximise candidate splits
// and checks that the search stays within its linear budget (a
// deterministic stand-in for a time limit) and flags the line.
func TestParseLineBoundedWork(t *testing.T) {
	patterns := []string{`x" `, `" `, `" - `, `" 200 `, `" 200 - 1 1 1 1 "`,
		`" 200 - 1 1 1 1 "-" "-" - a SigV4 a AuthHeader a TLSv1.2 - - a-b-1 "`}
	for _, pat := range patterns {
		body := strings.Repeat(pat, (256<<10)/len(pat))
		for i, l := range []string{
			line(8, nil) + ` "` + body,
			line(15, nil) + ` "` + body,
			line(16, nil) + ` "` + body,
			line(8, nil) + ` "` + body + `" 200 - 1 1 1 1 "a" "b" -`,
		} {
			var p lineParser
			var r store.AccessRecord
			start := time.Now()
			p.parse(l, &r)
			el := time.Since(start)
			if limit := p.budget + len(l); p.work > limit || p.steps > maxSteps+3 { // each of the 3 levels may overshoot by one
				t.Errorf("pattern %q, line %d: work %d steps %d, want at most %d and %d", pat, i, p.work, p.steps, limit, maxSteps+3)
			}
			if !r.Ambiguous || r.Raw != l {
				t.Errorf("pattern %q, line %d: Ambiguous %v, Raw kept %v; want true, true", pat, i, r.Ambiguous, r.Raw == l)
			}
			if el > 5*time.Second {
				t.Errorf("pattern %q, line %d: %v for %d bytes", pat, i, el, len(l))
			}
		}
	}
}

func TestParseLogTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"06/Feb/2019:00:00:38 +0000", "2019-02-06T00:00:38Z"},
		{"06/FEB/2019:00:00:38 +0000", "2019-02-06T00:00:38Z"},
		{"31/Dec/2023:23:30:00 -0045", "2024-01-01T00:15:00Z"},
		{"6/Feb/2019:00:00:38 +0000", "2019-02-06T00:00:38Z"},
		{"06/February/2019:00:00:38 +0000", "2019-02-06T00:00:38Z"},
		{"29/Feb/2024:00:00:00 +0000", "2024-02-29T00:00:00Z"},
		{"29/Feb/2000:00:00:00 +0000", "2000-02-29T00:00:00Z"},
		{"29/Feb/2023:00:00:00 +0000", ""},
		{"29/Feb/1900:00:00:00 +0000", ""},
		{"31/Apr/2023:00:00:00 +0000", ""},
		{"31/Apr/2023:00:00:00 +0100", ""},
		{"06/Feb/2019:00:00:38 +0000x", ""},
		{"06/Feb/2019:24:00:00 +0000", ""},
		{"06/Feb/2019:00:60:00 +0000", ""},
		{"00/Feb/2019:00:00:00 +0000", ""},
		{"06/Feb/2019:00:00:38", ""},
		{"2019-02-06T00:00:38Z", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := parseLogTime(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("parseLogTime(%q) = %q, %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestShapeOK(t *testing.T) {
	tests := []struct {
		field int
		v     string
		want  bool
	}{
		{fHostID, hostID, true},
		{fHostID, "SigV4", true}, // base64 cannot tell; the next fields do
		{fHostID, "a-b", false},
		{fSigVer, "SigV4", true},
		{fSigVer, "SigV4a", true},
		{fSigVer, "SigV", false},
		{fSigVer, "ECDHE-RSA-AES128-GCM-SHA256", false},
		{fCipher, "ECDHE-RSA-AES128-GCM-SHA256", true},
		{fCipher, "TLS_AES_128_GCM_SHA256", true},
		{fCipher, "a.b", false},
		{fAuthType, "AuthHeader", true},
		{fAuthType, "QueryString", true},
		{fAuthType, "host.example", false},
		{fTLS, "TLSv1.2", true},
		{fTLS, "TLSV1.2", true},
		{fTLS, "tlsv1.3", true},
		{fTLS, `TLSv1.2";`, false},
		{fTLS, "TLS", false},
		{fAccessPoint, "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP", true},
		{fAccessPoint, `arn:"x`, false},
		{fAccessPoint, "Yes", false},
		{fACLRequired, "Yes", true},
		{fACLRequired, "us-east-1", false},
		{fSourceRegion, "us-east-1", true},
		{fSourceRegion, "US-EAST-1", false},
		{fVersionID, "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", true},
		{fVersionID, `a"`, false},
		{fHostHeader, "amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com", true},
		{fHostHeader, "", false},
		{fTLS, "-", true},
	}
	for _, tt := range tests {
		if got := shapeOK(tt.field, tt.v); got != tt.want {
			t.Errorf("shapeOK(%s, %q) = %v, want %v", fieldNames[tt.field], tt.v, got, tt.want)
		}
	}
}
