package store

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// wantDecoded is what a JSON reader gets back from appendJSONString(s): s
// itself, with each byte that is not valid UTF-8 replaced by U+FFFD.
func wantDecoded(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b\c`, "\x00\x01\x1f", "caf\xc3\xa9", "bad \xff utf8", "\xef\xbf\xbd", "\xe2\x82", "tail\\", "\"", "日本語\x80x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatalf("prefix lost: %q", out)
		}
		var got string
		if err := json.Unmarshal(out[1:], &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %q: %v", s, out[1:], err)
		}
		if want := wantDecoded(s); got != want {
			t.Fatalf("%q: decoded %q, want %q", s, got, want)
		}
	})
}

func BenchmarkAccessFields(b *testing.B) {
	a := AccessRecord{BucketOwner: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", Bucket: "awsexamplebucket1",
		Time: "2019-02-06T00:00:38Z", RemoteIP: "192.0.2.3", Requester: "arn:aws:iam::123456789012:user/u1", RequestID: "3E57427F3EXAMPLE",
		Operation: "REST.GET.OBJECT", Key: "photos/x.jpg", RequestURI: "GET /awsexamplebucket1/photos/x.jpg HTTP/1.1", HTTPStatus: "200",
		ErrorCode: "-", BytesSent: "1234", ObjectSize: "1234", TotalTime: "12", TurnAroundTime: "10", Referer: "-", UserAgent: "aws-cli/2.15.0",
		VersionID: "-", HostID: "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=", SignatureVer: "SigV4",
		CipherSuite: "ECDHE-RSA-AES128-GCM-SHA256", AuthType: "AuthHeader", HostHeader: "awsexamplebucket1.s3.us-west-1.amazonaws.com",
		TLSVersion: "TLSv1.2", AccessPointARN: "-", ACLRequired: "-", SourceRegion: "us-west-1", FieldCount: 27}
	b.SetBytes(int64(len(AccessFields(&a))))
	for b.Loop() {
		AccessFields(&a)
	}
}

func TestAppendUint(t *testing.T) {
	for _, v := range []uint32{0, 1, 9, 10, 99, 100, 65535, 1 << 20, 4294967295} {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(uint64(v), 10); got != want {
			t.Errorf("appendUint(%d) = %q, want %q", v, got, want)
		}
	}
}
