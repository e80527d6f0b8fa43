package s3check

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	methodCand5 = "assumed uniform part size 5 MiB (consistent, not proven)"
	methodParts = "parts from ObjectParts (2 parts)"
)

// The synthetic 2-part object of FORMATS.md A.5, COMPOSITE: head-object
// form with "-2" (no part sizes: found by candidate part size) and
// get-object-attributes form without suffix, with ObjectParts.
func TestSyntheticComposite(t *testing.T) {
	composite := map[string]string{"CRC32": "NSvTHQ==", "CRC32C": "/agQOQ==", "SHA1": "h4DBaMG2SDGJYciDl4eJvWBvCe8=",
		"SHA256": "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0="}
	for alg, v := range composite {
		t.Run(alg+"/head-object", func(t *testing.T) {
			res := mustCheck(t, synthetic, meta("head-object", withChecksum(alg, v+"-2"), withType("COMPOSITE"), withSize(syntheticSize)))
			assert.Equal(t, StatusValid, res.Status, res.Reason)
			assert.Equal(t, []Check{{Algorithm: alg, Type: TypeComposite, Expected: v + "-2", Computed: v + "-2", Match: true, Method: methodCand5}}, res.Checks)
		})
		t.Run(alg+"/head-object without type", func(t *testing.T) {
			res := mustCheck(t, synthetic, meta("head-object", withChecksum(alg, v+"-2"), withSize(syntheticSize)))
			assert.Equal(t, StatusValid, res.Status, res.Reason)
			assert.Equal(t, []Check{{Algorithm: alg, Type: TypeComposite, Expected: v + "-2", Computed: v + "-2", Match: true, Method: methodCand5}}, res.Checks)
		})
		t.Run(alg+"/attributes", func(t *testing.T) {
			res := mustCheck(t, synthetic, meta("get-object-attributes", withChecksum(alg, v), withType("COMPOSITE"), withSize(syntheticSize),
				withPartsCount(2), withParts(1, syntheticSizes, map[string][]string{alg: syntheticParts[alg]})))
			assert.Equal(t, StatusValid, res.Status, res.Reason)
			assert.Equal(t, []Check{
				{Algorithm: alg, Type: TypeComposite, Expected: v, Computed: v, Match: true, Method: methodParts},
				{Algorithm: alg, Type: TypePart, Expected: syntheticParts[alg][0], Computed: syntheticParts[alg][0], Match: true, Method: "part 1 of 2 from ObjectParts (bytes 0-5242879)"},
				{Algorithm: alg, Type: TypePart, Expected: syntheticParts[alg][1], Computed: syntheticParts[alg][1], Match: true, Method: "part 2 of 2 from ObjectParts (bytes 5242880-5242890)"},
			}, res.Checks)
		})
		t.Run(alg+"/attributes without suffix or parts", func(t *testing.T) {
			// COMPOSITE declared, part count known, sizes not exported.
			res := mustCheck(t, synthetic, meta("get-object-attributes", withChecksum(alg, v), withType("COMPOSITE"), withSize(syntheticSize), withPartsCount(2)))
			assert.Equal(t, StatusValid, res.Status, res.Reason)
			assert.Equal(t, []Check{{Algorithm: alg, Type: TypeComposite, Expected: v, Computed: v, Match: true, Method: methodCand5}}, res.Checks)
		})
	}
}

// FULL_OBJECT multipart CRCs (FORMATS.md A.5, A.6): no suffix, the CRC of
// all bytes; the exported part CRCs are checked too.
func TestSyntheticFullObject(t *testing.T) {
	full := map[string]string{"CRC32": "WrTTSg==", "CRC32C": "a9j9dQ==", "CRC64NVME": "tUz56p+TDl0="}
	for alg, v := range full {
		res := mustCheck(t, synthetic, meta("get-object-attributes", withChecksum(alg, v), withType("FULL_OBJECT"), withSize(syntheticSize),
			withPartsCount(2), withParts(1, syntheticSizes, map[string][]string{alg: syntheticParts[alg]})))
		assert.Equal(t, StatusValid, res.Status, alg)
		require.Len(t, res.Checks, 3, alg)
		assert.Equal(t, Check{Algorithm: alg, Type: TypeFullObject, Expected: v, Computed: v, Match: true, Method: "full object"}, res.Checks[0])
		assert.Equal(t, TypePart, res.Checks[2].Type)
		assert.True(t, res.Checks[2].Match)

		res = mustCheck(t, synthetic, meta("head-object", withChecksum(alg, v), withType("FULL_OBJECT"), withSize(syntheticSize)))
		assert.Equal(t, StatusValid, res.Status, alg)
		assert.Equal(t, []Check{{Algorithm: alg, Type: TypeFullObject, Expected: v, Computed: v, Match: true, Method: "full object"}}, res.Checks)
	}
}

