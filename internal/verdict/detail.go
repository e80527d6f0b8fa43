package verdict

import (
	"bytes"
	"encoding/json"
	"fmt"

	gojson "github.com/goccy/go-json"
)

// The details of each kind of item: the expected and actual values its
// status rests on, as `forensic verify --json` prints them under
// "detail" and the case keeps them in item_status.detail. Their JSON
// names are a public contract (add, never rename). Fields are in the
// order of their JSON names, after the members every kind shares.
//
// Presence carries meaning: a member that is absent was not looked at
// (the evaluation stopped earlier); a pointer member that is present may
// hold a zero value, or JSON null (NullString).

// Detail is the detail of one item: *DigestDetail, *LogDetail or
// *ObjectDetail.
type Detail interface {
	// Shared is what every kind has: the reason, and what the case's S3
	// server access logs say of the item.
	Shared() *Common
}

// Common are the members every detail may have, embedded in each kind's
// detail (their JSON members are the detail's own).
type Common struct {
	// AccessLogs says that the case holds access logs of the item's
	// bucket and none records a request that explains its status.
	AccessLogs  string   `json:"access_logs,omitempty"`
	ExplainedBy []string `json:"explained_by,omitempty"` // request ids that explain the status
	Reason      string   `json:"reason,omitempty"`       // why the status is not valid, in words
	// S3Requests are the access-log requests that touched the item's
	// key; present and empty when the access logs hold none.
	S3Requests *[]S3Request `json:"s3_requests,omitempty"`
}

// NullString is a member that is absent (the zero value, omitted with
// omitzero), JSON null, or a string: the three mean different things
// (not looked at, looked at and none, found), and they survive a decode
// and re-encode.
type NullString struct {
	S     string
	Valid bool // a string, not null
	Set   bool // present: null or a string
}

// Str is a present string.
func Str(s string) NullString { return NullString{S: s, Valid: true, Set: true} }

// Null is a present JSON null.
func Null() NullString { return NullString{Set: true} }

// IsZero reports whether the member is absent.
func (n NullString) IsZero() bool { return !n.Set }

func (n NullString) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.S)
}

func (n *NullString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Null()
		return nil
	}
	*n = NullString{Valid: true, Set: true}
	return json.Unmarshal(b, &n.S)
}

// Ptr returns a pointer to v (for the members whose presence means
// something).
func Ptr[T any](v T) *T { return &v }

// S3Request is one access-log request that touched an item's key.
type S3Request struct {
	AccessLog  string `json:"access_log"`
	Bucket     string `json:"bucket"`
	Class      string `json:"class"` // delete, overwrite, copy; "" for reads and others
	ErrorCode  string `json:"error_code"`
	EvidenceID int64  `json:"evidence_id"`
	HTTPStatus string `json:"http_status"`
	Key        string `json:"key"`
	Line       int    `json:"line"`
	Operation  string `json:"operation"`
	RemoteIP   string `json:"remote_ip"`
	RequestID  string `json:"request_id"`
	Requester  string `json:"requester"`
	Succeeded  bool   `json:"succeeded"`
	Time       string `json:"time"`
	UserAgent  string `json:"user_agent"`
	VersionID  string `json:"version_id"`
}

