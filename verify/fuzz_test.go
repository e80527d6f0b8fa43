package verify

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// FuzzHashStream: whatever the bytes, hashStream does not panic, the
// bytes' SHA-256 is exact, and for a gzip stream the content hash and
// trailing flag agree with compress/gzip reading the first member.
func FuzzHashStream(f *testing.F) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"Records":[]}`))
	zw.Close()
	one := append([]byte(nil), buf.Bytes()...)
	f.Add(one)
	f.Add(append(append([]byte(nil), one...), one...))
	f.Add(one[:len(one)/2])
	f.Add([]byte(`{"Records":[]}`))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := hashStream(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("hashStream: %v (a bytes.Reader cannot fail)", err)
		}
		sum := sha256.Sum256(data)
		if res.sha != hex.EncodeToString(sum[:]) {
			t.Fatalf("sha = %s, want %x", res.sha, sum)
		}
		if res.compression != "gzip" || res.err != "" {
			return
		}
		br := bytes.NewReader(data)
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatalf("hashStream read a gzip header compress/gzip rejects: %v", err)
		}
		zr.Multistream(false)
		var content bytes.Buffer
		if _, err := content.ReadFrom(zr); err != nil {
			t.Fatalf("hashStream read a member compress/gzip rejects: %v", err)
		}
		c := sha256.Sum256(content.Bytes())
		if res.contentSHA != hex.EncodeToString(c[:]) {
			t.Fatalf("contentSHA = %s, want %x", res.contentSHA, c)
		}
		if res.trailing != (br.Len() > 0) {
			t.Fatalf("trailing = %v, want %v", res.trailing, br.Len() > 0)
		}
	})
}
