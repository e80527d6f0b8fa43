package report

import (
	"encoding/json"
	"strconv"
)

// The members of report.json, one Go type per section and row. Build
// writes a Document canonically (canon.go: members in the order of their
// JSON names, whatever the order of the fields) and Verify reads report.json
// back into the same types, so a member is named in one place. The JSON
// names are a public contract: add, never rename. A pointer member is
// JSON null when nil; slices and maps are written [] and {} when nil.
//
// evidence, statuses and verified_digests are written and read one item
// at a time (Build streams them from the case, readDocument hands them to
// a function); the other sections are small.

// Document is report.json.
type Document struct {
	Case            CaseSection        `json:"case"`
	Cases           []MergedCase       `json:"cases,omitempty"` // a report over several cases: those merged
	Coverage        []Coverage         `json:"coverage"`
	Custody         CustodySection     `json:"custody"`
	Detections      *DetectionsSection `json:"detections,omitempty"` // forensic detect's hits
	Evidence        []EvidenceItem     `json:"evidence"`
	EvidenceSummary EvidenceSummary    `json:"evidence_summary"`
	Export          *ExportSection     `json:"export,omitempty"` // report --export
	Findings        []Finding          `json:"findings"`
	Format          string             `json:"format"`         // Format
	Lake            *LakeSection       `json:"lake,omitempty"` // CloudTrail Lake query results
	Limitations     []string           `json:"limitations"`
	Method          Method             `json:"method"`
	Signer          SignerSection      `json:"signer"`
	Statuses        []ItemStatus       `json:"statuses"`
	Summary         *SummarySection    `json:"summary,omitempty"` // the first page: what the evidence proves, what went wrong
	Tool            ToolSection        `json:"tool"`
	TrustAnchors    TrustAnchors       `json:"trust_anchors"`
	Verification    Verification       `json:"verification"`
	VerifiedDigests []VerifiedDigest   `json:"verified_digests"`
}

// The members of Document written and read one item at a time.
const (
	memberEvidence        = "evidence"
	memberStatuses        = "statuses"
	memberVerifiedDigests = "verified_digests"
)

// CaseSection identifies the case.
type CaseSection struct {
	CreatedAt *string           `json:"created_at"`
	ID        string            `json:"id"`
	Info      map[string]string `json:"info"` // case_info
}

// ToolSection names the program that made the report.
type ToolSection struct {
	BinarySHA256 *string `json:"binary_sha256"`
	Modified     bool    `json:"modified"`
	Name         string  `json:"name"`
	Platform     *string `json:"platform"`
	Revision     string  `json:"revision"`
	Version      string  `json:"version"`
}

// SignerSection says who signed, with which key, when and how.
type SignerSection struct {
	Command      []string `json:"command"`
	Fingerprint  string   `json:"fingerprint"`
	Host         string   `json:"host"`
	Identity     string   `json:"identity"`
	Namespace    string   `json:"namespace"`
	Operator     string   `json:"operator"`
	PublicKeyPEM string   `json:"public_key_pem"`
	SignedAt     string   `json:"signed_at"`
	SSHPublicKey string   `json:"ssh_public_key"`
	TimeSource   string   `json:"time_source"`
}

// CustodySection is the case's custody log and what was found wrong with
// it or with the case.
type CustodySection struct {
	Anchor   *CustodyAnchor `json:"anchor"` // nil: the case keeps no anchor
	Count    *int64         `json:"count"`  // nil in reports made before reports carried it
	Entries  []CustodyEntry `json:"entries"`
	HeadHash *string        `json:"head_hash"` // nil: no entries
	Intact   *bool          `json:"intact"`    // nil in reports made before reports carried it
	Note     string         `json:"note"`
	Notes    []string       `json:"notes"`
	Problems []string       `json:"problems"`
}

