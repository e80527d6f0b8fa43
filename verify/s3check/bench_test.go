package s3check

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

func benchData(n int) []byte {
	data := make([]byte, n)
	x := uint32(2463534242)
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	return data
}

func benchPlan(b *testing.B, rows ...store.ObjectMeta) *Plan {
	p, err := NewPlan(rows)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func runBench(b *testing.B, p *Plan, data []byte) {
	b.Run("sequential", func(b *testing.B) { runBench1(b, p, data) })
	q := *p
	q.Parallel = true
	b.Run("parallel", func(b *testing.B) { runBench1(b, &q, data) })
}

func runBench1(b *testing.B, p *Plan, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	r := bytes.NewReader(data)
	for b.Loop() {
		r.Reset(data)
		if res := p.Check(r); res.Status != StatusValid {
			b.Fatalf("status %s: %s", res.Status, res.Reason)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	const size = 20 << 20
	data := benchData(size)
	sz := int64(size)

	b.Run("SHA256", func(b *testing.B) {
		runBench(b, benchPlan(b, store.ObjectMeta{Source: "head-object", Size: &sz, ChecksumType: "FULL_OBJECT",
			Checksums: map[string]string{"SHA256": mustDigest("SHA256", data)}}), data)
	})

	b.Run("SHA256+ETag", func(b *testing.B) {
		runBench(b, benchPlan(b, store.ObjectMeta{Source: "head-object", Size: &sz, ChecksumType: "FULL_OBJECT",
			Checksums: map[string]string{"SHA256": mustDigest("SHA256", data)}, ETag: hexMD5(data)}), data)
	})

	b.Run("AllFullObject", func(b *testing.B) {
		sums := map[string]string{}
		for _, a := range algorithmOrder {
			sums[a] = mustDigest(a, data)
		}
		runBench(b, benchPlan(b, store.ObjectMeta{Source: "head-object", Size: &sz, ChecksumType: "FULL_OBJECT", Checksums: sums, ETag: hexMD5(data)}), data)
	})

	// 20 MiB in 2 parts: 15 MiB and 16 MiB are both consistent, so
	// SHA256 and MD5 are computed along both.
	b.Run("MultipartCandidates", func(b *testing.B) {
		sha, etag := multipartValues(data, 16<<20)
		runBench(b, benchPlan(b, store.ObjectMeta{Source: "head-object", Size: &sz, ChecksumType: "COMPOSITE",
			Checksums: map[string]string{"SHA256": sha}, ETag: etag}), data)
	})

	// The common real case: ObjectParts known, SHA256 COMPOSITE, part
	// checksums and multipart ETag.
	b.Run("MultipartObjectParts", func(b *testing.B) {
		const part = 5 << 20
		sha, etag := multipartValues(data, part)
		attrs := store.ObjectMeta{Source: "get-object-attributes", Size: &sz, ChecksumType: "COMPOSITE", Checksums: map[string]string{"SHA256": sha}, ETag: etag}
		for i := 0; i*part < size; i++ {
			s := int64(min(part, size-i*part))
			attrs.Parts = append(attrs.Parts, store.ObjectPart{PartNumber: i + 1, Size: &s,
				Checksums: map[string]string{"SHA256": mustDigest("SHA256", data[i*part:i*part+int(s)])}})
		}
		n := len(attrs.Parts)
		attrs.PartsCount = &n
		runBench(b, benchPlan(b, attrs, store.ObjectMeta{Source: "head-object", SSE: "AES256"}), data)
	})
}

func hexMD5(data []byte) string {
	h := algorithms["MD5"].newHash()
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// multipartValues returns the "-N" SHA256 composite and multipart ETag of
// data uploaded in parts of the given size.
func multipartValues(data []byte, part int) (sha, etag string) {
	var shas, md5s []byte
	n := 0
	for off := 0; off < len(data); off += part {
		p := data[off:min(off+part, len(data))]
		h := algorithms["SHA256"].newHash()
		h.Write(p)
		shas = h.Sum(shas)
		m := algorithms["MD5"].newHash()
		m.Write(p)
		md5s = m.Sum(md5s)
		n++
	}
	suffix := "-" + strconv.Itoa(n)
	return mustDigest("SHA256", shas) + suffix, hexMD5(md5s) + suffix
}
