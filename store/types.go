package store

import "time"

// Evidence kinds. These strings are stored in evidence.kind and printed in
// `forensic ingest --json`; they are a public contract: add, never rename.
const (
	KindSource         = "source"         // a folder or archive named on the command line
	KindArchive        = "archive"        // an archive found inside a source (tar, zip, tar.gz, ...)
	KindCloudTrailLog  = "cloudtrail_log" // CloudTrail log file ({"Records":[...]}, JSON array, or one event per line)
	KindCloudTrailDig  = "cloudtrail_digest"
	KindPublicKeys     = "public_keys"     // list-public-keys output, PEM or DER key
	KindObjectMetadata = "object_metadata" // head-object, get-object-attributes, list-object-versions, inventory
	KindAccessLog      = "access_log"      // S3 server access-log file
	KindObject         = "s3_object"       // a local copy of an S3 object with a metadata export beside it
	KindSymlink        = "symlink"         // recorded, never followed
	KindHardlink       = "hardlink"        // a tar hard link: link_target recorded, never followed
	KindSpecial        = "special"         // a fifo, device or socket: format names the type; no content, never opened
	KindUnknown        = "unknown"
	KindLakeSign       = "lake_sign_file" // a CloudTrail Lake query's result_sign.json
	KindLakeResult     = "lake_result"    // a CloudTrail Lake query's result_N.csv.gz
)

// Evidence is one item read from a source: a file in a folder, an archive
// member, or the source itself.
type Evidence struct {
	ID       int64
	ParentID int64  // 0 for a source; else the source or archive that holds it
	Source   string // the command-line argument, made absolute
	// Path is the file on disk: the file itself for folder members, the
	// outermost archive for archive members.
	Path string
	// Member is the name inside the archive, exactly as stored (never used
	// as a file-system path). Nested archives are joined with "!/":
	// "inner.tar.gz!/AWSLogs/...". Empty for files on disk.
	Member string
	// MemberPath and MemberIndex are the member's unambiguous identity:
	// the names at each nesting level exactly as stored, and the member's
	// position at each level (see source.Entry). Both empty for files on
	// disk; nil for rows recorded before the case kept them.
	MemberPath  []string
	MemberIndex []int
	Size        int64  // bytes as received
	SHA256      string // hex SHA-256 of the bytes as received
	// ContentSHA256 is the hex SHA-256 of the first gzip member's
	// decompressed bytes (what CloudTrail's hashValue covers); empty when
	// the item is not gzip.
	ContentSHA256 string
	ContentSize   int64
	GzipTrailing  bool   // bytes follow the first gzip member
	Compression   string // "", "gzip", "zstd"
	Kind          string
	Format        string // finer format within the kind (e.g. "records", "ndjson", "head-object")
	S3Bucket      string
	S3Key         string // the AWSLogs/... key or the object key under the bucket folder
	Account       string
	OrgID         string
	Region        string
	Trail         string
	Backfill      bool
	Mode          string // file mode as text, e.g. "-rw-r--r--"
	LinkTarget    string // symlinks and hard links: where the link points, recorded only
	ModTime       time.Time
	Error         string // why the item could not be read or parsed, empty when fine
}

// Event is one CloudTrail record.
type Event struct {
	EvidenceID         int64
	RecordIndex        int // position of the record within its file, from 0
	EventID            string
	EventTime          string // as in the record, RFC 3339 UTC
	EventVersion       string
	EventSource        string
	EventName          string
	EventType          string
	EventCategory      string
	AWSRegion          string
	SourceIP           string
	UserAgent          string
	Principal          string // userIdentity.arn, else principalId, else invokedBy
	IdentityType       string
	AccessKeyID        string
	UserName           string
	AccountID          string // userIdentity.accountId
	RecipientAccountID string
	ErrorCode          string
	ErrorMessage       string
	RequestID          string
	SharedEventID      string
	ReadOnly           *bool
	ManagementEvent    *bool
	Verifiable         bool   // false for JSON arrays and one-event-per-line exports
	Raw                []byte // the record's exact bytes
}

// Digest is one parsed CloudTrail digest file.
type Digest struct {
	EvidenceID                  int64
	AWSAccountID                string
	DigestStartTime             string
	DigestEndTime               string
	DigestS3Bucket              string
	DigestS3Object              string
	DigestPublicKeyFingerprint  string
	DigestSignatureAlgorithm    string
	NewestEventTime             *string
	OldestEventTime             *string
	PreviousDigestS3Bucket      *string
	PreviousDigestS3Object      *string
	PreviousDigestHashValue     *string
	PreviousDigestHashAlgorithm *string
	PreviousDigestSignature     *string
	LogFiles                    []DigestLog
	Raw                         []byte // exact decompressed bytes
}

