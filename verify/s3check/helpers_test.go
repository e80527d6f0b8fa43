package s3check

import (
	"bytes"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

type opt func(*store.ObjectMeta)

func meta(source string, opts ...opt) store.ObjectMeta {
	m := store.ObjectMeta{Source: source, Bucket: "b", Key: "k", EvidenceID: 1}
	for _, o := range opts {
		o(&m)
	}
	return m
}

func withChecksum(alg, v string) opt {
	return func(m *store.ObjectMeta) {
		if m.Checksums == nil {
			m.Checksums = map[string]string{}
		}
		m.Checksums[alg] = v
	}
}
func withType(t string) opt        { return func(m *store.ObjectMeta) { m.ChecksumType = t } }
func withSize(n int64) opt         { return func(m *store.ObjectMeta) { m.Size = &n } }
func withETag(e string) opt        { return func(m *store.ObjectMeta) { m.ETag = e } }
func withSSE(s string) opt         { return func(m *store.ObjectMeta) { m.SSE = s } }
func withVersion(v string) opt     { return func(m *store.ObjectMeta) { m.VersionID = v } }
func withEvidence(id int64) opt    { return func(m *store.ObjectMeta) { m.EvidenceID = id } }
func withPartsCount(n int) opt     { return func(m *store.ObjectMeta) { m.PartsCount = &n } }
func withSSECustomer(a string) opt { return func(m *store.ObjectMeta) { m.SSECustomer = a } }

// withParts adds ObjectParts: sizes[i] is part i+1's size (-1: none) and
// sums[alg][i] its checksum ("" none).
func withParts(first int, sizes []int64, sums map[string][]string) opt {
	return func(m *store.ObjectMeta) {
		for i, s := range sizes {
			p := store.ObjectPart{PartNumber: first + i, Checksums: map[string]string{}}
			if s >= 0 {
				s := s
				p.Size = &s
			}
			for alg, vs := range sums {
				if vs[i] != "" {
					p.Checksums[alg] = vs[i]
				}
			}
			m.Parts = append(m.Parts, p)
		}
	}
}

func mustCheck(t *testing.T, data []byte, metas ...store.ObjectMeta) Result {
	t.Helper()
	res, err := Verify(metas, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// synthetic is FORMATS.md A.5's 2-part object: 5 MiB of 'a', then
// "hello world".
var synthetic = append(bytes.Repeat([]byte("a"), 5<<20), "hello world"...)

const syntheticSize = 5<<20 + 11

var syntheticSizes = []int64{5 << 20, 11}

// syntheticParts are the part checksums of FORMATS.md A.5.
var syntheticParts = map[string][]string{
	"CRC32":     {"r/zBbw==", "DUoRhQ=="},
	"CRC32C":    {"WpuOeg==", "yZRlqg=="},
	"CRC64NVME": {"PbvLEkWUSgg=", "jSnVw/bqjr4="},
	"SHA1":      {"YbjWYArJTZEodPVpqTQRIPaAyfg=", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
	"SHA256":    {"oplo+tLngqqfIECjXwWtuX7Yl56x9XLIyOp4Y34nXzw=", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
}

// check finds the first check of alg and type.
func findCheck(t *testing.T, res Result, alg, typ string) Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.Algorithm == alg && c.Type == typ {
			return c
		}
	}
	t.Fatalf("no %s %s check in %+v", alg, typ, res.Checks)
	return Check{}
}
