package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/lake"
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

// lakeFileRow is one entry of a sign file's files list.
type lakeFileRow struct {
	FileName      string `parquet:"file_name"`
	FileHashValue string `parquet:"file_hash_value"`
}

// lakeSignRow is one CloudTrail Lake sign file (result_sign.json) of
// table lake_sign_files, its members as read and its verify status.
type lakeSignRow struct {
	EvidenceID           int64         `parquet:"evidence_id"`
	Folder               string        `parquet:"folder"`
	Path                 string        `parquet:"path"`
	SHA256               string        `parquet:"sha256"`
	Status               *string       `parquet:"status,optional,dict"`
	Verified             bool          `parquet:"verified"`
	Version              string        `parquet:"version,dict"`
	Region               string        `parquet:"region,dict"`
	QueryCompleteTime    *time.Time    `parquet:"query_complete_time,optional,timestamp(microsecond:utc)"`
	HashAlgorithm        string        `parquet:"hash_algorithm,dict"`
	SignatureAlgorithm   string        `parquet:"signature_algorithm,dict"`
	PublicKeyFingerprint string        `parquet:"public_key_fingerprint,dict"`
	HashSignature        string        `parquet:"hash_signature"`
	Files                []lakeFileRow `parquet:"files,list"`
	Problems             []string      `parquet:"problems,list"`
	Raw                  string        `parquet:"raw"`
	RawBytes             []byte        `parquet:"raw_bytes,optional"` // the exact bytes when raw is not valid UTF-8
}

// lakeResultRow is one CloudTrail Lake result file of table lake_results.
type lakeResultRow struct {
	EvidenceID int64    `parquet:"evidence_id"`
	Folder     string   `parquet:"folder"`
	Path       string   `parquet:"path"`
	S3Key      string   `parquet:"s3_key"`
	SHA256     string   `parquet:"sha256"`
	Status     *string  `parquet:"status,optional,dict"`
	Verified   bool     `parquet:"verified"`
	Header     []string `parquet:"header,list"`
	RowCount   *int64   `parquet:"row_count,optional"`
	Error      string   `parquet:"error"`
}

// lakeRowRow is one indexed row of a Lake result file (ingest
// --lake-rows) of table lake_rows.
type lakeRowRow struct {
	EvidenceID   int64    `parquet:"evidence_id"`
	RowNo        int64    `parquet:"row_no"`
	Fields       []string `parquet:"fields,list"`
	ResultStatus *string  `parquet:"result_status,optional,dict"`
	Verified     bool     `parquet:"verified"`
}

// Tables are the tables of an export, in the order written.
var Tables = []string{"events", "access_log", "evidence", "item_status", "findings", "digests", "lake_sign_files", "lake_results", "lake_rows"}

