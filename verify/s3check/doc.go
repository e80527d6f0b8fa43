// Package s3check verifies one local copy of an S3 object against the
// checksum metadata exported for it (head-object, get-object-attributes,
// listings, inventory: store.ObjectMeta rows). It is a pure library: no
// database, no printing. NewPlan merges the rows of one object version
// into a Plan; (*Plan).Check reads the object once and returns a Result
// with one Check per exported value.
//
// # Algorithms and encodings (FORMATS.md A.1, A.2)
//
//	CRC32      CRC-32/ISO-HDLC (zlib; hash/crc32 IEEE)            4 bytes
//	CRC32C     CRC-32C Castagnoli (hash/crc32)                    4 bytes
//	CRC64NVME  CRC-64/NVME, reflected poly 0x9a6c9329ac4bc9b5,
//	           init and xorout all ones (github.com/minio/crc64nvme) 8 bytes
//	SHA1, SHA256, SHA512, MD5                                     20, 32, 64, 16 bytes
//	XXHASH64   XXH64 seed 0 (github.com/cespare/xxhash/v2)        8 bytes
//	XXHASH3    XXH3_64bits seed 0 (github.com/zeebo/xxh3)         8 bytes
//	XXHASH128  XXH3_128bits seed 0, high64 || low64               16 bytes
//
// A checksum value is standard base64 of the big-endian digest bytes
// (padding optional on input; compared as bytes). A COMPOSITE value is
// the same algorithm applied to the concatenation of the raw digests of
// the parts in PartNumber order; head-object appends "-N" (N parts),
// get-object-attributes does not, so "X-3" and "X" are the same value. A
// FULL_OBJECT value is the digest of all the bytes. The ETag is hex MD5 of
// the data for single-part uploads of plaintext or SSE-S3 objects, and
// hex(MD5(MD5(part1) || ... || MD5(partN))) + "-N" for multipart uploads;
// for SSE-KMS, DSSE-KMS and SSE-C objects it is not an MD5, and such
// ETags are recorded as skipped checks ("not verifiable by ETag"), never
// as mismatches. get-object-attributes and listings do not say how an
// object is encrypted (head-object always does), so when no row tells, an
// ETag that matches is a valid check and one that does not is skipped.
//
// # Types
//
// A value with a "-N" suffix is COMPOSITE. Otherwise the exported
// ChecksumType decides; without one, CRC64NVME is FULL_OBJECT, a value of
// an object with no sign of a multipart upload (no part count, no parts,
// no "-N" ETag, inventory IsMultipartUploaded false) is FULL_OBJECT, and
// for a multipart object both FULL_OBJECT and COMPOSITE are computed and
// either may match. S3 documents the composite rule for CRC32, CRC32C,
// SHA1 and SHA256 only; for the other algorithms a COMPOSITE value is
// compared with both the whole-object digest and the assumed rule, and
// when neither matches the check is skipped, not a mismatch.
//
// # Part boundaries
//
// Composite values and multipart ETags need the part sizes. They come
// from ObjectParts (get-object-attributes; pages merged by PartNumber)
// when parts 1..N all have a size, N agrees with the part count and the
// sizes sum to the object size; then every exported part checksum is also
// checked on its own (Type PART), and a mismatch is proven. A one-part
// upload needs no sizes. Otherwise the uniform part sizes of common
// clients (CandidatePartSizes: 5, 8, 15, 16, 32, 64, 100, 128, 256, 512
// MiB, 1, 2, 4 GiB) consistent with N (ceil(size/partSize) == N) are all
// computed in the same pass; a match is reported as "consistent, not
// proven" and no match makes the check skipped, not a mismatch.
//
// # Merging rows
//
// Rows must name the same bucket, key, version and local copy (empty
// matches anything). Every distinct value of a field is a Claim; fields
// with more than one are Conflicts, and every distinct checksum or ETag
// value is checked, so conflicting values also show up as mismatches. A
// head-object row with PartsCount > 1 was made with --part-number: its
// ContentLength and checksums describe one part and are only used as a
// candidate part size.
//
// # Status
//
// size_mismatch when the bytes read differ from a claimed size (checksum
// checks are still recorded); else unverifiable when no check ran (the
// Reason gathers why each was skipped, or says nothing was exported);
// else checksum_mismatch when any check that ran did not match; else
// valid. A read error makes the result unverifiable with Result.Err set.
//
// # Performance
//
// The object is read once in 256 KiB chunks from a pooled buffer; every
// hasher gets each chunk in turn, with no per-chunk allocation. SHA-256
// with SHA-NI alone runs about four times faster than sha256sum, so
// hashing stays on the calling goroutine unless Plan.Parallel asks for a
// helper goroutine taking about half of the work (worth it for SHA-256
// plus the MD5 of an ETag when a core is free).
package s3check
