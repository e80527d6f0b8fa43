package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/forensic-dev/forensic/internal/verdict"
)

// The reads of `forensic export`: each table of the case streamed in the
// order the export writes it, nothing held.

// ExportEvent is one indexed CloudTrail record; a text field is nil where
// the case holds NULL.
type ExportEvent struct {
	ID, EvidenceID, RecordIndex int64
	Text                        [len(ExportEventText)]*string // ExportEventText's columns, in order (pointing into vals)
	vals                        [len(ExportEventText)]string
	ReadOnly, ManagementEvent   *bool
	Verifiable                  bool
	Raw                         []byte
}

// ExportEventText are the text columns of ct_events, in ExportEvent.Text
// order.
var ExportEventText = [...]string{"event_id", "event_time", "event_version", "event_source", "event_name", "event_type",
	"event_category", "aws_region", "source_ip", "user_agent", "principal", "identity_type", "access_key_id",
	"user_name", "account_id", "recipient_account_id", "error_code", "error_message", "request_id",
	"shared_event_id"}

// ExportRange bounds the event times read ("" for no bound; RFC 3339 UTC,
// compared as the case stores them): From inclusive, To exclusive.
// Records without a time are read when neither bound is set, or with
// WithNull.
type ExportRange struct {
	From, To string
	WithNull bool
}

// eventRange is r as a condition on ct_events.event_time.
func eventRange(r ExportRange) (string, []any) {
	where, args := []string{"1"}, []any{}
	if r.From != "" {
		where, args = append(where, "event_time >= ?"), append(args, r.From)
	}
	if r.To != "" {
		where, args = append(where, "event_time < ?"), append(args, r.To)
	}
	cond := strings.Join(where, " AND ")
	if r.WithNull && len(where) > 1 {
		cond = "(" + cond + " OR event_time IS NULL)"
	}
	return cond, args
}

// EventTimeQuantiles cuts the records of range r into up to n ranges of
// about as many records each, none under minPer records: it returns the
// event times to cut at, in order (none when there are too few records).
// Records without a time sort first, as EachExportEvent reads them.
func (c *Case) EventTimeQuantiles(ctx context.Context, r ExportRange, n int, minPer int64) ([]string, error) {
	where, args := eventRange(r)
	var total int64
	if err := c.queryRow(ctx, "SELECT count(*) FROM ct_events WHERE "+where, args...).Scan(&total); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	if n < 2 || total < int64(n)*minPer {
		return nil, nil
	}
	var cuts []string
	for i := 1; i < n; i++ {
		var t sql.NullString
		err := c.queryRow(ctx, "SELECT event_time FROM ct_events WHERE "+where+" ORDER BY event_time LIMIT 1 OFFSET ?",
			append(append([]any{}, args...), total*int64(i)/int64(n))...).Scan(&t)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		// A cut at a NULL time, or at one already cut at, cuts nothing.
		if t.Valid && (len(cuts) == 0 || t.String > cuts[len(cuts)-1]) && (r.From == "" || t.String > r.From) {
			cuts = append(cuts, t.String)
		}
	}
	return cuts, nil
}

// EachExportEvent calls fn for every indexed record in event time order
// (records without a time first), then record id. It reads through a
// read-only connection of the SQLite library itself (rawConn), each value
// copied once from SQLite's memory: through database/sql, converting the
// 27 columns of each row cost about a third of an export.
func (c *Case) EachExportEvent(ctx context.Context, r ExportRange, fn func(*ExportEvent) error) error {
	where, args := eventRange(r)
	q := `SELECT id, evidence_id, record_index, ` + strings.Join(ExportEventText[:], ", ") + `,
		read_only, management_event, verifiable, CAST(raw AS BLOB)
		FROM ct_events WHERE ` + where + ` ORDER BY event_time, id`
	x, err := openRawConnFlags(c.Path, sqlite3.SQLITE_OPEN_READONLY)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	defer x.close()
	if _, err := x.exec(ctx, "PRAGMA busy_timeout = 10000"); err != nil { // as the case's own connections wait
		return fmt.Errorf("read events: %w", err)
	}
	s, row, err := x.run(ctx, q, argsSize(args), func(b *binder) { b.args(args) })
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	defer func() {
		if s != 0 {
			x.done(s)
		}
	}()
	tls := x.tls
	const firstText, roCol = 3, int32(3 + len(ExportEventText))
	flag := func(col int32) *bool {
		if sqlite3.Xsqlite3_column_type(tls, s, col) == sqlite3.SQLITE_NULL {
			return nil
		}
		b := sqlite3.Xsqlite3_column_int64(tls, s, col) != 0
		return &b
	}
	for n := 0; row; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		e := new(ExportEvent) // one allocation a row: its text fields point into it
		e.ID = sqlite3.Xsqlite3_column_int64(tls, s, 0)
		e.EvidenceID = sqlite3.Xsqlite3_column_int64(tls, s, 1)
		e.RecordIndex = sqlite3.Xsqlite3_column_int64(tls, s, 2)
		for i := range e.vals {
			col := int32(firstText + i)
			if sqlite3.Xsqlite3_column_type(tls, s, col) == sqlite3.SQLITE_NULL {
				continue
			}
			p := sqlite3.Xsqlite3_column_text(tls, s, col)
			m := sqlite3.Xsqlite3_column_bytes(tls, s, col)
			e.vals[i] = string(cmem(p, int(m)))
			e.Text[i] = &e.vals[i]
		}
		e.ReadOnly, e.ManagementEvent = flag(roCol), flag(roCol+1)
		e.Verifiable = sqlite3.Xsqlite3_column_int64(tls, s, roCol+2) != 0
		p := sqlite3.Xsqlite3_column_blob(tls, s, roCol+3)
		m := sqlite3.Xsqlite3_column_bytes(tls, s, roCol+3)
		e.Raw = make([]byte, m)
		copy(e.Raw, cmem(p, int(m)))
		if err := fn(e); err != nil {
			return err
		}
		switch rc := sqlite3.Xsqlite3_step(tls, s); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			row = false
		default:
			return fmt.Errorf("read events: %w", x.errorf(rc))
		}
	}
	return nil
}