// DigestDetail is a digest's detail; a digest the evidence lacks
// (missing) has the Expected*, ReferencedBy, InferredFromTimeOrder and
// OlderDigestInEvidence members instead of those of a digest read.
type DigestDetail struct {
	Common
	ActualKey                  string               `json:"actual_key,omitempty"`
	Authentic                  *bool                `json:"authentic,omitempty"`
	AuthenticatedBy            string               `json:"authenticated_by,omitempty"`
	DigestEndTime              string               `json:"digest_end_time,omitempty"`
	DigestSignatureAlgorithm   *string              `json:"digest_signature_algorithm,omitempty"`
	DigestStartTime            string               `json:"digest_start_time,omitempty"`
	Error                      string               `json:"error,omitempty"`
	ExpectedEndTime            *string              `json:"expected_end_time,omitempty"`
	ExpectedKey                string               `json:"expected_key,omitempty"`
	ExpectedSHA256             *string              `json:"expected_sha256,omitempty"`
	ExpectedSignature          *string              `json:"expected_signature,omitempty"`
	ExpectedSignatureAlgorithm string               `json:"expected_signature_algorithm,omitempty"`
	ExpectedStartTime          string               `json:"expected_start_time,omitempty"`
	Fingerprint                string               `json:"fingerprint,omitempty"`
	GapAfterPredecessor        *GapAfterPredecessor `json:"gap_after_predecessor,omitempty"`
	GzipTrailing               bool                 `json:"gzip_trailing,omitempty"`
	InferredFromTimeOrder      *bool                `json:"inferred_from_time_order,omitempty"`
	KeyBits                    int                  `json:"key_bits,omitempty"`
	KeyFile                    string               `json:"key_file,omitempty"`
	KeyNote                    string               `json:"key_note,omitempty"`
	KeyRegion                  *string              `json:"key_region,omitempty"`
	KeyTime                    string               `json:"key_time,omitempty"`
	KeyTimeSource              string               `json:"key_time_source,omitempty"`
	KeyWeak                    string               `json:"key_weak,omitempty"`
	KeysWithFingerprint        []KeyWindow          `json:"keys_with_fingerprint,omitempty"`
	LocatedBy                  string               `json:"located_by,omitempty"`
	MetadataEvidenceID         int64                `json:"metadata_evidence_id,omitempty"`
	MetadataEvidenceIDs        []int64              `json:"metadata_evidence_ids,omitempty"`
	MetadataExports            []MetadataExport     `json:"metadata_exports,omitempty"`
	MetadataSignatureAlgorithm *string              `json:"metadata_signature_algorithm,omitempty"`
	OlderDigestInEvidence      NullString           `json:"older_digest_in_evidence,omitzero"`
	ReferencedBy               NullString           `json:"referenced_by,omitzero"`
	RepeatedLogFile            *RepeatedLogFile     `json:"repeated_log_file,omitempty"`
	SHA256                     string               `json:"sha256,omitempty"`
	Signature                  *string              `json:"signature,omitempty"`
	SignatureAlgorithmOK       *bool                `json:"signature_algorithm_ok,omitempty"`
	SignatureSource            NullString           `json:"signature_source,omitzero"` // metadata, successor; null: none
	SignatureVerified          *bool                `json:"signature_verified,omitempty"`
	StartingDigest             *bool                `json:"starting_digest,omitempty"`
	StringToSign               string               `json:"string_to_sign,omitempty"`
	SuccessorLinks             []SuccessorLink      `json:"successor_links,omitempty"`
	// TimeRange is, for a digest read, the rule its times broke (finding
	// time_range); for a missing one, why no time is inferred for it.
	TimeRange string `json:"time_range,omitempty"`
}

// KeyWindow is a supplied key with the digest's fingerprint.
type KeyWindow struct {
	File          string `json:"file"`
	Fingerprint   string `json:"fingerprint"`
	Region        string `json:"region"`
	ValidityEnd   string `json:"validity_end,omitempty"`
	ValidityStart string `json:"validity_start,omitempty"`
}

// MetadataExport is one of several saved metadata exports of a digest.
type MetadataExport struct {
	EvidenceID         int64  `json:"evidence_id"`
	Path               string `json:"path"`
	Signature          string `json:"signature"`
	SignatureAlgorithm string `json:"signature_algorithm"`
}

// RepeatedLogFile is a logFiles entry listed a second time.
type RepeatedLogFile struct {
	Index    int    `json:"index"`
	S3Bucket string `json:"s3_bucket"`
	S3Object string `json:"s3_object"`
}

// GapAfterPredecessor says that the digest a digest names as its
// predecessor ends hours before it starts.
type GapAfterPredecessor struct {
	DigestStartTime   string `json:"digest_start_time"`
	ExpectedStartTime string `json:"expected_start_time"`
	MissingDigests    int64  `json:"missing_digests"`
	Predecessor       string `json:"predecessor"`
}

