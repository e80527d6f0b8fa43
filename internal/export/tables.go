package export

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/store"
)

// The tables of an export, their rows as Go structs: the parquet tags
// name each column (snake_case, documented in the README) and its type,
// dictionary-encode the low-cardinality ones, and leave nullable ones
// optional.

// eventRow is one CloudTrail record of table events.
type eventRow struct {
	EventTime          *time.Time `parquet:"event_time,optional,timestamp(microsecond:utc)"`
	EventTimeText      *string    `parquet:"event_time_text,optional"`
	EventID            *string    `parquet:"event_id,optional"`
	EventVersion       *string    `parquet:"event_version,optional,dict"`
	EventSource        *string    `parquet:"event_source,optional,dict"`
	EventName          *string    `parquet:"event_name,optional,dict"`
	EventType          *string    `parquet:"event_type,optional,dict"`
	EventCategory      *string    `parquet:"event_category,optional,dict"`
	AWSRegion          *string    `parquet:"aws_region,optional,dict"`
	SourceIP           *string    `parquet:"source_ip,optional"`
	UserAgent          *string    `parquet:"user_agent,optional,dict"`
	Principal          *string    `parquet:"principal,optional,dict"`
	IdentityType       *string    `parquet:"identity_type,optional,dict"`
	AccessKeyID        *string    `parquet:"access_key_id,optional,dict"`
	UserName           *string    `parquet:"user_name,optional,dict"`
	AccountID          *string    `parquet:"account_id,optional,dict"`
	RecipientAccountID *string    `parquet:"recipient_account_id,optional,dict"`
	ErrorCode          *string    `parquet:"error_code,optional,dict"`
	ErrorMessage       *string    `parquet:"error_message,optional"`
	RequestID          *string    `parquet:"request_id,optional"`
	SharedEventID      *string    `parquet:"shared_event_id,optional"`
	ReadOnly           *bool      `parquet:"read_only,optional"`
	ManagementEvent    *bool      `parquet:"management_event,optional"`
	Verifiable         bool       `parquet:"verifiable"`
	Raw                string     `parquet:"raw"`
	RawBytes           []byte     `parquet:"raw_bytes,optional"`
	// Integrity: the log file the record came from and what verify found.
	Verified       bool    `parquet:"verified"`
	LogStatus      *string `parquet:"log_status,optional,dict"`
	EvidenceID     int64   `parquet:"evidence_id"`
	RecordIndex    int64   `parquet:"record_index"`
	EvidenceSHA256 string  `parquet:"evidence_sha256"`
	EvidencePath   string  `parquet:"evidence_path,dict"`
	EvidenceMember string  `parquet:"evidence_member"`
	LogS3Key       *string `parquet:"log_s3_key,optional"`
	DigestS3Key    *string `parquet:"digest_s3_key,optional"`
	DigestStatus   *string `parquet:"digest_status,optional,dict"`
}

// accessRow is one S3 server access-log line of table access_log.
type accessRow struct {
	RequestTime    *time.Time `parquet:"request_time,optional,timestamp(microsecond:utc)"`
	Time           string     `parquet:"time"`
	BucketOwner    string     `parquet:"bucket_owner,dict"`
	Bucket         string     `parquet:"bucket,dict"`
	RemoteIP       string     `parquet:"remote_ip"`
	Requester      string     `parquet:"requester,dict"`
	RequestID      string     `parquet:"request_id"`
	Operation      string     `parquet:"operation,dict"`
	Key            string     `parquet:"key"`
	RequestURI     string     `parquet:"request_uri"`
	HTTPStatus     *int64     `parquet:"http_status,optional"`
	ErrorCode      string     `parquet:"error_code,dict"`
	BytesSent      *int64     `parquet:"bytes_sent,optional"`
	ObjectSize     *int64     `parquet:"object_size,optional"`
	TotalTime      *int64     `parquet:"total_time,optional"`
	TurnAroundTime *int64     `parquet:"turn_around_time,optional"`
	Referer        string     `parquet:"referer"`
	UserAgent      string     `parquet:"user_agent,dict"`
	VersionID      string     `parquet:"version_id"`
	HostID         string     `parquet:"host_id"`
	SigVersion     string     `parquet:"signature_version,dict"`
	CipherSuite    string     `parquet:"cipher_suite,dict"`
	AuthType       string     `parquet:"auth_type,dict"`
	HostHeader     string     `parquet:"host_header,dict"`
	TLSVersion     string     `parquet:"tls_version,dict"`
	AccessPointARN string     `parquet:"access_point_arn,dict"`
	ACLRequired    string     `parquet:"acl_required,dict"`
	SourceRegion   string     `parquet:"source_region,dict"`
	ExtraFields    string     `parquet:"extra_fields,json"`
	FieldCount     int64      `parquet:"field_count"`
	Ambiguous      bool       `parquet:"ambiguous"`
	ParseError     string     `parquet:"parse_error"`
	Raw            string     `parquet:"raw"`
	RawBytes       []byte     `parquet:"raw_bytes"`
	EvidenceID     int64      `parquet:"evidence_id"`
	LineNo         int64      `parquet:"line_no"`
	EvidencePath   string     `parquet:"evidence_path,dict"`
	EvidenceMember string     `parquet:"evidence_member"`
	EvidenceSHA256 string     `parquet:"evidence_sha256"`
}

