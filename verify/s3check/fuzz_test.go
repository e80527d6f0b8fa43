package s3check

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

// FuzzCheck: random metadata and random bytes must not panic, every byte
// is counted, and the status agrees with the checks: valid means at
// least one check ran and every check that ran matched.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("hello world"), uint8(0), "", "FULL_OBJECT", int64(11), "5eb63bbbe01eeed093cb22bb8f5acdc3", 0, []byte{}, "", true, "")
	f.Add([]byte("hello world"), uint8(4), "-1", "COMPOSITE", int64(11), "x", 1, []byte{0, 5, 0, 6, 0xff}, "aws:kms", true, "")
	f.Add([]byte("hello world"), uint8(5), "-2", "", int64(-1), "5eb63bbbe01eeed093cb22bb8f5acdc3-2", 2, []byte{0, 5, 0, 6, 3, 0}, "AES256", false, "get-object-attributes")
	f.Add(bytes.Repeat([]byte("ab"), 5000), uint8(1), "", "COMPOSITE", int64(10000), "", 3, []byte{0x10, 0, 0x10, 0, 0x07, 0x10, 1}, "", true, "head-object")
	f.Fuzz(func(t *testing.T, data []byte, algSel uint8, suffix, typ string, size int64, etag string, partsCount int, partSpec []byte, sse string, real bool, source2 string) {
		alg := "UNKNOWN"
		if int(algSel) < len(algorithmOrder) {
			alg = algorithmOrder[algSel]
		} else if algSel%2 == 0 {
			alg = algorithmOrder[int(algSel)%len(algorithmOrder)]
		}
		value := suffix
		if real {
			if d, ok := Digest(alg, data); ok {
				value = d + suffix
			}
		}
		head := store.ObjectMeta{Source: "head-object", EvidenceID: 1, Checksums: map[string]string{alg: value}, ChecksumType: typ, ETag: etag, SSE: sse}
		if size >= 0 {
			head.Size = &size
		}
		rows := []store.ObjectMeta{head}
		if source2 != "" {
			attrs := store.ObjectMeta{Source: source2, EvidenceID: 2, ChecksumType: typ}
			if partsCount != 0 {
				attrs.PartsCount = &partsCount
			}
			// partSpec: 3 bytes per part: 2 size bytes, 1 flag byte.
			var off int
			for i := 0; i+3 <= len(partSpec) && i < 3*64; i += 3 {
				s := int64(binary.BigEndian.Uint16(partSpec[i:]))
				flags := partSpec[i+2]
				p := store.ObjectPart{PartNumber: len(attrs.Parts) + 1 + int(flags>>6), Checksums: map[string]string{}}
				if flags&1 == 0 {
					p.Size = &s
				}
				if flags&2 != 0 {
					end := min(off+int(s), len(data))
					d, _ := Digest(alg, data[min(off, end):end])
					p.Checksums[alg] = d
				}
				off += int(s)
				attrs.Parts = append(attrs.Parts, p)
			}
			rows = append(rows, attrs)
		}
		p, err := NewPlan(rows)
		if err != nil {
			t.Fatalf("NewPlan: %v", err)
		}
		res := p.Check(bytes.NewReader(data))
		if res.Size != int64(len(data)) {
			t.Fatalf("Size = %d, want %d", res.Size, len(data))
		}
		ran, bad := 0, 0
		for _, c := range res.Checks {
			if c.Skipped {
				if c.Match {
					t.Fatalf("skipped check marked as match: %+v", c)
				}
				if c.Reason == "" {
					t.Fatalf("skipped check without reason: %+v", c)
				}
				continue
			}
			ran++
			if !c.Match {
				bad++
			}
		}
		switch res.Status {
		case StatusValid:
			if ran == 0 || bad > 0 {
				t.Fatalf("valid with %d checks run, %d not matching: %+v", ran, bad, res.Checks)
			}
			if res.ExpectedSize != nil && *res.ExpectedSize != res.Size {
				t.Fatalf("valid with size %d, expected %d", res.Size, *res.ExpectedSize)
			}
		case StatusChecksumMismatch:
			if bad == 0 {
				t.Fatalf("checksum_mismatch without a failed check: %+v", res.Checks)
			}
		case StatusUnverifiable:
			if ran > 0 || res.Reason == "" {
				t.Fatalf("unverifiable with %d checks run, reason %q", ran, res.Reason)
			}
		case StatusSizeMismatch:
			if res.Reason == "" {
				t.Fatalf("size_mismatch without reason")
			}
		default:
			t.Fatalf("unknown status %q", res.Status)
		}
		// The same plan gives the same result twice (no state kept).
		if again := p.Check(bytes.NewReader(data)); again.Status != res.Status || len(again.Checks) != len(res.Checks) {
			t.Fatalf("second Check: %s/%d, first %s/%d", again.Status, len(again.Checks), res.Status, len(res.Checks))
		}
	})
}