func TestSyntheticMultipartETag(t *testing.T) {
	const etag = "4ba54d90a25d93d94b7b41c987352341-2"
	t.Run("ObjectParts sizes", func(t *testing.T) {
		res := mustCheck(t, synthetic, meta("get-object-attributes", withETag(etag), withSize(syntheticSize), withPartsCount(2),
			withParts(1, syntheticSizes, nil)), meta("head-object", withETag(etag), withSSE("AES256")))
		assert.Equal(t, StatusValid, res.Status, res.Reason)
		assert.Equal(t, []Check{{Algorithm: "ETAG", Type: TypeMultipartETag, Expected: etag, Computed: etag, Match: true, Method: methodParts}}, res.Checks)
	})
	t.Run("candidate part size", func(t *testing.T) {
		res := mustCheck(t, synthetic, meta("head-object", withETag(`"`+etag+`"`), withSize(syntheticSize)))
		assert.Equal(t, StatusValid, res.Status, res.Reason)
		assert.Equal(t, []Check{{Algorithm: "ETAG", Type: TypeMultipartETag, Expected: etag, Computed: etag, Match: true, Method: methodCand5}}, res.Checks)
	})
	t.Run("wrong ETag with exact sizes is a mismatch", func(t *testing.T) {
		bad := "4ba54d90a25d93d94b7b41c987352342-2"
		res := mustCheck(t, synthetic, meta("head-object", withETag(bad), withSize(syntheticSize), withSSE("AES256")),
			meta("get-object-attributes", withPartsCount(2), withParts(1, syntheticSizes, nil)))
		assert.Equal(t, StatusChecksumMismatch, res.Status)
		assert.Equal(t, []Check{{Algorithm: "ETAG", Type: TypeMultipartETag, Expected: bad, Computed: etag, Method: methodParts}}, res.Checks)
	})
	t.Run("wrong ETag without sizes is skipped", func(t *testing.T) {
		bad := "4ba54d90a25d93d94b7b41c987352342-2"
		res := mustCheck(t, synthetic, meta("head-object", withETag(bad), withSize(syntheticSize)))
		assert.Equal(t, StatusUnverifiable, res.Status)
		require.Len(t, res.Checks, 1)
		assert.True(t, res.Checks[0].Skipped)
		assert.Equal(t, "multipart ETag of 2 parts without exported part sizes: no candidate part size reproduced it (tried 5 MiB)", res.Checks[0].Reason)
		assert.Equal(t, "ETAG MULTIPART_ETAG: "+res.Checks[0].Reason, res.Reason)
	})
	t.Run("single-part ETag", func(t *testing.T) {
		res := mustCheck(t, synthetic, meta("head-object", withETag("1e2aeee21cb9637850dc65fe88c27cd7"), withSize(syntheticSize)))
		assert.Equal(t, StatusValid, res.Status)
		assert.Equal(t, []Check{{Algorithm: "ETAG", Type: TypeSingleETag, Expected: "1e2aeee21cb9637850dc65fe88c27cd7", Computed: "1e2aeee21cb9637850dc65fe88c27cd7", Match: true, Method: "full object"}}, res.Checks)
	})
}

// Real S3, SHA256, 3 parts (FORMATS.md A.5): ObjectParts checksums that
// combine to the exported composite are self-consistent.
func TestRealS3CompositeFromParts(t *testing.T) {
	parts := []string{"lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=", "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=", "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM="}
	got, err := Composite("SHA256", parts)
	require.NoError(t, err)
	assert.Equal(t, "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=", got)
	// head-object "-3" and attributes without suffix are one value.
	p, err := NewPlan([]store.ObjectMeta{
		meta("head-object", withChecksum("SHA256", got+"-3"), withType("COMPOSITE"), withSize(11<<20)),
		meta("get-object-attributes", withChecksum("SHA256", got), withType("COMPOSITE"), withPartsCount(3), withSize(11<<20)),
	})
	require.NoError(t, err)
	assert.Empty(t, p.Conflicts)
	require.Len(t, p.expects, 1)
	assert.Equal(t, got+"-3", p.expects[0].display)
	assert.Equal(t, 3, p.PartsCount)
	// 11 MiB in 3 parts: 5 MiB is the only candidate.
	assert.Equal(t, []int64{5 << 20}, p.expects[0].cands)
}