// SuccessorLink compares a successor's previousDigest* with the digest.
type SuccessorLink struct {
	ActualSHA256      string  `json:"actual_sha256"`
	ActualSignature   *string `json:"actual_signature,omitempty"` // the saved metadata's signature, when there is one
	ExpectedSHA256    string  `json:"expected_sha256"`
	ExpectedSignature *string `json:"expected_signature,omitempty"`
	HashAlgorithm     string  `json:"hash_algorithm"`
	Match             bool    `json:"match"`
	Successor         string  `json:"successor"`
	SuccessorPath     string  `json:"successor_path"`
}

func (d *DigestDetail) Shared() *Common { return &d.Common }

// LogDetail is a log file's detail; one the evidence lacks (missing) has
// only Reason, ExpectedSHA256, ListedBy and ListedByCount.
type LogDetail struct {
	Common
	ActualSHA256        *string    `json:"actual_sha256,omitempty"` // SHA-256 of the content ("" when it could not be read)
	CoveringDigest      string     `json:"covering_digest,omitempty"`
	Error               string     `json:"error,omitempty"`
	ExpectedSHA256      *string    `json:"expected_sha256,omitempty"`
	GzipTrailing        *bool      `json:"gzip_trailing,omitempty"`
	IngestContentSHA256 *string    `json:"ingest_content_sha256,omitempty"`
	IngestSHA256        *string    `json:"ingest_sha256,omitempty"`
	ListedBy            []ListedBy `json:"listed_by,omitempty"`
	ListedByCount       int        `json:"listed_by_count,omitempty"`
	Rehashed            bool       `json:"rehashed,omitempty"`
	SHA256              *string    `json:"sha256,omitempty"`
	UncompressedCopy    bool       `json:"uncompressed_copy,omitempty"`
}

// ListedBy is one digest's listing of a log file.
type ListedBy struct {
	Digest          string `json:"digest"`
	DigestAuthentic bool   `json:"digest_authentic"`
	DigestPath      string `json:"digest_path"`
	DigestStatus    string `json:"digest_status"`
	HashAlgorithm   string `json:"hash_algorithm"`
	HashValue       string `json:"hash_value"`
}

func (d *LogDetail) Shared() *Common { return &d.Common }

// ObjectDetail is an S3 object copy's detail.
type ObjectDetail struct {
	Common
	Algorithm         string        `json:"algorithm,omitempty"` // the check the status rests on
	Checks            *[]ValueCheck `json:"checks,omitempty"`
	Computed          *string       `json:"computed,omitempty"`
	Conflicts         []Conflict    `json:"conflicts,omitempty"`
	Expected          *string       `json:"expected,omitempty"`
	ExpectedPath      string        `json:"expected_path,omitempty"`
	Metadata          []MetadataRef `json:"metadata"`
	Method            *string       `json:"method,omitempty"`
	Notes             []string      `json:"notes,omitempty"`
	SHA256            *string       `json:"sha256,omitempty"`
	SHA256AtIngest    *string       `json:"sha256_at_ingest,omitempty"`
	Size              *ObjectSize   `json:"size,omitempty"`
	StatusOfBytesRead string        `json:"status_of_bytes_read,omitempty"`
	VersionID         string        `json:"version_id"`
}

// ValueCheck is one exported value compared with an object's bytes.
type ValueCheck struct {
	Algorithm string `json:"algorithm"`
	Computed  string `json:"computed"`
	Expected  string `json:"expected"`
	Match     bool   `json:"match"`
	Method    string `json:"method"`
	Reason    string `json:"reason,omitempty"`
	Skipped   bool   `json:"skipped,omitempty"`
	Type      string `json:"type"`
}

// Conflict is a field the metadata rows of one object disagree on.
type Conflict struct {
	Field  string  `json:"Field"`
	Values []Claim `json:"Values"`
}

// Claim is the value one metadata row gives.
type Claim struct {
	Value      string `json:"Value"`
	Source     string `json:"Source"`
	EvidenceID int64  `json:"EvidenceID"`
}