// CustodyAnchor is what the case kept of its custody log besides it
// (store.CustodyAnchor).
type CustodyAnchor struct {
	AnchoredAfter int64  `json:"anchored_after"`
	Count         int64  `json:"count"`
	Head          string `json:"head"`
	Present       bool   `json:"present"`
}

// CustodyEntry is a custody entry; inputs and outputs are the JSON text
// stored in the case, so that store.EntryHash recomputes its hash.
type CustodyEntry struct {
	Args     []string `json:"args"`
	Command  string   `json:"command"`
	Hash     string   `json:"hash"`
	Host     string   `json:"host"`
	Inputs   string   `json:"inputs"`
	Operator string   `json:"operator"`
	Outputs  string   `json:"outputs"`
	PrevHash string   `json:"prev_hash"`
	Seq      int64    `json:"seq"`
	Time     string   `json:"time"`
	Tool     string   `json:"tool"`
}

// TrustAnchors are the public keys the verification trusted and the
// files they came from.
type TrustAnchors struct {
	Files []TrustAnchorFile `json:"files"`
	Keys  []TrustAnchorKey  `json:"keys"`
}

// TrustAnchorFile is a file of trust anchors.
type TrustAnchorFile struct {
	Keys   int64  `json:"keys"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// TrustAnchorKey is one trust anchor, with the openssl commands that turn
// its DER into key-FINGERPRINT.pem.
type TrustAnchorKey struct {
	Bits              int64    `json:"bits"`
	DERBase64         string   `json:"der_base64"`
	DERSHA256         string   `json:"der_sha256"`
	Encoding          string   `json:"encoding"` // pkcs1 or spki
	File              string   `json:"file"`
	FileSHA256        string   `json:"file_sha256"`
	Fingerprint       string   `json:"fingerprint"`
	ListedFingerprint *string  `json:"listed_fingerprint"`
	OpenSSLCommands   []string `json:"openssl_commands"`
	Region            *string  `json:"region"`
	ValidityEnd       *string  `json:"validity_end"`
	ValidityStart     *string  `json:"validity_start"`
}

// EvidenceSummary counts the evidence.
type EvidenceSummary struct {
	ByKind         map[string]int64 `json:"by_kind"`
	Bytes          int64            `json:"bytes"` // of every item but sources and archives
	Errors         int64            `json:"errors"`
	EventsIndexing EventsIndexing   `json:"events_indexing"`
	Items          int64            `json:"items"`
}

// EventsIndexing says which CloudTrail records the case indexed
// (store.EventIndexing).
type EventsIndexing struct {
	Filters         []EventsFilterGroup `json:"filters"`
	FiltersOmitted  int64               `json:"filters_omitted"`
	IndexedByFilter int64               `json:"indexed_by_filter"`
	IndexedInFull   int64               `json:"indexed_in_full"`
	LogFiles        int64               `json:"log_files"`
	NotIndexed      int64               `json:"not_indexed"`
	NotSplit        int64               `json:"not_split"`
	Partial         bool                `json:"partial"`
	RecordsIndexed  int64               `json:"records_indexed"`
	RecordsSeen     int64               `json:"records_seen"`
}

// EventsFilterGroup is the log files indexed by one filter
// (store.FilterGroup).
type EventsFilterGroup struct {
	Description    string  `json:"description"`
	Filter         *string `json:"filter"` // nil: every record
	LogFiles       int64   `json:"log_files"`
	NotSplit       int64   `json:"not_split"`
	RecordsIndexed int64   `json:"records_indexed"`
	RecordsSeen    int64   `json:"records_seen"`
}

// EvidenceItem is one evidence item (the case's evidence row), with the
// first status recorded for it and its CloudTrail events as the case
// holds them. Pointer members are null where the case holds NULL.
type EvidenceItem struct {
	Account       *string `json:"account"`
	Backfill      bool    `json:"backfill"`
	Compression   string  `json:"compression"`
	ContentSHA256 *string `json:"content_sha256"`
	ContentSize   *int64  `json:"content_size"`
	Error         *string `json:"error"`
	EventCount    *int64  `json:"event_count"` // nil in reports made before reports carried it
	// EventsFilter, RecordsSeen and RecordsIndexed are present only for a
	// log file whose records were indexed by a filter.
	EventsFilter   *string     `json:"events_filter,omitempty"`
	EventsSHA256   *string     `json:"events_sha256"`
	Format         string      `json:"format"`
	GzipTrailing   bool        `json:"gzip_trailing"`
	ID             int64       `json:"id"`
	IngestedAt     string      `json:"ingested_at"`
	Kind           string      `json:"kind"`
	LinkTarget     *string     `json:"link_target"`
	Member         string      `json:"member"`
	MemberIndex    *string     `json:"member_index"` // JSON text; nil in reports of older cases
	MemberPath     *string     `json:"member_path"`  // JSON text
	Mode           *string     `json:"mode"`
	MTime          *string     `json:"mtime"`
	OrgID          *string     `json:"org_id"`
	Path           string      `json:"path"`
	RecordCount    *int64      `json:"record_count"`
	RecordsIndexed OptionalInt `json:"records_indexed,omitzero"`
	RecordsSeen    OptionalInt `json:"records_seen,omitzero"`
	Region         *string     `json:"region"`
	S3Bucket       *string     `json:"s3_bucket"`
	S3Key          *string     `json:"s3_key"`
	SHA256         string      `json:"sha256"`
	Size           *int64      `json:"size"`
	Source         string      `json:"source"`
	Status         *string     `json:"status"`
	StatusKind     *string     `json:"status_kind"`
	Trail          *string     `json:"trail"`
}

// Verification summarizes what the last verification concluded.
type Verification struct {
	ByKind     map[string]KindCounts `json:"by_kind"`
	Findings   FindingCounts         `json:"findings"`
	Items      ItemCounts            `json:"items"`
	OK         bool                  `json:"ok"`
	Ran        bool                  `json:"ran"`
	Verdict    string                `json:"verdict"`
	VerifiedAt *string               `json:"verified_at"`
}

// KindCounts counts the items of one kind by status.
type KindCounts struct {
	ByStatus map[string]int64 `json:"by_status"`
	Total    int64            `json:"total"`
	Valid    int64            `json:"valid"`
}

// FindingCounts counts the findings.
type FindingCounts struct {
	BySeverity map[string]int64 `json:"by_severity"`
	ByType     map[string]int64 `json:"by_type"`
	Errors     int64            `json:"errors"`
	Total      int64            `json:"total"`
}

// ItemCounts counts the digests, log files and objects verified.
type ItemCounts struct {
	Total int64 `json:"total"`
	Valid int64 `json:"valid"`
}

// ItemStatus is one item_status row that is not valid, with the path,
// member and SHA-256 of its evidence item (null when it is not in the
// evidence). Detail (verdict.DigestDetail, LogDetail or ObjectDetail by
// kind) and Checks are the JSON the case holds, or a JSON string of the
// text when it is not JSON.
type ItemStatus struct {
	Account        *string         `json:"account"`
	Checks         json.RawMessage `json:"checks"`
	Detail         json.RawMessage `json:"detail"`
	EvidenceID     *int64          `json:"evidence_id"`
	EvidenceMember *string         `json:"evidence_member"`
	EvidencePath   *string         `json:"evidence_path"`
	EvidenceSHA256 *string         `json:"evidence_sha256"`
	Kind           string          `json:"kind"`
	Region         *string         `json:"region"`
	S3Bucket       *string         `json:"s3_bucket"`
	S3Key          *string         `json:"s3_key"`
	Status         string          `json:"status"`
	Trail          *string         `json:"trail"`
}

// Finding is one finding. Detail is the JSON the case holds, or a JSON
// string of the text when it is not JSON.
type Finding struct {
	Chain     *string         `json:"chain"`
	Detail    json.RawMessage `json:"detail"`
	EndTime   *string         `json:"end_time"`
	Severity  string          `json:"severity"`
	StartTime *string         `json:"start_time"`
	Summary   string          `json:"summary"`
	Type      string          `json:"type"`
}

// Coverage is the coverage of one account, region and trail.
type Coverage struct {
	Account   string            `json:"account"`
	EndTime   string            `json:"end_time"`
	Gaps      []CoverageGap     `json:"gaps"`
	Region    string            `json:"region"`
	Seconds   CoverageSeconds   `json:"seconds"`
	Segments  []CoverageSegment `json:"segments"`
	StartTime string            `json:"start_time"`
	Trail     string            `json:"trail"`
}

// CoverageSeconds are the seconds of the chain's span in each state.
type CoverageSeconds struct {
	Gap         int64 `json:"gap"`
	Invalid     int64 `json:"invalid"`
	Missing     int64 `json:"missing"`
	NotVerified int64 `json:"not_verified"`
	Verified    int64 `json:"verified"`
}

// CoverageSegment is a stretch of time in one state.
type CoverageSegment struct {
	Digests   int64    `json:"digests"`
	EndTime   string   `json:"end_time"`
	Notes     []string `json:"notes"`
	StartTime string   `json:"start_time"`
	State     string   `json:"state"`
}

// CoverageGap is a logging gap verification found.
type CoverageGap struct {
	EndTime     string `json:"end_time"`
	Explained   bool   `json:"explained"`
	Explanation string `json:"explanation"`
	Severity    string `json:"severity"`
	StartTime   string `json:"start_time"`
}

// VerifiedDigest is a digest verification found authentic, with what
// re-checks its signature without us. The signature members are null
// (and openssl_commands empty) when it could not be reproduced.
type VerifiedDigest struct {
	DigestEndTime      string   `json:"digest_end_time"`
	EvidenceID         int64    `json:"evidence_id"`
	Fingerprint        string   `json:"fingerprint"`
	KeyFile            *string  `json:"key_file"`
	OpenSSLCommands    []string `json:"openssl_commands"`
	Path               string   `json:"path"`
	Reproduced         bool     `json:"reproduced"`
	S3Bucket           string   `json:"s3_bucket"`
	S3Key              string   `json:"s3_key"`
	SignatureBase64    *string  `json:"signature_base64"`
	SignatureHex       *string  `json:"signature_hex"`
	SignatureSource    *string  `json:"signature_source"`
	Status             string   `json:"status"`
	StringToSign       string   `json:"string_to_sign"`
	StringToSignBase64 string   `json:"string_to_sign_base64"`
}

// Method says how to check the report and the digest signatures by hand.
type Method struct {
	CanonicalJSON   string   `json:"canonical_json"`
	DigestSignature []string `json:"digest_signature"`
	ReportSignature []string `json:"report_signature"`
	SHA256Sums      string   `json:"sha256sums"`
	SignatureFormat string   `json:"signature_format"`
	StringToSign    string   `json:"string_to_sign"`
}

// OptionalInt is an integer member that may be absent, null or a number
// (with omitzero, the zero OptionalInt is absent).
type OptionalInt struct {
	Present bool // the member is there
	Valid   bool // it is not null
	Int64   int64
}

// optionalInt is a present member: null when n is nil.
func optionalInt(n *int64) OptionalInt {
	if n == nil {
		return OptionalInt{Present: true}
	}
	return OptionalInt{Present: true, Valid: true, Int64: *n}
}

func (o OptionalInt) IsZero() bool { return !o.Present }

func (o OptionalInt) MarshalJSON() ([]byte, error) {
	if !o.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, o.Int64, 10), nil
}

func (o *OptionalInt) UnmarshalJSON(b []byte) error {
	*o = OptionalInt{Present: true}
	if string(b) == "null" {
		return nil
	}
	o.Valid = true
	return json.Unmarshal(b, &o.Int64)
}