// Run exports the case at path to opt.Out. It reads the case through
// read-only connections of its own: the events are read and encoded by
// as many workers as there are cores, each a range of event times.
func Run(ctx context.Context, path string, opt Options) (*Manifest, string, error) {
	if opt.RowGroupBytes <= 0 {
		opt.RowGroupBytes = DefaultRowGroupBytes
	}
	if opt.FileBytes <= 0 {
		opt.FileBytes = DefaultFileBytes
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	c, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	id, err := c.CaseID(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := prepareOut(opt.Out); err != nil {
		return nil, "", err
	}
	// A case of shards (ingest --shard) writes MANIFEST-<shards>.json and
	// ddl/<shards>/, so that shards' exports copied into one folder do not
	// collide (export merge writes the whole's).
	shards, err := c.IngestShards(ctx)
	if err != nil {
		return nil, "", err
	}
	m := &Manifest{Format: Format, CaseID: id, CreatedAt: opt.Now.UTC().Format(time.RFC3339Nano), Tool: opt.Tool,
		Shards: shards, Filters: Filters{VerifiedOnly: opt.VerifiedOnly, From: opt.From, To: opt.To}, Files: []File{}}
	sh := newShared(m)
	for _, name := range Tables {
		sh.summary(name, partitionOf[name])
	}
	if err := exportEvents(ctx, path, c, &opt, sh); err != nil {
		return nil, "", err
	}
	for _, step := range []func(context.Context, *store.Case, *Options, *shared) error{
		exportAccess, exportEvidence, exportItems, exportFindings, exportDigests, exportLakeSigns, exportLakeResults, exportLakeRows,
	} {
		if err := step(ctx, c, &opt, sh); err != nil {
			return nil, "", err
		}
	}
	if opt.Location == "" {
		if opt.Location, err = filepath.Abs(opt.Out); err != nil {
			return nil, "", err
		}
	}
	m.Location = opt.Location
	ddl := "ddl"
	if len(shards) > 0 {
		ddl += "/" + ShardName(shards)
	}
	if err := writeDDL(opt.Out, ddl, opt.Location, m); err != nil {
		return nil, "", err
	}
	sum, err := writeManifest(opt.Out, ManifestFor(shards), m)
	if err != nil {
		return nil, "", err
	}
	return m, sum, nil
}

// partitionOf is each table's partition column.
var partitionOf = map[string]string{"events": "event_date", "access_log": "request_date"}

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

// batchRows is how many rows the reading goroutine hands the writing one
// at a time.
const batchRows = 512

// rowBatch is rows on their way to a table, with their partitions and
// sizes.
type rowBatch[T any] struct {
	rows  []T
	parts []string
	sizes []int64
}

// pipe runs read, which hands rows to emit, on a goroutine of its own and
// writes them to t on this one: reading the case and encoding Parquet
// take a core each. It ends t's last file.
func pipe[T any](ctx context.Context, t *table[T], read func(emit func(T, string, int64) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *rowBatch[T], 4)
	errc := make(chan error, 1)
	go func() {
		defer close(ch)
		b := &rowBatch[T]{}
		send := func() error {
			select {
			case ch <- b:
				b = &rowBatch[T]{}
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := read(func(r T, part string, size int64) error {
			b.rows, b.parts, b.sizes = append(b.rows, r), append(b.parts, part), append(b.sizes, size)
			if len(b.rows) >= batchRows {
				return send()
			}
			return nil
		})
		if err == nil && len(b.rows) > 0 {
			err = send()
		}
		errc <- err
	}()
	var werr error
	for b := range ch {
		if werr != nil {
			continue // drain, so the reader ends
		}
		for i := range b.rows {
			if werr = t.add(b.rows[i], b.parts[i], b.sizes[i]); werr != nil {
				cancel()
				break
			}
		}
	}
	if rerr := <-errc; werr == nil && rerr != nil && !errors.Is(rerr, context.Canceled) {
		return rerr
	}
	if werr != nil {
		return werr
	}
	return t.closeFile()
}

// exportEvents writes the events table: the time range is cut at
// quantiles of the records' times into one range per worker, and each
// worker reads its range in time order on a connection of its own and
// writes its own files.
func exportEvents(ctx context.Context, path string, c *store.Case, opt *Options, sh *shared) error {
	minPer := opt.minRangeRows
	if minPer <= 0 {
		minPer = 64 << 10
	}
	cuts, err := c.EventTimeQuantiles(ctx, store.ExportRange{From: opt.From, To: opt.To}, opt.Workers, minPer)
	if err != nil {
		return err
	}
	// Records without a time are in the first range, when the export's
	// range has no bounds (they sort first).
	ranges := make([]store.ExportRange, 0, len(cuts)+1)
	lo := opt.From
	for _, q := range cuts {
		ranges = append(ranges, store.ExportRange{From: lo, To: q, WithNull: len(ranges) == 0 && opt.From == "" && opt.To == ""})
		lo = q
	}
	ranges = append(ranges, store.ExportRange{From: lo, To: opt.To})
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = exportEventRange(ctx, path, r, opt, sh); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return finishTable[eventRow](sh, "events", "event_date", opt)
}

// exportEventRange writes the records of one time range.
func exportEventRange(ctx context.Context, path string, rng store.ExportRange, opt *Options, sh *shared) error {
	rd, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return err
	}
	defer rd.Close()
	lookups, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return err
	}
	defer lookups.Close()
	t := newTable[eventRow]("events", "event_date", opt, sh)
	// Each log file's columns are made once and shared by its rows:
	// records come in time order, so those of one file mostly come
	// together.
	type logCols struct {
		verified                            bool
		status, s3Key, digest, digestStatus *string
		sha256, path, member                string
	}
	logs := map[int64]*logCols{}
	var order []int64
	logOf := func(id int64) (*logCols, error) {
		if l, ok := logs[id]; ok {
			return l, nil
		}
		x, err := lookups.ExportLogOf(ctx, id)
		if err != nil {
			return nil, err
		}
		l := &logCols{verified: x.Status == "valid", status: strPtr(x.Status), s3Key: strPtr(text(x.S3Key)),
			digest: strPtr(text(x.Digest)), digestStatus: strPtr(x.DigestStatus), sha256: x.SHA256,
			path: text(x.Path), member: text(x.Member)}
		if len(order) >= 4096 {
			delete(logs, order[0])
			order = order[1:]
		}
		logs[id], order = l, append(order, id)
		return l, nil
	}
	return pipe(ctx, t, func(emit func(eventRow, string, int64) error) error {
		return rd.EachExportEvent(ctx, rng, func(e *store.ExportEvent) error {
			l, err := logOf(e.EvidenceID)
			if err != nil {
				return err
			}
			if opt.VerifiedOnly && !l.verified {
				return nil
			}
			tx := func(i int) *string { return textPtr(e.Text[i]) }
			r := eventRow{EventID: tx(0), EventTimeText: tx(1), EventVersion: tx(2), EventSource: tx(3), EventName: tx(4),
				EventType: tx(5), EventCategory: tx(6), AWSRegion: tx(7), SourceIP: tx(8), UserAgent: tx(9),
				Principal: tx(10), IdentityType: tx(11), AccessKeyID: tx(12), UserName: tx(13), AccountID: tx(14),
				RecipientAccountID: tx(15), ErrorCode: tx(16), ErrorMessage: tx(17), RequestID: tx(18),
				SharedEventID: tx(19), ReadOnly: e.ReadOnly, ManagementEvent: e.ManagementEvent, Verifiable: e.Verifiable,
				Verified: l.verified, LogStatus: l.status, EvidenceID: e.EvidenceID, RecordIndex: e.RecordIndex,
				EvidenceSHA256: l.sha256, EvidencePath: l.path, EvidenceMember: l.member, LogS3Key: l.s3Key,
				DigestS3Key: l.digest, DigestStatus: l.digestStatus}
			r.Raw, r.RawBytes = rawText(e.Raw)
			if e.Text[1] != nil {
				r.EventTime = timeOf(*e.Text[1])
			}
			return emit(r, dateOf(r.EventTime), int64(len(e.Raw))+256)
		})
	})
}

// intOf is an access-log number field as a count; nil for "-" or text.
func intOf(s string) *int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func exportAccess(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[accessRow]("access_log", "request_date", opt, sh)
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
	return t.closeAndFinish()
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

func exportEvidence(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[evidenceRow]("evidence", "", opt, sh)
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
	return t.closeAndFinish()
}

func exportItems(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[itemRow]("item_status", "", opt, sh)
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
	return t.closeAndFinish()
}

func exportFindings(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[findingRow]("findings", "", opt, sh)
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
	return t.closeAndFinish()
}

func exportDigests(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[digestRow]("digests", "", opt, sh)
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
	return t.closeAndFinish()
}

func exportLakeSigns(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[lakeSignRow]("lake_sign_files", "", opt, sh)
	err := c.EachExportLakeSign(ctx, func(l *store.ExportLakeSign) error {
		r := lakeSignRow{EvidenceID: l.EvidenceID, Folder: text(l.Folder), Path: text(l.Path), SHA256: l.SHA256,
			Status: strPtr(l.Status), Verified: l.Status == "valid", Files: []lakeFileRow{}, Problems: []string{}}
		r.Raw, r.RawBytes = rawText(l.Raw)
		// The members as the verifier reads them (one parser); a file
		// that is not a well-formed sign file keeps what could be read
		// and says why in problems.
		sf, _ := lake.ParseSignFile(l.Raw)
		r.Version, r.Region, r.HashAlgorithm = text(sf.Version), text(sf.Region), text(sf.HashAlgorithm)
		r.SignatureAlgorithm, r.PublicKeyFingerprint = text(sf.SignatureAlgorithm), text(sf.PublicKeyFingerprint)
		r.HashSignature = text(sf.HashSignature)
		if !sf.QueryCompleteTime.IsZero() {
			qt := sf.QueryCompleteTime.UTC()
			r.QueryCompleteTime = &qt
		}
		for _, f := range sf.Files {
			r.Files = append(r.Files, lakeFileRow{FileName: text(f.Name), FileHashValue: text(f.SHA256)})
		}
		r.Problems = append(r.Problems, texts(sf.Problems)...)
		return t.add(r, "", int64(len(l.Raw))*2+256)
	})
	if err != nil {
		return err
	}
	return t.closeAndFinish()
}

func exportLakeResults(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[lakeResultRow]("lake_results", "", opt, sh)
	err := c.EachExportLakeResult(ctx, func(l *store.ExportLakeResult) error {
		r := lakeResultRow{EvidenceID: l.EvidenceID, Folder: text(l.Folder), Path: text(l.Path), S3Key: text(l.S3Key),
			SHA256: l.SHA256, Status: strPtr(l.Status), Verified: l.Status == "valid", Header: []string{},
			RowCount: l.RowCount, Error: text(l.Error)}
		if l.Header != "" {
			var h []string
			if err := json.Unmarshal([]byte(l.Header), &h); err != nil {
				return fmt.Errorf("lake result %s: header: %w", l.Path, err)
			}
			r.Header = texts(h)
		}
		return t.add(r, "", int64(len(l.Header)+len(l.Path))+256)
	})
	if err != nil {
		return err
	}
	return t.closeAndFinish()
}

func exportLakeRows(ctx context.Context, c *store.Case, opt *Options, sh *shared) error {
	t := newTable[lakeRowRow]("lake_rows", "", opt, sh)
	err := c.EachExportLakeRow(ctx, opt.VerifiedOnly, func(l *store.ExportLakeRow) error {
		r := lakeRowRow{EvidenceID: l.EvidenceID, RowNo: l.RowNo, ResultStatus: strPtr(l.Status), Verified: l.Status == "valid"}
		if err := json.Unmarshal([]byte(l.Fields), &r.Fields); err != nil {
			return fmt.Errorf("lake row %d of evidence %d: %w", l.RowNo, l.EvidenceID, err)
		}
		r.Fields = texts(r.Fields)
		return t.add(r, "", int64(len(l.Fields))+64)
	})
	if err != nil {
		return err
	}
	return t.closeAndFinish()
}
