package s3check

import (
	"slices"
	"strconv"
)

// candidatePartSizes are the part sizes tried, smallest first, when a
// multipart value (a "-N" composite checksum or multipart ETag) must be
// recomputed and ObjectParts did not give the part sizes:
//
//	  5 MiB  S3's minimum part size; aws-sdk-go(-v2) upload manager, rclone,
//	         AWS SDK for Java v1 TransferManager minimum
//	  8 MiB  aws-cli / boto3 / s3transfer multipart_chunksize default, also
//	         AWS SDK for Java v2 and aws-sdk-js lib-storage use 5-8 MiB
//	 15 MiB  s3cmd multipart_chunk_size_mb default
//	 16 MiB  console-style and common manual setting
//	 32 MiB  s3transfer doubles 8 MiB until the upload has at most 10,000 parts
//	 64 MiB  common manual setting (and an 8 MiB doubling)
//	100 MiB  common manual setting
//	128, 256, 512 MiB, 1, 2, 4 GiB  further 8 MiB doublings for very large objects
//
// Plus, when known, the size of part 1 from incomplete ObjectParts and
// the ContentLength of a head-object made with --part-number. Only sizes
// consistent with the part count N are hashed (ceil(size/partSize) == N),
// and a match is reported as consistent, not proven: it assumes every
// part but the last has that size.
var candidatePartSizes = []int64{
	5 << 20, 8 << 20, 15 << 20, 16 << 20, 32 << 20, 64 << 20, 100 << 20,
	128 << 20, 256 << 20, 512 << 20, 1 << 30, 2 << 30, 4 << 30,
}

// CandidatePartSizes returns the part sizes tried when the exact part
// sizes of a multipart object are unknown (see candidatePartSizes).
func CandidatePartSizes() []int64 { return slices.Clone(candidatePartSizes) }

// candidates returns the uniform part sizes to try for a value of n parts
// (0: unknown) of an object whose claimed sizes are sizes (none: unknown).
// With the size unknown every candidate is hashed and the part count is
// checked after the read. With n unknown every candidate smaller than the
// object is tried, plus the one-part layout (wholeObject).
func candidates(n int, sizes []int64, extra []int64) []int64 {
	list := append(slices.Clone(candidatePartSizes), extra...)
	var out []int64
	add := func(c int64) {
		if c > 0 && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(sizes) == 0 {
		for _, c := range list {
			add(c)
		}
		if n == 0 {
			add(wholeObject)
		}
		return out
	}
	for _, s := range sizes {
		for _, c := range list {
			if c <= 0 || s < 0 {
				continue
			}
			switch {
			case n > 1 && partsOf(s, c) == int64(n):
				add(c)
			case n == 0 && c < s:
				add(c)
			}
		}
		if n == 0 {
			add(wholeObject)
		}
	}
	return out
}

// partsOf is ceil(size/part), and 1 for an empty object.
func partsOf(size, part int64) int64 {
	if size == 0 {
		return 1
	}
	n := size / part
	if size%part != 0 {
		n++
	}
	return n
}

// sizeText renders a part size for Method: "8 MiB", "1 GiB" or bytes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
