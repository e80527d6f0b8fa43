package report

import (
	"encoding/json"

	"github.com/forensic-dev/forensic/internal/verdict"
)

// The details the report reads, typed: an item's detail by its kind
// (internal/verdict), and the members of a finding's detail that say
// which chain and span it is about. A detail that is not JSON, or a
// member whose value is not of its type, reads as zero: the report shows
// what it can and report.json keeps the detail as the case holds it.

// digestDetail decodes a digest's detail.
func digestDetail(b []byte) *verdict.DigestDetail {
	d := &verdict.DigestDetail{}
	_ = json.Unmarshal(b, d)
	return d
}

// logDetail decodes a log file's detail.
func logDetail(b []byte) *verdict.LogDetail {
	d := &verdict.LogDetail{}
	_ = json.Unmarshal(b, d)
	return d
}

// otherDetail is the detail of an item of a kind verify does not write:
// only what every kind shares.
type otherDetail struct{ verdict.Common }

func (d *otherDetail) Shared() *verdict.Common { return &d.Common }

// itemDetail decodes the detail of an item of the given kind.
func itemDetail(kind string, b []byte) verdict.Detail {
	d := verdict.NewDetail(kind)
	if d == nil {
		d = &otherDetail{}
	}
	_ = json.Unmarshal(b, d)
	return d
}

// findingDetail is what the report reads of a gap, missing_span,
// coverage or conflict finding's detail: the digest keys that name its
// chain (gap: last_digest_before and first_digest_after; coverage:
// newest_digest; conflict: digest), and whether a gap is explained.
type findingDetail struct {
	Digest           string `json:"digest"`
	Explained        bool   `json:"explained"`
	FirstDigestAfter string `json:"first_digest_after"`
	LastDigestBefore string `json:"last_digest_before"`
	NewestDigest     string `json:"newest_digest"`
}

func decodeFindingDetail(b []byte) *findingDetail {
	d := &findingDetail{}
	_ = json.Unmarshal(b, d)
	return d
}