// evidenceRow is one evidence item of table evidence (the inventory).
type evidenceRow struct {
	EvidenceID     int64    `parquet:"evidence_id"`
	Source         string   `parquet:"source,dict"`
	Path           string   `parquet:"path"`
	Member         string   `parquet:"member"`
	MemberPath     []string `parquet:"member_path,list"`
	MemberIndex    []int64  `parquet:"member_index,list"`
	Kind           string   `parquet:"kind,dict"`
	Format         string   `parquet:"format,dict"`
	Size           *int64   `parquet:"size,optional"`
	SHA256         string   `parquet:"sha256"`
	ContentSHA256  string   `parquet:"content_sha256"`
	ContentSize    *int64   `parquet:"content_size,optional"`
	Compression    string   `parquet:"compression,dict"`
	GzipTrailing   bool     `parquet:"gzip_trailing"`
	S3Bucket       string   `parquet:"s3_bucket,dict"`
	S3Key          string   `parquet:"s3_key"`
	AccountID      string   `parquet:"account_id,dict"`
	OrgID          string   `parquet:"org_id,dict"`
	Region         string   `parquet:"region,dict"`
	Trail          string   `parquet:"trail,dict"`
	Backfill       bool     `parquet:"backfill"`
	Mode           string   `parquet:"mode,dict"`
	LinkTarget     string   `parquet:"link_target"`
	MTime          string   `parquet:"mtime"`
	RecordCount    *int64   `parquet:"record_count,optional"`
	EventCount     *int64   `parquet:"event_count,optional"`
	EventsSHA256   string   `parquet:"events_sha256"`
	RecordsSeen    *int64   `parquet:"records_seen,optional"`
	RecordsIndexed *int64   `parquet:"records_indexed,optional"`
	EventsFilter   string   `parquet:"events_filter,json"`
	Error          string   `parquet:"error"`
	IngestedAt     string   `parquet:"ingested_at"`
}

// checkRow is one check verify ran on an item.
type checkRow struct {
	Name   string `parquet:"name"`
	Status string `parquet:"status"`
	Want   string `parquet:"want"`
	Got    string `parquet:"got"`
	Reason string `parquet:"reason"`
}

// itemRow is one verdict of table item_status.
type itemRow struct {
	Kind        string     `parquet:"kind,dict"`
	Status      string     `parquet:"status,dict"`
	Verified    bool       `parquet:"verified"`
	S3Bucket    string     `parquet:"s3_bucket,dict"`
	S3Key       string     `parquet:"s3_key"`
	EvidenceID  *int64     `parquet:"evidence_id,optional"`
	Path        string     `parquet:"path"`
	MemberPath  []string   `parquet:"member_path,list"`
	MemberIndex []int64    `parquet:"member_index,list"`
	Account     string     `parquet:"account,dict"`
	Region      string     `parquet:"region,dict"`
	Trail       string     `parquet:"trail,dict"`
	Checks      []checkRow `parquet:"checks,list"`
	Detail      string     `parquet:"detail,json"`
}

// findingRow is one finding of table findings.
type findingRow struct {
	Type      string     `parquet:"type,dict"`
	Severity  string     `parquet:"severity,dict"`
	Summary   string     `parquet:"summary"`
	Chain     string     `parquet:"chain"`
	Account   string     `parquet:"account,dict"`
	Region    string     `parquet:"region,dict"`
	Trail     string     `parquet:"trail,dict"`
	StartTime *time.Time `parquet:"start_time,optional,timestamp(microsecond:utc)"`
	EndTime   *time.Time `parquet:"end_time,optional,timestamp(microsecond:utc)"`
	Detail    string     `parquet:"detail,json"`
}

