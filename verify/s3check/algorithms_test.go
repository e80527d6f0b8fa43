package s3check

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"testing"
)

// FORMATS.md A.3.
func TestDigestVectors(t *testing.T) {
	tests := []struct{ alg, in, want string }{
		{"CRC32", "hello world", "DUoRhQ=="},
		{"CRC32", "", "AAAAAA=="},
		{"CRC32", "123456789", "y/Q5Jg=="},
		{"CRC32", "Hello world", "i9aeUg=="},
		{"CRC32C", "hello world", "yZRlqg=="},
		{"CRC32C", "", "AAAAAA=="},
		{"CRC32C", "123456789", "4waSgw=="},
		{"CRC64NVME", "hello world", "jSnVw/bqjr4="},
		{"CRC64NVME", "", "AAAAAAAAAAA="},
		{"CRC64NVME", "123456789", "rosUhgp5mIg="},
		{"SHA1", "hello world", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
		{"SHA1", "", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
		{"SHA1", "123456789", "98O8HYCOBHMq32eZZczDTKeuNEE="},
		{"SHA256", "hello world", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
		{"SHA256", "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"SHA256", "123456789", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
		{"MD5", "hello world", "XrY7u+Ae7tCTyyK7j1rNww=="},
		{"MD5", "", "1B2M2Y8AsgTpgAmY7PhCfg=="},
		{"MD5", "123456789", "JfnnlDI7RTiF9RgfG2JNCw=="},
		{"SHA512", "hello world", "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="},
		{"XXHASH64", "Hello world", "xQCwyRKzdtg="},
		{"XXHASH64", "hello world", "RatnNLIeaWg="},
		{"XXHASH64", "", "70bbN1HY6Zk="},
		{"XXHASH3", "Hello world", "tqy52Eo4/3Q="},
		{"XXHASH3", "hello world", "1Eex6kDmmIs="},
		{"XXHASH3", "", "LQaABTjTlMI="},
		{"XXHASH128", "Hello world", "c1H4mBL5c4K5HQWzHgTdfw=="},
		{"XXHASH128", "hello world", "340J6T+HSQCpm4d1zBW2xw=="},
		{"XXHASH128", "", "maoG0wFHmNhgAcMkRo1Jfw=="},
	}
	for _, tt := range tests {
		got, ok := Digest(tt.alg, []byte(tt.in))
		if !ok || got != tt.want {
			t.Errorf("Digest(%s, %q) = %q, %v; want %q", tt.alg, tt.in, got, ok, tt.want)
		}
	}
	if _, ok := Digest("BLAKE3", nil); ok {
		t.Errorf("Digest(BLAKE3) ok = true, want false")
	}
}

// The hash behind each algorithm must also be right when fed in pieces
// (Check feeds chunks) and across Reset (layouts reuse part hashers).
func TestHashersIncremental(t *testing.T) {
	data := make([]byte, 300000)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	for _, name := range algorithmOrder {
		want, _ := Digest(name, data)
		h := algorithms[name].newHash()
		h.Write([]byte("garbage"))
		h.Reset()
		for off := 0; off < len(data); off += 4097 {
			h.Write(data[off:min(off+4097, len(data))])
		}
		if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s in pieces = %s, want %s", name, got, want)
		}
		if h.Size() != algorithms[name].size {
			t.Errorf("%s Size() = %d, want %d", name, h.Size(), algorithms[name].size)
		}
	}
}

// FORMATS.md A.3 negative vectors and A.2 trap: the wrong CRC-64 tables
// give these values for "123456789"; CRC64NVME must give none of them,
// and little-endian CRC32 encoding is not the S3 encoding.
func TestDigestNegativeVectors(t *testing.T) {
	in := []byte("123456789")
	nvme, _ := Digest("CRC64NVME", in)
	wrong := map[string]uint64{
		"ECMA":        0x995dc9bbdf1939fa,
		"ISO":         0xb90956c775a41001,
		"unreflected": 0xf76e0b6fa8d05e0d,
	}
	got := map[string]uint64{
		"ECMA":        crc64.Checksum(in, crc64.MakeTable(crc64.ECMA)),
		"ISO":         crc64.Checksum(in, crc64.MakeTable(crc64.ISO)),
		"unreflected": crc64.Checksum(in, crc64.MakeTable(0xad93d23594c93659)),
	}
	for name, w := range wrong {
		if got[name] != w {
			t.Errorf("crc64 %s(123456789) = %#x, want %#x", name, got[name], w)
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], w)
		if enc := base64.StdEncoding.EncodeToString(b[:]); enc == nvme {
			t.Errorf("CRC64NVME(123456789) = %s equals the %s table value", nvme, name)
		}
	}
	var le [4]byte
	binary.LittleEndian.PutUint32(le[:], crc32.ChecksumIEEE([]byte("hello world")))
	if enc := base64.StdEncoding.EncodeToString(le[:]); enc != "hRFKDQ==" {
		t.Fatalf("little-endian CRC32(hello world) = %s, want hRFKDQ==", enc)
	}
	if got, _ := Digest("CRC32", []byte("hello world")); got == "hRFKDQ==" {
		t.Errorf("Digest(CRC32) uses the little-endian encoding")
	}
	// A little-endian value exported as CRC32 is a mismatch, not valid.
	res := mustCheck(t, []byte("hello world"), meta("head-object", withChecksum("CRC32", "hRFKDQ=="), withType("FULL_OBJECT")))
	if res.Status != StatusChecksumMismatch {
		t.Errorf("little-endian CRC32: status %s, want %s", res.Status, StatusChecksumMismatch)
	}
}

func TestSplitSuffix(t *testing.T) {
	tests := []struct {
		in    string
		value string
		n     int
		ok    bool
	}{
		{"rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3", "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=", 3, true},
		{"7YCXxg==", "7YCXxg==", 0, true},
		{"DUoRhQ==-12", "DUoRhQ==", 12, true},
		{"DUoRhQ==-0", "DUoRhQ==-0", 0, false},
		{"DUoRhQ==-", "DUoRhQ==-", 0, false},
		{"DUoRhQ==-x", "DUoRhQ==-x", 0, false},
		{"4ba54d90a25d93d94b7b41c987352341-2", "4ba54d90a25d93d94b7b41c987352341", 2, true},
	}
	for _, tt := range tests {
		v, n, ok := splitSuffix(tt.in)
		if v != tt.value || n != tt.n || ok != tt.ok {
			t.Errorf("splitSuffix(%q) = %q, %d, %v; want %q, %d, %v", tt.in, v, n, ok, tt.value, tt.n, tt.ok)
		}
	}
}
