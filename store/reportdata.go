package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Reads for `forensic report` (package report): what report.json lists,
// each row with its columns named and NULL kept apart from "" (a pointer
// member is nil for NULL), so that the signed report never depends on a
// table's column list. A case made by an older version may lack the
// verification tables; the reads of those tables then return nothing.
//
// The case has one connection: a function called for each row of an
// Each method must not read the case.

// tableExists reports whether the case has the table or view.
func (c *Case) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := c.queryRow(ctx, "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// CaseInfo returns every key and value of case_info.
func (c *Case) CaseInfo(ctx context.Context) (map[string]string, error) {
	rows, err := c.query(ctx, "SELECT key, value FROM case_info ORDER BY key")
	if err != nil {
		return nil, fmt.Errorf("read case_info: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read case_info: %w", err)
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read case_info: %w", err)
	}
	return m, nil
}

// EvidenceKindCount counts the evidence items of one kind.
type EvidenceKindCount struct {
	Kind   string
	Items  int64
	Bytes  int64 // sum of their sizes
	Errors int64 // items with an ingest error
}

// EvidenceKindCounts counts the evidence by kind, in kind order.
func (c *Case) EvidenceKindCounts(ctx context.Context) ([]EvidenceKindCount, error) {
	rows, err := c.query(ctx, "SELECT kind, count(*), coalesce(sum(size), 0), count(error) FROM evidence GROUP BY kind ORDER BY kind")
	if err != nil {
		return nil, fmt.Errorf("count evidence: %w", err)
	}
	defer rows.Close()
	var out []EvidenceKindCount
	for rows.Next() {
		var k EvidenceKindCount
		if err := rows.Scan(&k.Kind, &k.Items, &k.Bytes, &k.Errors); err != nil {
			return nil, fmt.Errorf("count evidence: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count evidence: %w", err)
	}
	return out, nil
}

// firstStatus is the first item_status row recorded for evidence row e
// (an item has one; a case edited by hand may have more).
const firstStatus = "(SELECT s.%s FROM item_status s WHERE s.evidence_id = e.id ORDER BY s.id LIMIT 1)"

// InventoryCount counts the evidence items of one kind, first status and
// whether they had an ingest error, as EachEvidenceRecord lists them.
type InventoryCount struct {
	Kind     string
	Status   *string // nil: no status
	HasError bool
	Items    int64
}

// InventoryCounts counts the evidence by kind, first status and ingest
// error.
func (c *Case) InventoryCounts(ctx context.Context) ([]InventoryCount, error) {
	hasStatus, err := c.tableExists(ctx, "item_status")
	if err != nil {
		return nil, err
	}
	status := "NULL"
	if hasStatus {
		status = fmt.Sprintf(firstStatus, "status")
	}
	rows, err := c.query(ctx, `SELECT kind, st, has_error, count(*) FROM
		(SELECT e.kind AS kind, `+status+` AS st, e.error IS NOT NULL AS has_error FROM evidence e)
		GROUP BY 1, 2, 3`)
	if err != nil {
		return nil, fmt.Errorf("count evidence by status: %w", err)
	}
	defer rows.Close()
	var out []InventoryCount
	for rows.Next() {
		var n InventoryCount
		if err := rows.Scan(&n.Kind, &n.Status, &n.HasError, &n.Items); err != nil {
			return nil, fmt.Errorf("count evidence by status: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count evidence by status: %w", err)
	}
	return out, nil
}

// EvidenceRecord is one evidence row as the report lists it, with the
// first status recorded for the item. Pointer members are nil for NULL.
type EvidenceRecord struct {
	ID             int64
	Source         string
	Path           string
	Member         string
	Size           *int64
	SHA256         string
	ContentSHA256  *string
	ContentSize    *int64
	GzipTrailing   bool
	Compression    string
	Kind           string
	Format         string
	S3Bucket       *string
	S3Key          *string
	Account        *string // evidence.account_id
	OrgID          *string
	Region         *string
	Trail          *string
	Backfill       bool
	Mode           *string
	LinkTarget     *string
	MTime          *string
	RecordCount    *int64
	Error          *string
	IngestedAt     string
	Status         *string // item_status.status
	StatusKind     *string // item_status.kind
	MemberPath     *string // JSON text, as stored
	MemberIndex    *string // JSON text, as stored
	EventsFilter   *string // nil: every record indexed
	RecordsSeen    *int64
	RecordsIndexed *int64
}

// EachEvidenceRecord calls fn for every evidence item, ordered by path,
// member, sha256 and member_index.
func (c *Case) EachEvidenceRecord(ctx context.Context, fn func(EvidenceRecord) error) error {
	hasStatus, err := c.tableExists(ctx, "item_status")
	if err != nil {
		return err
	}
	status := "NULL, NULL"
	if hasStatus {
		status = fmt.Sprintf(firstStatus, "status") + ", " + fmt.Sprintf(firstStatus, "kind")
	}
	rows, err := c.query(ctx, `SELECT e.id, e.source, e.path, e.member, e.size, e.sha256, e.content_sha256,
		e.content_size, e.gzip_trailing, e.compression, e.kind, e.format, e.s3_bucket, e.s3_key, e.account_id, e.org_id,
		e.region, e.trail, e.backfill, e.mode, e.link_target, e.mtime, e.record_count, e.error, e.ingested_at, `+status+`,
		e.member_path, e.member_index, e.events_filter, e.records_seen, e.records_indexed
		FROM evidence e ORDER BY e.path, e.member, e.sha256, e.member_index`)
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EvidenceRecord
		var trailing, backfill int64
		if err := rows.Scan(&e.ID, &e.Source, &e.Path, &e.Member, &e.Size, &e.SHA256, &e.ContentSHA256, &e.ContentSize,
			&trailing, &e.Compression, &e.Kind, &e.Format, &e.S3Bucket, &e.S3Key, &e.Account, &e.OrgID, &e.Region,
			&e.Trail, &backfill, &e.Mode, &e.LinkTarget, &e.MTime, &e.RecordCount, &e.Error, &e.IngestedAt, &e.Status,
			&e.StatusKind, &e.MemberPath, &e.MemberIndex, &e.EventsFilter, &e.RecordsSeen, &e.RecordsIndexed); err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		e.GzipTrailing, e.Backfill = trailing != 0, backfill != 0
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	return nil
}

// EvidenceEvents is an evidence item's identity and its CloudTrail events
// as the case holds them.
type EvidenceEvents struct {
	Source, Path, Member, SHA256 string
	MemberIndex                  *string // JSON text; nil for rows from before the case kept it
	EventCount                   int64   // 0 when it has none
	EventsSHA256                 string  // "" when it has none
}

// EachEvidenceEvents calls fn for every evidence item, ordered by path,
// member and sha256.
func (c *Case) EachEvidenceEvents(ctx context.Context, fn func(EvidenceEvents) error) error {
	rows, err := c.query(ctx, `SELECT source, path, member, sha256, member_index, coalesce(event_count, 0), coalesce(events_sha256, '')
		FROM evidence ORDER BY path, member, sha256`)
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EvidenceEvents
		if err := rows.Scan(&e.Source, &e.Path, &e.Member, &e.SHA256, &e.MemberIndex, &e.EventCount, &e.EventsSHA256); err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	return nil
}

// StatusCounts counts item_status rows by kind and status.
func (c *Case) StatusCounts(ctx context.Context) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	if ok, err := c.tableExists(ctx, "item_status"); err != nil || !ok {
		return out, err
	}
	rows, err := c.query(ctx, "SELECT kind, status, count(*) FROM item_status GROUP BY kind, status ORDER BY kind, status")
	if err != nil {
		return nil, fmt.Errorf("count item statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, s string
		var n int64
		if err := rows.Scan(&k, &s, &n); err != nil {
			return nil, fmt.Errorf("count item statuses: %w", err)
		}
		if out[k] == nil {
			out[k] = map[string]int64{}
		}
		out[k][s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count item statuses: %w", err)
	}
	return out, nil
}

// FirstOfStatus names, for each kind and status but valid, the first item
// that has it (by row order): its S3 location (s3://bucket/key, or the key
// alone when the bucket is not known), or its local path when it has no
// key.
func (c *Case) FirstOfStatus(ctx context.Context) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	if ok, err := c.tableExists(ctx, "item_status"); err != nil || !ok {
		return out, err
	}
	// SQLite's bare columns beside min(): the values of the row with the
	// lowest id of each group.
	rows, err := c.query(ctx, `SELECT s.kind, s.status, coalesce(s.s3_bucket, ''), coalesce(s.s3_key, ''),
			coalesce(e.path, ''), coalesce(e.member, ''), min(s.id)
		FROM item_status s LEFT JOIN evidence e ON e.id = s.evidence_id
		WHERE s.status <> 'valid' GROUP BY s.kind, s.status`)
	if err != nil {
		return nil, fmt.Errorf("first item of each status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, st, bucket, key, path, member string
		var id int64
		if err := rows.Scan(&k, &st, &bucket, &key, &path, &member, &id); err != nil {
			return nil, fmt.Errorf("first item of each status: %w", err)
		}
		where := key
		switch {
		case key != "" && bucket != "":
			where = "s3://" + bucket + "/" + key
		case key == "" && member != "":
			where = path + "!/" + member
		case key == "":
			where = path
		}
		if out[k] == nil {
			out[k] = map[string]string{}
		}
		out[k][st] = where
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("first item of each status: %w", err)
	}
	return out, nil
}

// StatusRecord is one item_status row, with the path, member and SHA-256
// of its evidence item (nil when it is not in the evidence). Detail and
// Checks are the JSON text stored.
type StatusRecord struct {
	Kind           string
	S3Bucket       *string
	S3Key          *string
	EvidenceID     *int64
	Status         string
	Detail         *string
	Account        *string
	Region         *string
	Trail          *string
	Checks         *string
	EvidencePath   *string
	EvidenceMember *string
	EvidenceSHA256 *string
}

// EachStatusRecord calls fn for every item_status row whose status is not
// valid, of the given kind ("" for every kind), ordered by kind, bucket,
// key, status, evidence path and member.
func (c *Case) EachStatusRecord(ctx context.Context, kind string, fn func(StatusRecord) error) error {
	if ok, err := c.tableExists(ctx, "item_status"); err != nil || !ok {
		return err
	}
	rows, err := c.query(ctx, `SELECT s.kind, s.s3_bucket, s.s3_key, s.evidence_id, s.status, s.detail, s.account, s.region,
		s.trail, s.checks, e.path, e.member, e.sha256
		FROM item_status s LEFT JOIN evidence e ON e.id = s.evidence_id
		WHERE s.status != 'valid' AND (? = '' OR s.kind = ?)
		ORDER BY s.kind, coalesce(s.s3_bucket, ''), coalesce(s.s3_key, ''), s.status, coalesce(e.path, ''), coalesce(e.member, ''), s.id`,
		kind, kind)
	if err != nil {
		return fmt.Errorf("read item statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s StatusRecord
		if err := rows.Scan(&s.Kind, &s.S3Bucket, &s.S3Key, &s.EvidenceID, &s.Status, &s.Detail, &s.Account, &s.Region,
			&s.Trail, &s.Checks, &s.EvidencePath, &s.EvidenceMember, &s.EvidenceSHA256); err != nil {
			return fmt.Errorf("read item statuses: %w", err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read item statuses: %w", err)
	}
	return nil
}

// FindingRecord is one row of findings. Detail is the JSON text stored.
type FindingRecord struct {
	Type      string
	Summary   string
	Detail    *string
	Severity  string
	Chain     *string
	StartTime *string
	EndTime   *string
}

// FindingRecords returns every finding of the given types (none: every
// type), in the order verify recorded them.
func (c *Case) FindingRecords(ctx context.Context, types ...string) ([]FindingRecord, error) {
	if ok, err := c.tableExists(ctx, "findings"); err != nil || !ok {
		return nil, err
	}
	q := "SELECT type, summary, detail, severity, chain, start_time, end_time FROM findings"
	var args []any
	if len(types) > 0 {
		q += " WHERE type IN (?" + strings.Repeat(", ?", len(types)-1) + ")"
		for _, t := range types {
			args = append(args, t)
		}
	}
	rows, err := c.query(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	var out []FindingRecord
	for rows.Next() {
		var f FindingRecord
		if err := rows.Scan(&f.Type, &f.Summary, &f.Detail, &f.Severity, &f.Chain, &f.StartTime, &f.EndTime); err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// FindingTypeCounts counts findings by type (it reads only columns every
// schema version has).
func (c *Case) FindingTypeCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	if ok, err := c.tableExists(ctx, "findings"); err != nil || !ok {
		return out, err
	}
	rows, err := c.query(ctx, "SELECT type, count(*) FROM findings GROUP BY type")
	if err != nil {
		return nil, fmt.Errorf("count findings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("count findings: %w", err)
		}
		out[t] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count findings: %w", err)
	}
	return out, nil
}

// TrustAnchorFile is one row of trust_anchor_files: a file of public keys
// the last verification trusted.
type TrustAnchorFile struct {
	Path   string
	SHA256 string
	Size   int64
	Keys   int64
}

// TrustAnchorKey is one row of trust_anchors with its file's path and
// SHA-256; NULL text columns read as "", a NULL bits as 0.
type TrustAnchorKey struct {
	File              string
	FileSHA256        string
	Fingerprint       string
	ListedFingerprint string
	DER               []byte
	Encoding          string
	Bits              int64
	ValidityStart     string
	ValidityEnd       string
	Region            string
}

// TrustAnchors returns the trust-anchor files of the last verification,
// ordered by path and sha256, and their keys, ordered by fingerprint, file
// path and validity start.
func (c *Case) TrustAnchors(ctx context.Context) ([]TrustAnchorFile, []TrustAnchorKey, error) {
	if ok, err := c.tableExists(ctx, "trust_anchors"); err != nil || !ok {
		return nil, nil, err
	}
	rows, err := c.query(ctx, `SELECT path, sha256, size, keys FROM trust_anchor_files ORDER BY path, sha256`)
	if err != nil {
		return nil, nil, fmt.Errorf("read trust anchor files: %w", err)
	}
	var files []TrustAnchorFile
	for rows.Next() {
		var f TrustAnchorFile
		if err := rows.Scan(&f.Path, &f.SHA256, &f.Size, &f.Keys); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read trust anchor files: %w", err)
		}
		files = append(files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read trust anchor files: %w", err)
	}
	rows, err = c.query(ctx, `SELECT f.path, f.sha256, k.fingerprint, coalesce(k.listed_fingerprint, ''), k.der,
		k.encoding, coalesce(k.bits, 0), coalesce(k.validity_start, ''), coalesce(k.validity_end, ''), coalesce(k.region, '')
		FROM trust_anchors k JOIN trust_anchor_files f ON f.id = k.file_id
		ORDER BY k.fingerprint, f.path, coalesce(k.validity_start, '')`)
	if err != nil {
		return nil, nil, fmt.Errorf("read trust anchors: %w", err)
	}
	defer rows.Close()
	var keys []TrustAnchorKey
	for rows.Next() {
		var k TrustAnchorKey
		if err := rows.Scan(&k.File, &k.FileSHA256, &k.Fingerprint, &k.ListedFingerprint, &k.DER, &k.Encoding, &k.Bits,
			&k.ValidityStart, &k.ValidityEnd, &k.Region); err != nil {
			return nil, nil, fmt.Errorf("read trust anchors: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read trust anchors: %w", err)
	}
	return files, keys, nil
}

// DigestSignatures are the signatures the case holds for digests: the
// "signature" user metadata of saved object metadata (by the evidence id
// of the metadata), and the previousDigestSignature of each digest's
// successors (by the predecessor's "bucket/key").
type DigestSignatures struct {
	Metadata  map[int64]string
	Successor map[string][]string
}

// DigestSignatures reads every signature the case holds for digests.
func (c *Case) DigestSignatures(ctx context.Context) (*DigestSignatures, error) {
	ds := &DigestSignatures{Metadata: map[int64]string{}, Successor: map[string][]string{}}
	rows, err := c.query(ctx, `SELECT evidence_id, user_metadata FROM s3_object_meta WHERE user_metadata IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	for rows.Next() {
		var id int64
		var meta string
		if err := rows.Scan(&id, &meta); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read object metadata: %w", err)
		}
		var m struct {
			Signature *string `json:"signature"`
		}
		if json.Unmarshal([]byte(meta), &m) == nil && m.Signature != nil {
			ds.Metadata[id] = *m.Signature
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	rows, err = c.query(ctx, `SELECT coalesce(previous_digest_s3_bucket, ''), previous_digest_s3_object, previous_digest_signature
		FROM ct_digests WHERE previous_digest_s3_object IS NOT NULL AND previous_digest_signature IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read digest links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, k, s string
		if err := rows.Scan(&b, &k, &s); err != nil {
			return nil, fmt.Errorf("read digest links: %w", err)
		}
		ds.Successor[b+"/"+k] = append(ds.Successor[b+"/"+k], s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read digest links: %w", err)
	}
	return ds, nil
}

// DigestStatusRecord is a digest's status with what re-checks its
// signature: the digest's evidence and the fields of its string to sign.
type DigestStatusRecord struct {
	EvidenceID int64
	Status     string
	Detail     string // JSON text; "" when NULL
	Path       string
	Member     string
	Digest     Digest // DigestEndTime, DigestS3Bucket, DigestS3Object, DigestPublicKeyFingerprint, PreviousDigestSignature and Raw
}

// EachDigestStatus calls fn for the status of every digest in the
// evidence, ordered by its bucket, key, path and member.
func (c *Case) EachDigestStatus(ctx context.Context, fn func(DigestStatusRecord) error) error {
	if ok, err := c.tableExists(ctx, "item_status"); err != nil || !ok {
		return err
	}
	rows, err := c.query(ctx, `SELECT s.evidence_id, s.status, coalesce(s.detail, ''), e.path, e.member,
		coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_bucket, ''), coalesce(d.digest_s3_object, ''),
		coalesce(d.digest_public_key_fingerprint, ''), d.previous_digest_signature, d.raw
		FROM item_status s JOIN ct_digests d ON d.evidence_id = s.evidence_id JOIN evidence e ON e.id = s.evidence_id
		WHERE s.kind = 'digest'
		ORDER BY d.digest_s3_bucket, d.digest_s3_object, e.path, e.member`)
	if err != nil {
		return fmt.Errorf("read verified digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r DigestStatusRecord
		d := &r.Digest
		if err := rows.Scan(&r.EvidenceID, &r.Status, &r.Detail, &r.Path, &r.Member, &d.DigestEndTime, &d.DigestS3Bucket,
			&d.DigestS3Object, &d.DigestPublicKeyFingerprint, &d.PreviousDigestSignature, &d.Raw); err != nil {
			return fmt.Errorf("read verified digests: %w", err)
		}
		d.EvidenceID = r.EvidenceID
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read verified digests: %w", err)
	}
	return nil
}

// DigestSpan is what the coverage chart needs of one digest: its status
// key, status and detail (JSON text, "" when none), its times and key as
// the digest gives them, and its evidence's account, region and trail
// ("" where unknown).
type DigestSpan struct {
	Key, Status, Detail        string
	StartTime, EndTime, Object string
	Account, Region, Trail     string
}

// EachDigestSpan calls fn for every digest status (verified), in the order
// verify recorded them; or, for a case not verified, for every digest in
// the evidence, ordered by path and member, with status "not_verified".
func (c *Case) EachDigestSpan(ctx context.Context, verified bool, fn func(DigestSpan) error) error {
	q := `SELECT coalesce(s.s3_key, ''), s.status, coalesce(s.detail, ''), coalesce(d.digest_start_time, ''),
		coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_object, ''), coalesce(e.account_id, ''),
		coalesce(e.region, ''), coalesce(e.trail, '')
		FROM item_status s LEFT JOIN ct_digests d ON d.evidence_id = s.evidence_id LEFT JOIN evidence e ON e.id = s.evidence_id
		WHERE s.kind = 'digest' ORDER BY s.id`
	if !verified {
		q = `SELECT coalesce(d.digest_s3_object, e.s3_key, ''), 'not_verified', '', coalesce(d.digest_start_time, ''),
			coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_object, ''), coalesce(e.account_id, ''),
			coalesce(e.region, ''), coalesce(e.trail, '')
			FROM ct_digests d JOIN evidence e ON e.id = d.evidence_id ORDER BY e.path, e.member`
	}
	rows, err := c.query(ctx, q)
	if err != nil {
		return fmt.Errorf("read digest coverage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s DigestSpan
		if err := rows.Scan(&s.Key, &s.Status, &s.Detail, &s.StartTime, &s.EndTime, &s.Object, &s.Account, &s.Region, &s.Trail); err != nil {
			return fmt.Errorf("read digest coverage: %w", err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read digest coverage: %w", err)
	}
	return nil
}

// EventSpan is the CloudTrail events of one account and region: how many
// and the span of their times.
type EventSpan struct {
	Account, Region string // "" where the records name none
	Events          int64
	First, Last     string
}

// EventSpans lists the events per account (recipient, else caller) and
// region, in that order.
func (c *Case) EventSpans(ctx context.Context) ([]EventSpan, error) {
	rows, err := c.query(ctx, `SELECT coalesce(recipient_account_id, account_id, ''), coalesce(aws_region, ''), count(*),
		coalesce(min(event_time), ''), coalesce(max(event_time), '') FROM ct_events GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []EventSpan
	for rows.Next() {
		var s EventSpan
		if err := rows.Scan(&s.Account, &s.Region, &s.Events, &s.First, &s.Last); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ProvenSpan is the CloudTrail events of one account and region and how
// many of them are proven authentic (their log file's status is valid),
// with the span of the proven ones' times.
type ProvenSpan struct {
	Account, Region         string
	Events, Verified        int64
	FirstProven, LastProven string // "" when none is proven
}

// ProvenSpans lists, per account (recipient, else caller) and region, the
// events and the proven ones (ct_events_status.verified).
func (c *Case) ProvenSpans(ctx context.Context) ([]ProvenSpan, error) {
	rows, err := c.query(ctx, `SELECT coalesce(recipient_account_id, account_id, ''), coalesce(aws_region, ''), count(*), sum(verified),
		coalesce(min(CASE WHEN verified = 1 THEN event_time END), ''), coalesce(max(CASE WHEN verified = 1 THEN event_time END), '')
		FROM ct_events_status GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []ProvenSpan
	for rows.Next() {
		var s ProvenSpan
		if err := rows.Scan(&s.Account, &s.Region, &s.Events, &s.Verified, &s.FirstProven, &s.LastProven); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