// DigestLog is one entry of a digest's logFiles array.
type DigestLog struct {
	S3Bucket        string
	S3Object        string
	HashValue       string
	HashAlgorithm   string
	NewestEventTime *string
	OldestEventTime *string
}

// PublicKey is one CloudTrail digest-signing public key.
type PublicKey struct {
	EvidenceID        int64
	Fingerprint       string // hex MD5 of DER exactly as supplied
	ListedFingerprint string // the Fingerprint field of list-public-keys, if any
	DER               []byte
	Encoding          string // "pkcs1" or "spki"
	Bits              int
	ValidityStart     *time.Time
	ValidityEnd       *time.Time
	Region            string // from the file path when it names one
	Error             string // e.g. listed fingerprint disagrees with MD5(DER)
}

// ObjectMeta is exported S3 metadata for one object version.
type ObjectMeta struct {
	EvidenceID   int64
	Source       string // "head-object", "get-object-attributes", "list-object-versions", "inventory-csv"
	Bucket       string
	Key          string
	VersionID    string
	IsLatest     *bool
	DeleteMarker bool
	Size         *int64
	ETag         string // without quotes
	LastModified *time.Time
	Checksums    map[string]string // algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5, XXHASH64, XXHASH3, XXHASH128) -> value as exported
	ChecksumType string            // COMPOSITE, FULL_OBJECT or ""
	Algorithms   []string          // ChecksumAlgorithm lists (listings and inventory carry names only)
	StorageClass string
	SSE          string // ServerSideEncryption / inventory EncryptionStatus
	SSECustomer  string // SSECustomerAlgorithm
	KMSKeyID     string
	PartsCount   *int
	Parts        []ObjectPart
	Multipart    *bool             // inventory IsMultipartUploaded
	UserMetadata map[string]string // head-object Metadata (digest signature lives here)
	// ObjectPath is the local copy this metadata describes, when the
	// export sits beside it (K.metadata.json -> K); empty otherwise.
	ObjectPath string
}

// ObjectPart is one part of a multipart object from ObjectParts.Parts.
type ObjectPart struct {
	PartNumber int
	Size       *int64
	Checksums  map[string]string
}

// InventoryManifest is an S3 Inventory manifest.json.
type InventoryManifest struct {
	EvidenceID        int64
	SourceBucket      string
	DestinationBucket string
	Version           string
	CreationTimestamp *time.Time
	FileFormat        string
	FileSchema        string
	Files             []InventoryFile
}

// InventoryFile is one entry of a manifest's files array.
type InventoryFile struct {
	Key         string
	Size        int64
	MD5Checksum string
}

// AccessRecord is one line of an S3 server access-log file. Fields hold
// the tokens as logged, with quotes and brackets removed; "-" stays "-".
type AccessRecord struct {
	EvidenceID     int64
	LineNo         int // 1-based
	BucketOwner    string
	Bucket         string
	Time           string // RFC 3339 UTC, parsed from field 3; empty if unparsable
	RemoteIP       string
	Requester      string
	RequestID      string
	Operation      string
	Key            string
	RequestURI     string
	HTTPStatus     string
	ErrorCode      string
	BytesSent      string
	ObjectSize     string
	TotalTime      string
	TurnAroundTime string
	Referer        string
	UserAgent      string
	VersionID      string
	HostID         string
	SignatureVer   string
	CipherSuite    string
	AuthType       string
	HostHeader     string
	TLSVersion     string
	AccessPointARN string
	ACLRequired    string
	SourceRegion   string
	Extra          []string // unknown trailing fields, verbatim
	FieldCount     int
	Ambiguous      bool   // quotes inside a quoted field made the split uncertain
	ParseError     string // non-empty when the line could not be parsed; Raw keeps it
	Raw            string
	// Spans locate fields 1 to SpanCount in Raw as [byte offset, length]
	// (quotes and brackets excluded): every field is a run of the line as
	// logged. The parser fills them; a record built by hand leaves
	// SpanCount 0 and is stored with its fields encoded instead.
	Spans     [27][2]int32
	SpanCount int
}