// MetadataRef names one metadata row of an object.
type MetadataRef struct {
	EvidenceID int64  `json:"evidence_id"`
	Path       string `json:"path"`
	Source     string `json:"source"`
}

// ObjectSize is the size the metadata claim and the size read; null
// when unknown.
type ObjectSize struct {
	Actual   *int64 `json:"actual"`
	Expected *int64 `json:"expected"`
}

func (d *ObjectDetail) Shared() *Common { return &d.Common }

// LakeSignDetail is the detail of a CloudTrail Lake sign file
// (result_sign.json): what it claims, and the key and signature checked.
type LakeSignDetail struct {
	Common
	Files              int      `json:"files"`                         // entries of its files list
	Fingerprint        string   `json:"public_key_fingerprint"`        // as the sign file names it
	Folder             string   `json:"folder"`                        // the query's folder in the evidence
	KeyRegion          string   `json:"key_region,omitempty"`          // of the trust anchor used
	KeyValidity        string   `json:"key_validity,omitempty"`        // of the trust anchor used (or found outside the window)
	KeyWindow          string   `json:"key_window,omitempty"`          // queryCompleteTime to 20 days after, when a key must be valid
	Notes              []string `json:"notes,omitempty"`               // remarks on a valid sign file (a key of another region)
	QueryCompleteTime  string   `json:"query_complete_time,omitempty"` // as the sign file gives it
	Region             string   `json:"region,omitempty"`              // as the sign file gives it
	SignedStringSHA256 string   `json:"signed_string_sha256,omitempty"`
}

func (d *LakeSignDetail) Shared() *Common { return &d.Common }

// LakeResultDetail is the detail of a CloudTrail Lake result file: the
// hash its sign file lists and the hash of the bytes found.
type LakeResultDetail struct {
	Common
	Expected  *string  `json:"expected_sha256,omitempty"` // the fileHashValue listed
	FileName  string   `json:"file_name"`                 // as listed, or as found
	Folder    string   `json:"folder"`                    // the query's folder in the evidence
	MatchedBy string   `json:"matched_by,omitempty"`      // folder, or hash (a flattened copy)
	Notes     []string `json:"notes,omitempty"`           // how a valid file was matched, when by hash
	SHA256    *string  `json:"sha256,omitempty"`          // of the bytes found
	SignFile  string   `json:"sign_file,omitempty"`       // the sign file that lists it
	SignValid *bool    `json:"sign_file_valid,omitempty"` // whether that sign file's signature verified
}

func (d *LakeResultDetail) Shared() *Common { return &d.Common }

// Item kinds, as `forensic verify --json` and item_status name them.
const (
	KindDigest     = "digest"
	KindLog        = "log"
	KindObject     = "object"
	KindLakeSign   = "lake_sign_file"
	KindLakeResult = "lake_result"
)

// NewDetail returns an empty detail of kind's type; nil for an unknown
// kind.
func NewDetail(kind string) Detail {
	switch kind {
	case KindDigest:
		return &DigestDetail{}
	case KindLog:
		return &LogDetail{}
	case KindObject:
		return &ObjectDetail{}
	case KindLakeSign:
		return &LakeSignDetail{}
	case KindLakeResult:
		return &LakeResultDetail{}
	}
	return nil
}

// DecodeDetail reads the JSON of a detail of kind (item_status.detail) as
// its kind's typed value. Members it does not know are an error, so that
// a renamed member cannot be read as absent.
func DecodeDetail(kind string, raw []byte) (Detail, error) {
	d := NewDetail(kind)
	if d == nil {
		return nil, fmt.Errorf("detail of unknown item kind %q", kind)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return d, nil
	}
	// goccy/go-json decodes what encoding/json does here (asserted on
	// every golden set's details), faster: verify restores every digest's
	// detail of a long chain, which cost it a fifth of its time with
	// encoding/json on the quarter organization set and a few per cent
	// with this.
	dec := gojson.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%s detail: %w", kind, err)
	}
	return d, nil
}