// digestRow is one parsed digest of table digests.
type digestRow struct {
	EvidenceID         int64      `parquet:"evidence_id"`
	Status             string     `parquet:"status,dict"`
	AccountID          string     `parquet:"aws_account_id,dict"`
	StartTime          *time.Time `parquet:"digest_start_time,optional,timestamp(microsecond:utc)"`
	EndTime            *time.Time `parquet:"digest_end_time,optional,timestamp(microsecond:utc)"`
	Bucket             string     `parquet:"digest_s3_bucket,dict"`
	Object             string     `parquet:"digest_s3_object"`
	Fingerprint        string     `parquet:"digest_public_key_fingerprint,dict"`
	SignatureAlgorithm string     `parquet:"digest_signature_algorithm,dict"`
	NewestEventTime    *time.Time `parquet:"newest_event_time,optional,timestamp(microsecond:utc)"`
	OldestEventTime    *time.Time `parquet:"oldest_event_time,optional,timestamp(microsecond:utc)"`
	PrevBucket         string     `parquet:"previous_digest_s3_bucket,dict"`
	PrevObject         string     `parquet:"previous_digest_s3_object"`
	PrevHashValue      string     `parquet:"previous_digest_hash_value"`
	PrevHashAlgorithm  string     `parquet:"previous_digest_hash_algorithm,dict"`
	PrevSignature      string     `parquet:"previous_digest_signature"`
	LogFileCount       int64      `parquet:"log_file_count"`
}

// Tables are the tables of an export, in the order written.
var Tables = []string{"events", "access_log", "evidence", "item_status", "findings", "digests"}

// Run exports the case c to opt.Out. lookups is a second connection to
// the same case, for what each row needs of other tables while c streams.
func Run(ctx context.Context, c, lookups *store.Case, opt Options) (*Manifest, string, error) {
	if opt.RowGroupBytes <= 0 {
		opt.RowGroupBytes = DefaultRowGroupBytes
	}
	if opt.FileBytes <= 0 {
		opt.FileBytes = DefaultFileBytes
	}
	if opt.Tag == "" {
		opt.Tag = "case"
	}
	if err := prepareOut(opt.Out); err != nil {
		return nil, "", err
	}
	id, err := c.CaseID(ctx)
	if err != nil {
		return nil, "", err
	}
	m := &Manifest{Format: Format, CaseID: id, CreatedAt: opt.Now.UTC().Format(time.RFC3339Nano), Tool: opt.Tool,
		Filters: Filters{VerifiedOnly: opt.VerifiedOnly, From: opt.From, To: opt.To}, Files: []File{}}
	for _, step := range []func(context.Context, *store.Case, *store.Case, *Options, *Manifest) error{
		exportEvents, exportAccess, exportEvidence, exportItems, exportFindings, exportDigests,
	} {
		if err := step(ctx, c, lookups, &opt, m); err != nil {
			return nil, "", err
		}
	}
	sum, err := writeManifest(opt.Out, ManifestName, m)
	if err != nil {
		return nil, "", err
	}
	return m, sum, nil
}