func boolOf(n sql.NullInt64) *bool {
	if !n.Valid {
		return nil
	}
	b := n.Int64 != 0
	return &b
}

// ExportLog is what the export says of the log file a record came from.
type ExportLog struct {
	SHA256, Path, Member, S3Key string
	Status                      string // its verify status, "" when not verified
	Digest, DigestStatus        string // the digest that lists it (an authentic one when any is) and its status
}

// ExportLogOf returns the log file of evidence item id as the export
// describes it.
func (c *Case) ExportLogOf(ctx context.Context, id int64) (*ExportLog, error) {
	var l ExportLog
	var detail string
	err := c.queryRow(ctx, `SELECT e.sha256, e.path, e.member, coalesce(e.s3_key, ''), coalesce(s.status, ''),
		coalesce(s.detail, '') FROM evidence e LEFT JOIN item_status s ON s.evidence_id = e.id AND s.kind = 'log'
		WHERE e.id = ? ORDER BY s.id LIMIT 1`, id).Scan(&l.SHA256, &l.Path, &l.Member, &l.S3Key, &l.Status, &detail)
	if err != nil {
		return nil, fmt.Errorf("read log file %d: %w", id, err)
	}
	if detail != "" {
		var d verdict.LogDetail
		if err := json.Unmarshal([]byte(detail), &d); err != nil {
			return nil, fmt.Errorf("read log file %d: detail: %w", id, err)
		}
		for i, lb := range d.ListedBy {
			if i == 0 || lb.DigestAuthentic && l.DigestStatus != "valid" {
				l.Digest, l.DigestStatus = lb.Digest, lb.DigestStatus
			}
		}
	}
	return &l, nil
}

// ExportAccess is one access-log line with its provenance.
type ExportAccess struct {
	EvidenceID, LineNo int64
	Fields             map[string]string // the named fields of the line ("" when absent)
	Extra              string            // unknown trailing fields, as JSON
	FieldCount         int64
	Ambiguous          bool
	ParseError         string
	Raw                []byte
	Path, Member       string // the access-log file
	SHA256             string
}

// AccessFieldNames are the named fields of an access-log line, in log
// order (the s3_access columns).
var AccessFieldNames = []string{"time", "bucket_owner", "bucket", "remote_ip", "requester", "request_id", "operation",
	"key", "request_uri", "http_status", "error_code", "bytes_sent", "object_size", "total_time", "turn_around_time",
	"referer", "user_agent", "version_id", "host_id", "signature_version", "cipher_suite", "auth_type", "host_header",
	"tls_version", "access_point_arn", "acl_required", "source_region"}