func TestStatuses(t *testing.T) {
	data := []byte("hello world")
	good := []store.ObjectMeta{meta("head-object", withChecksum("SHA256", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="),
		withChecksum("CRC32", "DUoRhQ=="), withType("FULL_OBJECT"), withETag("5eb63bbbe01eeed093cb22bb8f5acdc3"), withSize(11))}

	res := mustCheck(t, data, good...)
	assert.Equal(t, StatusValid, res.Status)
	assert.Equal(t, int64(11), res.Size)
	assert.Empty(t, res.Reason)
	assert.Len(t, res.Checks, 3)

	flipped := []byte("hello worle")
	res = mustCheck(t, flipped, good...)
	assert.Equal(t, StatusChecksumMismatch, res.Status)
	for _, c := range res.Checks {
		assert.False(t, c.Match, c.Algorithm)
		assert.False(t, c.Skipped, c.Algorithm)
	}
	assert.Equal(t, Check{Algorithm: "SHA256", Type: TypeFullObject, Expected: "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
		Computed: mustDigest("SHA256", flipped), Method: "full object"}, findCheck(t, res, "SHA256", TypeFullObject))

	res = mustCheck(t, append(bytes.Clone(data), '!'), good...)
	assert.Equal(t, StatusSizeMismatch, res.Status)
	assert.Equal(t, "read 12 bytes, metadata says 11", res.Reason)
	assert.Len(t, res.Checks, 3, "checksum checks are still recorded")
	assert.False(t, res.Checks[0].Match)

	res = mustCheck(t, data, meta("head-object", withSize(11)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, "no checksum or ETag exported", res.Reason)
	assert.Empty(t, res.Checks)

	res = mustCheck(t, data, meta("list-object-versions", withSize(11), func(m *store.ObjectMeta) { m.Algorithms = []string{"CRC64NVME"} }))
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, "no checksum or ETag exported (the metadata names checksum algorithm(s) CRC64NVME but exports no value)", res.Reason)

	for _, sse := range []struct{ sse, cust, reason string }{
		{"aws:kms", "", "not verifiable by ETag: the object is encrypted with SSE-KMS (aws:kms), whose ETag is not an MD5"},
		{"aws:kms:dsse", "", "not verifiable by ETag: the object is encrypted with DSSE-KMS (aws:kms:dsse), whose ETag is not an MD5"},
		{"", "AES256", "not verifiable by ETag: the object is encrypted with SSE-C (SSECustomerAlgorithm AES256), whose ETag is not an MD5"},
		{"SSE-KMS", "", "not verifiable by ETag: the object is encrypted with SSE-KMS (SSE-KMS), whose ETag is not an MD5"},
	} {
		// Even a matching-looking ETag is not evidence for SSE-KMS/SSE-C.
		for _, etag := range []string{"0123456789abcdef0123456789abcdef", "5eb63bbbe01eeed093cb22bb8f5acdc3"} {
			res = mustCheck(t, data, meta("head-object", withETag(etag), withSSE(sse.sse), withSSECustomer(sse.cust), withSize(11)))
			assert.Equal(t, StatusUnverifiable, res.Status, sse.sse)
			assert.Equal(t, []Check{{Algorithm: "ETAG", Type: TypeSingleETag, Expected: etag, Skipped: true, Reason: sse.reason}}, res.Checks)
			assert.Equal(t, "ETAG SINGLE_ETAG: "+sse.reason, res.Reason)
		}
	}
	// SSE-KMS ETag next to a checksum: the checksum decides.
	res = mustCheck(t, data, meta("head-object", withETag("0123456789abcdef0123456789abcdef"), withSSE("aws:kms"), withChecksum("CRC32", "DUoRhQ=="), withSize(11)))
	assert.Equal(t, StatusValid, res.Status)
	assert.Len(t, res.Checks, 2)
}

func mustDigest(alg string, b []byte) string {
	d, _ := Digest(alg, b)
	return d
}

// Without a head-object row nothing says how the object is encrypted: a
// matching ETag is valid, a differing one is skipped.
func TestETagEncryptionUnknown(t *testing.T) {
	data := []byte("hello world")
	res := mustCheck(t, data, meta("get-object-attributes", withETag("5eb63bbbe01eeed093cb22bb8f5acdc3"), withSize(11)))
	assert.Equal(t, StatusValid, res.Status)
	res = mustCheck(t, data, meta("get-object-attributes", withETag("0123456789abcdef0123456789abcdef"), withSize(11)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, []Check{{Algorithm: "ETAG", Type: TypeSingleETag, Expected: "0123456789abcdef0123456789abcdef", Computed: "5eb63bbbe01eeed093cb22bb8f5acdc3",
		Method: "full object: 5eb63bbbe01eeed093cb22bb8f5acdc3", Skipped: true,
		Reason: "not verifiable by ETag: it does not equal the MD5 computed, and " + etagSSEUnknown}}, res.Checks)
	// head-object without ServerSideEncryption: plaintext, so a mismatch.
	res = mustCheck(t, data, meta("head-object", withETag("0123456789abcdef0123456789abcdef"), withSize(11)))
	assert.Equal(t, StatusChecksumMismatch, res.Status)
	// Not an MD5 shape at all.
	res = mustCheck(t, data, meta("head-object", withETag("W/abc"), withSize(11)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, "ETAG: not verifiable by ETag: the ETag is not an MD5 (not 32 hex digits, optionally followed by -N)", res.Reason)
}

// head-object and get-object-attributes of one version merge into one
// plan: the suffixed and plain forms are one value; sizes, SSE and parts
// combine.
func TestVersionMerge(t *testing.T) {
	head := meta("head-object", withVersion("3HL4kqtJvjVBH40Nrjfkd"), withEvidence(7), withChecksum("SHA256", "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0=-2"),
		withType("COMPOSITE"), withETag("4ba54d90a25d93d94b7b41c987352341-2"), withSize(syntheticSize), withSSE("AES256"))
	attrs := meta("get-object-attributes", withVersion("3HL4kqtJvjVBH40Nrjfkd"), withEvidence(8), withChecksum("SHA256", "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0="),
		withType("COMPOSITE"), withETag("4ba54d90a25d93d94b7b41c987352341-2"), withSize(syntheticSize), withPartsCount(2),
		withParts(1, []int64{5 << 20}, map[string][]string{"SHA256": syntheticParts["SHA256"][:1]}))
	// Second page of ObjectParts.
	attrs2 := meta("get-object-attributes", withVersion("3HL4kqtJvjVBH40Nrjfkd"), withEvidence(9), withPartsCount(2),
		withParts(2, []int64{11}, map[string][]string{"SHA256": syntheticParts["SHA256"][1:]}))
	p, err := NewPlan([]store.ObjectMeta{head, attrs, attrs2})
	require.NoError(t, err)
	assert.Empty(t, p.Conflicts)
	assert.Equal(t, syntheticSizes, p.PartSizes)
	assert.Equal(t, 2, p.PartsCount)
	assert.Equal(t, "3HL4kqtJvjVBH40Nrjfkd", p.VersionID)
	res := p.Check(bytes.NewReader(synthetic))
	assert.Equal(t, StatusValid, res.Status, res.Reason)
	want := []Check{
		{Algorithm: "SHA256", Type: TypeComposite, Expected: "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0=-2", Computed: "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0=-2", Match: true, Method: methodParts},
		{Algorithm: "ETAG", Type: TypeMultipartETag, Expected: "4ba54d90a25d93d94b7b41c987352341-2", Computed: "4ba54d90a25d93d94b7b41c987352341-2", Match: true, Method: methodParts},
		{Algorithm: "SHA256", Type: TypePart, Expected: syntheticParts["SHA256"][0], Computed: syntheticParts["SHA256"][0], Match: true, Method: "part 1 of 2 from ObjectParts (bytes 0-5242879)"},
		{Algorithm: "SHA256", Type: TypePart, Expected: syntheticParts["SHA256"][1], Computed: syntheticParts["SHA256"][1], Match: true, Method: "part 2 of 2 from ObjectParts (bytes 5242880-5242890)"},
	}
	assert.Equal(t, want, res.Checks)

	// One byte flipped in part 2: the part check says which part.
	bad := bytes.Clone(synthetic)
	bad[len(bad)-1] ^= 1
	res = p.Check(bytes.NewReader(bad))
	assert.Equal(t, StatusChecksumMismatch, res.Status)
	assert.True(t, res.Checks[2].Match, "part 1 intact")
	assert.False(t, res.Checks[3].Match, "part 2 changed")
	assert.False(t, res.Checks[0].Match)
	assert.False(t, res.Checks[1].Match)

	// Rows of different versions or keys do not merge.
	other := meta("get-object-attributes", withVersion("other"))
	_, err = NewPlan([]store.ObjectMeta{head, other})
	assert.EqualError(t, err, `new plan: rows describe different objects: version "3HL4kqtJvjVBH40Nrjfkd" and "other" (evidence 1, get-object-attributes)`)
	_, err = NewPlan(nil)
	assert.EqualError(t, err, "new plan: no metadata rows")
	dm := meta("list-object-versions", func(m *store.ObjectMeta) { m.DeleteMarker = true })
	_, err = NewPlan([]store.ObjectMeta{dm})
	assert.EqualError(t, err, "new plan: evidence 1 (list-object-versions): a delete marker has no content to verify")
}

func TestConflicts(t *testing.T) {
	data := []byte("hello world")
	head := meta("head-object", withEvidence(1), withChecksum("CRC32", "DUoRhQ=="), withType("FULL_OBJECT"), withSize(11))
	attrs := meta("get-object-attributes", withEvidence(2), withChecksum("CRC32", "i9aeUg=="), withType("COMPOSITE"), withSize(12))
	p, err := NewPlan([]store.ObjectMeta{head, attrs})
	require.NoError(t, err)
	assert.Equal(t, []Conflict{
		{Field: "Size", Values: []Claim{{"11", "head-object", 1}, {"12", "get-object-attributes", 2}}},
		{Field: "ChecksumType", Values: []Claim{{"FULL_OBJECT", "head-object", 1}, {"COMPOSITE", "get-object-attributes", 2}}},
		{Field: "ChecksumCRC32", Values: []Claim{{"DUoRhQ==", "head-object", 1}, {"i9aeUg==", "get-object-attributes", 2}}},
	}, p.Conflicts)
	res := p.Check(bytes.NewReader(data))
	assert.Equal(t, StatusSizeMismatch, res.Status)
	assert.Equal(t, "read 11 bytes, metadata says 12", res.Reason)
	assert.Equal(t, p.Conflicts, res.Conflicts)
	require.Len(t, res.Checks, 2)
	assert.True(t, res.Checks[0].Match)
	assert.False(t, res.Checks[1].Match)

	// Same size, conflicting checksums: one matches, one does not.
	attrs = meta("get-object-attributes", withEvidence(2), withChecksum("CRC32", "i9aeUg=="), withType("FULL_OBJECT"), withSize(11))
	res = mustCheck(t, data, head, attrs)
	assert.Equal(t, StatusChecksumMismatch, res.Status)
	assert.Equal(t, "CRC32 FULL_OBJECT expected i9aeUg==, computed DUoRhQ==", res.Reason)
	assert.Equal(t, []Conflict{{Field: "ChecksumCRC32", Values: []Claim{{"DUoRhQ==", "head-object", 1}, {"i9aeUg==", "get-object-attributes", 2}}}}, res.Conflicts)

	// Conflicting part counts ("-2" vs TotalPartsCount 3).
	h := meta("head-object", withChecksum("SHA256", "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0=-2"), withSize(syntheticSize))
	a := meta("get-object-attributes", withEvidence(2), withPartsCount(3))
	res = mustCheck(t, synthetic, h, a)
	assert.Equal(t, []Conflict{{Field: "PartsCount", Values: []Claim{{"2", "head-object (ChecksumSHA256 suffix)", 1}, {"3", "get-object-attributes", 2}}}}, res.Conflicts)
	assert.Equal(t, StatusValid, res.Status, "the value's own suffix decides its part count")
}

// SHA512 and the xxHash family: S3's composite rule is not documented, so
// a COMPOSITE value that matches neither way is skipped, not a mismatch;
// one that equals the whole-object digest matches.
func TestUnverifiedCompositeRule(t *testing.T) {
	data := []byte("hello world")
	sha512 := mustDigest("SHA512", data)
	res := mustCheck(t, data, meta("head-object", withChecksum("SHA512", sha512), withType("COMPOSITE"), withSize(11)))
	assert.Equal(t, StatusValid, res.Status)
	assert.Equal(t, "full object (the exported type is COMPOSITE, but the value equals the whole-object digest)", res.Checks[0].Method)

	other := mustDigest("SHA512", []byte("other"))
	res = mustCheck(t, data, meta("head-object", withChecksum("SHA512", other+"-1"), withSize(11)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	require.Len(t, res.Checks, 1)
	assert.True(t, res.Checks[0].Skipped)
	assert.Equal(t, "S3's COMPOSITE rule for SHA512 is not documented; neither the whole-object digest nor the hash of the concatenated part digests matched", res.Checks[0].Reason)

	// The assumed rule, one part: H(H(data)).
	inner := algorithms["XXHASH3"].newHash()
	inner.Write(data)
	outer, _ := Digest("XXHASH3", inner.Sum(nil))
	res = mustCheck(t, data, meta("head-object", withChecksum("XXHASH3", outer+"-1"), withSize(11)))
	assert.Equal(t, StatusValid, res.Status)
	assert.Equal(t, "1 part (the whole object); S3's COMPOSITE rule for XXHASH3 is not documented: hash of the concatenated part digests assumed", res.Checks[0].Method)

	// FULL_OBJECT SHA512 that does not match is a mismatch.
	res = mustCheck(t, data, meta("head-object", withChecksum("SHA512", other), withType("FULL_OBJECT"), withSize(11)))
	assert.Equal(t, StatusChecksumMismatch, res.Status)
}

// A checksum type that is not exported, on a multipart object: both
// readings are computed.
func TestTypeNotExported(t *testing.T) {
	// CRC32 full-object value, object known to be 2 parts.
	res := mustCheck(t, synthetic, meta("get-object-attributes", withChecksum("CRC32", "WrTTSg=="), withSize(syntheticSize), withPartsCount(2), withParts(1, syntheticSizes, nil)))
	assert.Equal(t, StatusValid, res.Status)
	assert.Equal(t, Check{Algorithm: "CRC32", Type: TypeFullObject, Expected: "WrTTSg==", Computed: "WrTTSg==", Match: true,
		Method: "full object; checksum type not exported and the object is multipart: FULL_OBJECT and COMPOSITE both tried"}, res.Checks[0])
	// CRC32 composite value, same.
	res = mustCheck(t, synthetic, meta("get-object-attributes", withChecksum("CRC32", "NSvTHQ=="), withSize(syntheticSize), withPartsCount(2), withParts(1, syntheticSizes, nil)))
	assert.Equal(t, StatusValid, res.Status)
	assert.Equal(t, TypeComposite, res.Checks[0].Type)
	// Neither, with exact sizes: mismatch naming both computations.
	res = mustCheck(t, synthetic, meta("get-object-attributes", withChecksum("CRC32", "AAAAAA=="), withSize(syntheticSize), withPartsCount(2), withParts(1, syntheticSizes, nil)))
	assert.Equal(t, StatusChecksumMismatch, res.Status)
	assert.Equal(t, Check{Algorithm: "CRC32", Type: TypeComposite, Expected: "AAAAAA==", Computed: "NSvTHQ==",
		Method: "none matched: full object: WrTTSg==; parts from ObjectParts (2 parts): NSvTHQ==; checksum type not exported and the object is multipart: FULL_OBJECT and COMPOSITE both tried"}, res.Checks[0])
	// Neither, without sizes: skipped.
	res = mustCheck(t, synthetic, meta("get-object-attributes", withChecksum("CRC32", "AAAAAA=="), withSize(syntheticSize), withPartsCount(2)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, "value of unexported type (not the whole-object digest; possibly COMPOSITE) of 2 parts without exported part sizes: no candidate part size reproduced it (tried 5 MiB)", res.Checks[0].Reason)
	// No sign of multipart: FULL_OBJECT assumed, mismatch is a mismatch.
	res = mustCheck(t, []byte("hello world"), meta("head-object", withChecksum("SHA256", "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0="), withSize(11)))
	assert.Equal(t, StatusChecksumMismatch, res.Status)
	assert.Equal(t, "full object; checksum type not exported and nothing shows a multipart upload: FULL_OBJECT assumed", res.Checks[0].Method)
}

func TestCandidateNoConsistentSize(t *testing.T) {
	// 11 bytes in 2 parts: no common part size gives that.
	res := mustCheck(t, []byte("hello world"), meta("head-object", withChecksum("CRC32", "NSvTHQ==-2"), withSize(11)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, "COMPOSITE value of 2 parts without exported part sizes: no candidate part size gives 2 parts for 11 bytes", res.Checks[0].Reason)
}

// head-object made with --part-number describes one part: its size is
// not the object's and becomes a candidate part size.
func TestHeadObjectPartNumber(t *testing.T) {
	data := bytes.Repeat([]byte("xyz"), 3000) // 9000 bytes, parts of 4000: 3 parts
	var partDigests []byte
	for off := 0; off < len(data); off += 4000 {
		h := algorithms["SHA256"].newHash()
		h.Write(data[off:min(off+4000, len(data))])
		partDigests = h.Sum(partDigests)
	}
	comp := mustDigest("SHA256", partDigests)
	res := mustCheck(t, data,
		meta("head-object", withPartsCount(3), withSize(4000), withChecksum("SHA256", mustDigest("SHA256", data[:4000]))),
		meta("get-object-attributes", withEvidence(2), withSize(9000), withChecksum("SHA256", comp), withType("COMPOSITE"), withPartsCount(3)))
	assert.Equal(t, StatusValid, res.Status, res.Reason)
	assert.Equal(t, []Check{{Algorithm: "SHA256", Type: TypeComposite, Expected: comp, Computed: comp, Match: true,
		Method: "assumed uniform part size 4000 bytes (consistent, not proven)"}}, res.Checks)
	require.Len(t, res.Notes, 1)
	assert.Contains(t, res.Notes[0], "called with --part-number")
}

func TestMalformedValues(t *testing.T) {
	res := mustCheck(t, []byte("hello world"), meta("head-object",
		withChecksum("CRC32", "not base64!"), withChecksum("SHA256", "DUoRhQ=="), withChecksum("CRC32C", "yZRlqg==-0"), withChecksum("BLAKE3", "x"), withSize(11)))
	assert.Equal(t, StatusUnverifiable, res.Status)
	var reasons []string
	for _, c := range res.Checks {
		assert.True(t, c.Skipped)
		reasons = append(reasons, c.Reason)
	}
	assert.Equal(t, []string{
		"exported CRC32 value is malformed: not base64",
		`exported CRC32C value is malformed: has a "-N" part-count suffix that is not a positive number`,
		"exported SHA256 value is malformed: decodes to 4 bytes, want 32",
		`unsupported checksum algorithm "BLAKE3"`,
	}, reasons)
}

type errReader struct{ n int }

func (r *errReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		k := min(r.n, len(p))
		r.n -= k
		return k, nil
	}
	return 0, errors.New("disk on fire")
}

func TestReadError(t *testing.T) {
	p, err := NewPlan([]store.ObjectMeta{meta("head-object", withChecksum("CRC32", "DUoRhQ=="), withSize(11))})
	require.NoError(t, err)
	res := p.Check(&errReader{n: 5})
	assert.Equal(t, StatusUnverifiable, res.Status)
	assert.Equal(t, "read object: disk on fire (after 5 bytes)", res.Reason)
	assert.EqualError(t, res.Err, "disk on fire")
}

// Exact part layouts with odd boundaries: a chunk holding many parts, an
// empty last part, and bytes past the exported parts.
func TestLayoutBoundaries(t *testing.T) {
	data := make([]byte, 300001)
	for i := range data {
		data[i] = byte(i * 31)
	}
	sizes := []int64{1, 131071, 131073, 37856, 0}
	var sum int64
	var parts []string
	var raw []byte
	for _, s := range sizes {
		parts = append(parts, mustDigest("CRC32C", data[sum:sum+s]))
		h := algorithms["CRC32C"].newHash()
		h.Write(data[sum : sum+s])
		raw = h.Sum(raw)
		sum += s
	}
	require.Equal(t, int64(len(data)), sum)
	comp := mustDigest("CRC32C", raw)
	m := meta("get-object-attributes", withChecksum("CRC32C", comp), withType("COMPOSITE"), withSize(sum), withPartsCount(len(sizes)),
		withParts(1, sizes, map[string][]string{"CRC32C": parts}))
	res := mustCheck(t, data, m)
	assert.Equal(t, StatusValid, res.Status, res.Reason)
	assert.Len(t, res.Checks, 1+len(sizes))

	// One byte more: size mismatch, composite over an extra part differs.
	res = mustCheck(t, append(bytes.Clone(data), 0), m)
	assert.Equal(t, StatusSizeMismatch, res.Status)
	assert.Equal(t, comp, res.Checks[0].Expected)
	assert.False(t, res.Checks[0].Match)

	// A reader that returns one byte at a time gives the same result.
	p, err := NewPlan([]store.ObjectMeta{m})
	require.NoError(t, err)
	res = p.Check(io.LimitReader(iotestOneByte{bytes.NewReader(data)}, int64(len(data))))
	assert.Equal(t, StatusValid, res.Status)
}

type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestCandidates(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		n     int
		sizes []int64
		want  []int64
	}{
		{2, []int64{syntheticSize}, []int64{5 * mib}},
		{2, []int64{12 * mib}, []int64{8 * mib}},
		{3, []int64{12 * mib}, []int64{5 * mib}},
		{2, []int64{16 * mib}, []int64{8 * mib, 15 * mib}},
		{3, []int64{11}, nil},
		{0, []int64{20 * mib}, []int64{5 * mib, 8 * mib, 15 * mib, 16 * mib, wholeObject}},
	}
	for _, tt := range tests {
		got := candidates(tt.n, tt.sizes, nil)
		if !assert.Equal(t, tt.want, got, "candidates(%d, %v)", tt.n, tt.sizes) {
			continue
		}
		for _, c := range got {
			if tt.n > 0 && c != wholeObject && partsOf(tt.sizes[0], c) != int64(tt.n) {
				t.Errorf("candidate %d gives %d parts", c, partsOf(tt.sizes[0], c))
			}
		}
	}
	assert.Len(t, candidates(4, nil, []int64{1000}), len(candidatePartSizes)+1)
	assert.Equal(t, "8 MiB", sizeText(8<<20))
	assert.Equal(t, "1 GiB", sizeText(1<<30))
	assert.Equal(t, "4000 bytes", sizeText(4000))
	assert.True(t, strings.HasPrefix(sizeText(5<<20+1), "5242881"))
}

// Parallel hashing gives the same checks as sequential hashing.
func TestParallel(t *testing.T) {
	rows := []store.ObjectMeta{
		meta("head-object", withChecksum("SHA256", "GWe7p5dr+syR+JQOlPisEAdcMnh6SQOhmXZbd9p8Mo0=-2"), withETag("4ba54d90a25d93d94b7b41c987352341-2"), withSize(syntheticSize), withSSE("AES256")),
		meta("get-object-attributes", withChecksum("CRC64NVME", "tUz56p+TDl0="), withType("FULL_OBJECT"), withPartsCount(2),
			withParts(1, syntheticSizes, map[string][]string{"CRC64NVME": syntheticParts["CRC64NVME"]})),
	}
	p, err := NewPlan(rows)
	require.NoError(t, err)
	seq := p.Check(bytes.NewReader(synthetic))
	require.Equal(t, StatusValid, seq.Status, seq.Reason)
	p.Parallel = true
	par := p.Check(bytes.NewReader(synthetic))
	assert.Equal(t, seq, par)
	bad := bytes.Clone(synthetic)
	bad[300000] ^= 0x80
	par = p.Check(bytes.NewReader(bad))
	p.Parallel = false
	assert.Equal(t, p.Check(bytes.NewReader(bad)), par)
	assert.Equal(t, StatusChecksumMismatch, par.Status)
}

func TestSplit(t *testing.T) {
	u := func(w int) unit { return hashUnit{cost: w} }
	a, b := split([]unit{u(75), u(160), u(3)})
	assert.Equal(t, []unit{u(160)}, a)
	assert.Equal(t, []unit{u(75), u(3)}, b)
	a, b = split([]unit{u(75), u(3), u(2)})
	assert.Len(t, a, 3, "a small share is not worth a goroutine")
	assert.Empty(t, b)
}