// timeOf parses a time the case holds; nil when absent or not a time.
func timeOf(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := awstime.Parse(s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// dateOf is the partition value of a time: its UTC date, or HiveNull.
func dateOf(t *time.Time) string {
	if t == nil {
		return HiveNull
	}
	return t.Format("2006-01-02")
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func exportEvents(ctx context.Context, c, lookups *store.Case, opt *Options, m *Manifest) error {
	t := newTable[eventRow]("events", "event_date", opt, m)
	// The log file of each record, as the export describes it: records
	// come in time order, so those of one file mostly come together.
	logs := map[int64]*store.ExportLog{}
	var order []int64
	logOf := func(id int64) (*store.ExportLog, error) {
		if l, ok := logs[id]; ok {
			return l, nil
		}
		l, err := lookups.ExportLogOf(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(order) >= 4096 {
			delete(logs, order[0])
			order = order[1:]
		}
		logs[id], order = l, append(order, id)
		return l, nil
	}
	err := c.EachExportEvent(ctx, store.ExportRange{From: opt.From, To: opt.To}, func(e *store.ExportEvent) error {
		l, err := logOf(e.EvidenceID)
		if err != nil {
			return err
		}
		verified := l.Status == "valid"
		if opt.VerifiedOnly && !verified {
			return nil
		}
		tx := func(i int) *string { return textPtr(e.Text[i]) }
		r := eventRow{EventID: tx(0), EventTimeText: tx(1), EventVersion: tx(2), EventSource: tx(3), EventName: tx(4),
			EventType: tx(5), EventCategory: tx(6), AWSRegion: tx(7), SourceIP: tx(8), UserAgent: tx(9),
			Principal: tx(10), IdentityType: tx(11), AccessKeyID: tx(12), UserName: tx(13), AccountID: tx(14),
			RecipientAccountID: tx(15), ErrorCode: tx(16), ErrorMessage: tx(17), RequestID: tx(18),
			SharedEventID: tx(19), ReadOnly: e.ReadOnly, ManagementEvent: e.ManagementEvent, Verifiable: e.Verifiable,
			Raw: text(string(e.Raw)), RawBytes: exact(e.Raw), Verified: verified, LogStatus: strPtr(l.Status),
			EvidenceID: e.EvidenceID, RecordIndex: e.RecordIndex, EvidenceSHA256: l.SHA256, EvidencePath: text(l.Path),
			EvidenceMember: text(l.Member), LogS3Key: strPtr(text(l.S3Key)), DigestS3Key: strPtr(text(l.Digest)),
			DigestStatus: strPtr(l.DigestStatus)}
		if e.Text[1] != nil {
			r.EventTime = timeOf(*e.Text[1])
		}
		return t.add(r, dateOf(r.EventTime), int64(len(e.Raw))+256)
	})
	if err != nil {
		return err
	}
	return t.finish()
}

// intOf is an access-log number field as a count; nil for "-" or text.
func intOf(s string) *int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func exportAccess(ctx context.Context, c, _ *store.Case, opt *Options, m *Manifest) error {
	t := newTable[accessRow]("access_log", "request_date", opt, m)
	err := c.EachExportAccess(ctx, store.ExportRange{From: opt.From, To: opt.To}, func(a *store.ExportAccess) error {
		f := func(n string) string { return text(a.Fields[n]) }
		extra := a.Extra
		if extra == "" {
			extra = "[]"
		}
		r := accessRow{RequestTime: timeOf(a.Fields["time"]), Time: f("time"), BucketOwner: f("bucket_owner"),
			Bucket: f("bucket"), RemoteIP: f("remote_ip"), Requester: f("requester"), RequestID: f("request_id"),
			Operation: f("operation"), Key: f("key"), RequestURI: f("request_uri"), HTTPStatus: intOf(a.Fields["http_status"]),
			ErrorCode: f("error_code"), BytesSent: intOf(a.Fields["bytes_sent"]), ObjectSize: intOf(a.Fields["object_size"]),
			TotalTime: intOf(a.Fields["total_time"]), TurnAroundTime: intOf(a.Fields["turn_around_time"]),
			Referer: f("referer"), UserAgent: f("user_agent"), VersionID: f("version_id"), HostID: f("host_id"),
			SigVersion: f("signature_version"), CipherSuite: f("cipher_suite"), AuthType: f("auth_type"),
			HostHeader: f("host_header"), TLSVersion: f("tls_version"), AccessPointARN: f("access_point_arn"),
			ACLRequired: f("acl_required"), SourceRegion: f("source_region"), ExtraFields: text(extra),
			FieldCount: a.FieldCount, Ambiguous: a.Ambiguous, ParseError: text(a.ParseError), Raw: text(string(a.Raw)),
			RawBytes: a.Raw, EvidenceID: a.EvidenceID, LineNo: a.LineNo, EvidencePath: text(a.Path),
			EvidenceMember: text(a.Member), EvidenceSHA256: a.SHA256}
		if r.RawBytes == nil {
			r.RawBytes = []byte{}
		}
		return t.add(r, dateOf(r.RequestTime), 2*int64(len(a.Raw))+256)
	})
	if err != nil {
		return err
	}
	return t.finish()
}

func ints(xs []int) []int64 {
	if xs == nil {
		return nil
	}
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

func texts(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = text(x)
	}
	return out
}

func exportEvidence(ctx context.Context, c, _ *store.Case, opt *Options, m *Manifest) error {
	t := newTable[evidenceRow]("evidence", "", opt, m)
	err := c.EachExportEvidence(ctx, func(e *store.ExportEvidence) error {
		filter := e.EventsFilter
		if filter == "" {
			filter = "null"
		}
		r := evidenceRow{EvidenceID: e.ID, Source: text(e.Source), Path: text(e.Path), Member: text(e.Member),
			MemberPath: texts(e.Names()), MemberIndex: ints(e.MemberIndex), Kind: e.Kind, Format: e.Format,
			Size: e.Size, SHA256: e.SHA256, ContentSHA256: e.ContentSHA256, ContentSize: e.ContentSize,
			Compression: e.Compression, GzipTrailing: e.GzipTrailing, S3Bucket: text(e.S3Bucket), S3Key: text(e.S3Key),
			AccountID: e.Account, OrgID: e.OrgID, Region: e.Region, Trail: text(e.Trail), Backfill: e.Backfill,
			Mode: e.Mode, LinkTarget: text(e.LinkTarget), MTime: e.MTime, RecordCount: e.RecordCount,
			EventCount: e.EventCount, EventsSHA256: e.EventsSHA256, RecordsSeen: e.RecordsSeen,
			RecordsIndexed: e.RecordsIndexed, EventsFilter: text(filter), Error: text(e.Error), IngestedAt: e.IngestedAt}
		return t.add(r, "", int64(len(e.Path)+len(e.Member))+512)
	})
	if err != nil {
		return err
	}
	return t.finish()
}

func exportItems(ctx context.Context, c, _ *store.Case, opt *Options, m *Manifest) error {
	t := newTable[itemRow]("item_status", "", opt, m)
	err := c.EachItemStatus(ctx, false, func(it store.ItemStatus) error {
		r := itemRow{Kind: it.Kind, Status: it.Status, Verified: it.Status == "valid", S3Bucket: text(it.S3Bucket),
			S3Key: text(it.S3Key), Path: text(it.Path), MemberPath: texts(it.MemberPath),
			MemberIndex: ints(it.MemberIndex), Account: it.Account, Region: it.Region, Trail: text(it.Trail),
			Detail: "null", Checks: []checkRow{}}
		if it.EvidenceID != 0 {
			r.EvidenceID = &it.EvidenceID
		}
		if len(it.Detail) > 0 {
			r.Detail = text(string(it.Detail))
		}
		if len(it.Checks) > 0 {
			if err := json.Unmarshal(it.Checks, &r.Checks); err != nil {
				return fmt.Errorf("item %s %s: checks: %w", it.Kind, it.S3Key, err)
			}
			for i := range r.Checks {
				ck := &r.Checks[i]
				ck.Name, ck.Status, ck.Want, ck.Got, ck.Reason = text(ck.Name), text(ck.Status), text(ck.Want), text(ck.Got), text(ck.Reason)
			}
		}
		return t.add(r, "", int64(len(it.Detail)+len(it.Checks))+256)
	})
	if err != nil {
		return err
	}
	return t.finish()
}

func exportFindings(ctx context.Context, c, _ *store.Case, opt *Options, m *Manifest) error {
	t := newTable[findingRow]("findings", "", opt, m)
	err := c.EachFinding(ctx, func(f store.Finding) error {
		r := findingRow{Type: f.Type, Severity: f.Severity, Summary: text(f.Summary), Chain: text(f.Chain),
			Account: f.Account, Region: f.Region, Trail: text(f.Trail), StartTime: timeOf(f.StartTime),
			EndTime: timeOf(f.EndTime), Detail: "null"}
		if len(f.Detail) > 0 {
			r.Detail = text(string(f.Detail))
		}
		return t.add(r, "", int64(len(f.Detail)+len(f.Summary))+128)
	})
	if err != nil {
		return err
	}
	return t.finish()
}

func exportDigests(ctx context.Context, c, _ *store.Case, opt *Options, m *Manifest) error {
	t := newTable[digestRow]("digests", "", opt, m)
	err := c.EachExportDigest(ctx, func(d *store.ExportDigest) error {
		r := digestRow{EvidenceID: d.EvidenceID, Status: d.Status, AccountID: text(d.AccountID),
			StartTime: timeOf(d.StartTime), EndTime: timeOf(d.EndTime), Bucket: text(d.Bucket), Object: text(d.Object),
			Fingerprint: text(d.Fingerprint), SignatureAlgorithm: text(d.SignatureAlgorithm),
			NewestEventTime: timeOf(d.NewestEvent), OldestEventTime: timeOf(d.OldestEvent),
			PrevBucket: text(d.PrevBucket), PrevObject: text(d.PrevObject), PrevHashValue: text(d.PrevHashValue),
			PrevHashAlgorithm: text(d.PrevHashAlgorithm), PrevSignature: text(d.PrevSignature),
			LogFileCount: d.LogFileCount}
		return t.add(r, "", 1024)
	})
	if err != nil {
		return err
	}
	return t.finish()
}