// EachExportAccess calls fn for every access-log line in time order
// (lines without a time first), then file and line.
func (c *Case) EachExportAccess(ctx context.Context, r ExportRange, fn func(*ExportAccess) error) error {
	cols := make([]string, len(AccessFieldNames))
	for i, n := range AccessFieldNames {
		cols[i] = "coalesce(CAST(a." + n + " AS BLOB), x'')"
	}
	where, args := []string{"1"}, []any{}
	if r.From != "" {
		where, args = append(where, "a.time >= ?"), append(args, r.From)
	}
	if r.To != "" {
		where, args = append(where, "a.time < ?"), append(args, r.To)
	}
	rows, err := c.query(ctx, `SELECT a.evidence_id, a.line_no, `+strings.Join(cols, ", ")+`, coalesce(a.extra, ''),
		coalesce(a.field_count, 0), a.ambiguous, coalesce(a.parse_error, ''), CAST(a.raw AS BLOB), e.path, e.member, e.sha256
		FROM s3_access a JOIN evidence e ON e.id = a.evidence_id WHERE `+strings.Join(where, " AND ")+`
		ORDER BY a.time, a.evidence_id, a.line_no`, args...)
	if err != nil {
		return fmt.Errorf("read access-log lines: %w", err)
	}
	defer rows.Close()
	vals := make([][]byte, len(AccessFieldNames))
	for rows.Next() {
		a := ExportAccess{Fields: make(map[string]string, len(AccessFieldNames))}
		var amb int
		dst := []any{&a.EvidenceID, &a.LineNo}
		for i := range vals {
			dst = append(dst, &vals[i])
		}
		dst = append(dst, &a.Extra, &a.FieldCount, &amb, &a.ParseError, &a.Raw, &a.Path, &a.Member, &a.SHA256)
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("read access-log lines: %w", err)
		}
		for i, n := range AccessFieldNames {
			a.Fields[n] = string(vals[i])
		}
		a.Ambiguous = amb != 0
		if err := fn(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ExportEvidence is one evidence row, as the inventory lists it.
type ExportEvidence struct {
	Evidence
	Size, ContentSize, RecordCount, EventCount, RecordsSeen, RecordsIndexed *int64
	Mode, LinkTarget, MTime, IngestedAt, EventsSHA256, EventsFilter         string
}

// EachExportEvidence calls fn for every evidence row in id order.
func (c *Case) EachExportEvidence(ctx context.Context, fn func(*ExportEvidence) error) error {
	rows, err := c.query(ctx, `SELECT `+evidenceColumns("e")+`, e.size, e.content_size, e.record_count, e.event_count,
		e.records_seen, e.records_indexed, coalesce(e.mode, ''), coalesce(e.link_target, ''), coalesce(e.mtime, ''),
		e.ingested_at, coalesce(e.events_sha256, ''), coalesce(e.events_filter, '') FROM evidence e ORDER BY e.id`)
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var er evidenceRow
		var x ExportEvidence
		var n [6]sql.NullInt64
		dst := append(er.dest(), &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &x.Mode, &x.LinkTarget, &x.MTime,
			&x.IngestedAt, &x.EventsSHA256, &x.EventsFilter)
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		e, err := er.decode()
		if err != nil {
			return err
		}
		x.Evidence = e
		for i, p := range []**int64{&x.Size, &x.ContentSize, &x.RecordCount, &x.EventCount, &x.RecordsSeen, &x.RecordsIndexed} {
			if n[i].Valid {
				v := n[i].Int64
				*p = &v
			}
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ExportDigest is one parsed digest.
type ExportDigest struct {
	EvidenceID                                                int64
	AccountID, StartTime, EndTime, Bucket, Object             string
	Fingerprint, SignatureAlgorithm, NewestEvent, OldestEvent string
	PrevBucket, PrevObject, PrevHashValue, PrevHashAlgorithm  string
	PrevSignature                                             string
	LogFileCount                                              int64
	Status                                                    string // its verify status, "" when not verified
}

// EachExportDigest calls fn for every parsed digest in evidence order.
func (c *Case) EachExportDigest(ctx context.Context, fn func(*ExportDigest) error) error {
	rows, err := c.query(ctx, `SELECT d.evidence_id, coalesce(d.aws_account_id, ''), coalesce(d.digest_start_time, ''),
		coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_bucket, ''), coalesce(d.digest_s3_object, ''),
		coalesce(d.digest_public_key_fingerprint, ''), coalesce(d.digest_signature_algorithm, ''),
		coalesce(d.newest_event_time, ''), coalesce(d.oldest_event_time, ''), coalesce(d.previous_digest_s3_bucket, ''),
		coalesce(d.previous_digest_s3_object, ''), coalesce(d.previous_digest_hash_value, ''),
		coalesce(d.previous_digest_hash_algorithm, ''), coalesce(d.previous_digest_signature, ''), d.log_file_count,
		coalesce((SELECT s.status FROM item_status s WHERE s.evidence_id = d.evidence_id AND s.kind = 'digest' ORDER BY s.id LIMIT 1), '')
		FROM ct_digests d ORDER BY d.evidence_id`)
	if err != nil {
		return fmt.Errorf("read digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d ExportDigest
		if err := rows.Scan(&d.EvidenceID, &d.AccountID, &d.StartTime, &d.EndTime, &d.Bucket, &d.Object, &d.Fingerprint,
			&d.SignatureAlgorithm, &d.NewestEvent, &d.OldestEvent, &d.PrevBucket, &d.PrevObject, &d.PrevHashValue,
			&d.PrevHashAlgorithm, &d.PrevSignature, &d.LogFileCount, &d.Status); err != nil {
			return fmt.Errorf("read digests: %w", err)
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	return rows.Err()
}
