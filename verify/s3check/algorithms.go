package s3check

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/crc64nvme"
	"github.com/zeebo/xxh3"
)

// algorithm is one S3 checksum algorithm (FORMATS.md A.1).
type algorithm struct {
	name    string
	size    int // digest bytes
	newHash func() hash.Hash
	// compositeKnown: S3's COMPOSITE rule (hash of the concatenated raw
	// part digests) is documented and reproduced for this algorithm
	// (FORMATS.md A.4, A.5). For the others it is only assumed.
	compositeKnown bool
	// cost is the relative time per byte (about 100 for 1 GB/s), used to
	// split the hashers over two goroutines.
	cost int
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var algorithms = map[string]*algorithm{
	"CRC32":     {name: "CRC32", size: 4, newHash: func() hash.Hash { return crc32.NewIEEE() }, compositeKnown: true, cost: 3},
	"CRC32C":    {name: "CRC32C", size: 4, newHash: func() hash.Hash { return crc32.New(castagnoli) }, compositeKnown: true, cost: 5},
	"CRC64NVME": {name: "CRC64NVME", size: 8, newHash: func() hash.Hash { return crc64nvme.New() }, cost: 2},
	"SHA1":      {name: "SHA1", size: 20, newHash: sha1.New, compositeKnown: true, cost: 70},
	"SHA256":    {name: "SHA256", size: 32, newHash: sha256.New, compositeKnown: true, cost: 75},
	"SHA512":    {name: "SHA512", size: 64, newHash: sha512.New, cost: 230},
	"MD5":       {name: "MD5", size: 16, newHash: md5.New, cost: 160},
	"XXHASH64":  {name: "XXHASH64", size: 8, newHash: func() hash.Hash { return xxhash.New() }, cost: 10},
	"XXHASH3":   {name: "XXHASH3", size: 8, newHash: func() hash.Hash { return xxh3.New() }, cost: 5},
	"XXHASH128": {name: "XXHASH128", size: 16, newHash: func() hash.Hash { return xxh128{xxh3.New()} }, cost: 5},
}

// algorithmOrder is the order checks are reported in.
var algorithmOrder = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"}

// xxh128 is XXH3_128bits, seed 0, whose Sum is high64 || low64, both
// big-endian (FORMATS.md A.2).
type xxh128 struct{ *xxh3.Hasher }

func (h xxh128) Size() int { return 16 }

func (h xxh128) Sum(b []byte) []byte {
	s := h.Sum128().Bytes()
	return append(b, s[:]...)
}

// Digest returns the checksum of data with the named S3 algorithm (one of
// the keys of store.ObjectMeta.Checksums) in the exported encoding:
// standard base64 of the big-endian digest bytes. ok is false for an
// unknown algorithm.
func Digest(algorithm string, data []byte) (value string, ok bool) {
	a := algorithms[algorithm]
	if a == nil {
		return "", false
	}
	h := a.newHash()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}

// Composite returns S3's COMPOSITE checksum of the given part checksums
// (base64, as in ObjectParts.Parts[].Checksum<ALG>): the algorithm applied
// to the concatenation of the raw part digests, base64-encoded, without
// the "-N" suffix (FORMATS.md A.5).
func Composite(algorithm string, parts []string) (string, error) {
	a := algorithms[algorithm]
	if a == nil {
		return "", &valueError{what: "algorithm", value: algorithm, why: "unknown"}
	}
	h := a.newHash()
	for i, p := range parts {
		raw, err := decodeDigest(a, p)
		if err != nil {
			return "", &valueError{what: "part " + strconv.Itoa(i+1) + " " + a.name, value: p, why: err.Error()}
		}
		h.Write(raw)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

type valueError struct{ what, value, why string }

func (e *valueError) Error() string {
	return e.what + " " + strconv.Quote(e.value) + ": " + e.why
}

// splitSuffix splits "value-N" into value and N. n is 0 when there is no
// suffix; ok is false when a suffix is present but is not a positive
// decimal number. Base64 never contains '-', so the last '-' starts the
// suffix.
func splitSuffix(s string) (value string, n int, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return s, 0, true
	}
	d := s[i+1:]
	if d == "" || len(d) > 9 || strings.Trim(d, "0123456789") != "" {
		return s, 0, false
	}
	n, _ = strconv.Atoi(d)
	if n < 1 {
		return s, 0, false
	}
	return s[:i], n, true
}

// decodeDigest decodes a base64 checksum value (padding optional) and
// checks its length against the algorithm.
func decodeDigest(a *algorithm, s string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errNotBase64
	}
	if len(raw) != a.size {
		return nil, &lengthError{got: len(raw), want: a.size}
	}
	return raw, nil
}

var errNotBase64 = simpleError("not base64")

type simpleError string

func (e simpleError) Error() string { return string(e) }

type lengthError struct{ got, want int }

func (e *lengthError) Error() string {
	return "decodes to " + strconv.Itoa(e.got) + " bytes, want " + strconv.Itoa(e.want)
}

// isHexMD5 reports whether s is 32 hex digits.
func isHexMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
