package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Reads for object verification and access-log correlation (package
// verify): local object copies, their exported metadata, and S3 server
// access-log requests.

// MetaRow is one s3_object_meta row with its parts and the metadata file
// it came from.
type MetaRow struct {
	ObjectMeta
	MetaID int64
	Path   string // evidence path of the metadata file (the archive for members)
	Member string // member name of the metadata file inside its archive, "" on disk
	// Names and Index are the metadata file's member name chain
	// (Evidence.Names) and positions (nil for rows from before they were
	// kept).
	Names []string
	Index []int
}

// AccessRequest is one parsed access-log line with the file it came from.
type AccessRequest struct {
	AccessRecord
	Path   string // evidence path of the access-log file (the archive for members)
	Member string
}

// AccessBucket summarises the access-log lines the case holds for one
// bucket.
type AccessBucket struct {
	Bucket      string
	Lines       int
	First, Last string // RFC 3339 UTC, "" when no line had a time
}

// EvidenceOfKinds returns every evidence row of the given kinds, in id
// order.
func (c *Case) EvidenceOfKinds(ctx context.Context, kinds ...string) ([]Evidence, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	rows, err := c.query(ctx, `SELECT `+evidenceColumns("e")+`
		FROM evidence e WHERE e.kind IN (?`+repeat(",?", len(kinds)-1)+`) ORDER BY e.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read evidence of kinds %s: %w", strings.Join(kinds, ", "), err)
	}
	return collectEvidence(rows)
}

// evidenceColumns are the evidence columns verify reads, of table alias a;
// evidenceDest scans them into e and evidenceDecode finishes e.
func evidenceColumns(a string) string {
	return strings.NewReplacer("e.", a+".").Replace(`e.id, e.source, e.path, e.member, coalesce(e.size, 0), e.sha256,
		coalesce(e.content_sha256, ''), coalesce(e.content_size, 0), e.gzip_trailing, e.compression, e.kind, e.format,
		coalesce(e.s3_bucket, ''), coalesce(e.s3_key, ''), coalesce(e.account_id, ''), coalesce(e.org_id, ''),
		coalesce(e.region, ''), coalesce(e.trail, ''), e.backfill, coalesce(e.error, ''),
		coalesce(e.member_path, ''), coalesce(e.member_index, '')`)
}

// evidenceRow scans one row of evidenceColumns: Scan into dest(), then
// decode() finishes the Evidence.
type evidenceRow struct {
	e                       Evidence
	trailing, backfill      int
	memberPath, memberIndex string
}

func (r *evidenceRow) dest() []any {
	e := &r.e
	return []any{&e.ID, &e.Source, &e.Path, &e.Member, &e.Size, &e.SHA256, &e.ContentSHA256,
		&e.ContentSize, &r.trailing, &e.Compression, &e.Kind, &e.Format, &e.S3Bucket, &e.S3Key, &e.Account,
		&e.OrgID, &e.Region, &e.Trail, &r.backfill, &e.Error, &r.memberPath, &r.memberIndex}
}

func (r *evidenceRow) decode() (Evidence, error) {
	e := r.e
	e.GzipTrailing, e.Backfill = r.trailing != 0, r.backfill != 0
	var err error
	if e.MemberPath, err = DecodeMemberPath(r.memberPath); err != nil {
		return e, fmt.Errorf("evidence %d: %w", e.ID, err)
	}
	if e.MemberIndex, err = DecodeMemberIndex(r.memberIndex); err != nil {
		return e, fmt.Errorf("evidence %d: %w", e.ID, err)
	}
	return e, nil
}

const metaColumns = `m.id, m.evidence_id, e.path, e.member, m.source, coalesce(m.bucket, ''), coalesce(m.key, ''),
	coalesce(m.version_id, ''), m.is_latest, m.delete_marker, m.size, coalesce(m.etag, ''), m.last_modified,
	m.checksum_crc32, m.checksum_crc32c, m.checksum_crc64nvme, m.checksum_sha1, m.checksum_sha256,
	m.checksum_sha512, m.checksum_md5, m.checksum_xxhash64, m.checksum_xxhash3, m.checksum_xxhash128,
	coalesce(m.checksum_type, ''), coalesce(m.algorithms, ''), coalesce(m.storage_class, ''), coalesce(m.sse, ''),
	coalesce(m.sse_customer, ''), coalesce(m.kms_key_id, ''), m.parts_count, m.multipart, m.user_metadata,
	coalesce(m.object_path, ''), coalesce(e.member_path, ''), coalesce(e.member_index, '')`

// checksumNames are the algorithms of the checksum_* columns, in column
// order.
var checksumNames = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"}

// besideObjects selects the metadata rows exported beside a local copy
// (object_path set: K.metadata.json, K.attributes.json) that are not
// beside a CloudTrail digest or log file of the case (at the object path
// they name, in the same archive), which belong to digest verification
// (of s3_object_meta m joined with its evidence e).
const besideObjects = `m.object_path IS NOT NULL AND m.object_path <> '' AND NOT EXISTS (SELECT 1 FROM evidence t
		WHERE t.path = CASE WHEN e.member = '' THEN m.object_path ELSE e.path END
		AND t.member = CASE WHEN e.member = '' THEN '' ELSE m.object_path END
		AND t.kind IN ('cloudtrail_digest', 'cloudtrail_log'))`

// MetaRowsByID returns the metadata rows with the given ids, with parts,
// in row order.
func (c *Case) MetaRowsByID(ctx context.Context, ids []int64) ([]MetaRow, error) {
	var out []MetaRow
	err := inBatches(ids, func(in string, args []any) error {
		rows, err := c.metaRows(ctx, "m.id "+in, args...)
		out = append(out, rows...)
		return err
	})
	return out, err
}

// ObjectMetaByKey returns the rows that describe bucket/key and are not
// exported beside a copy (listings, inventory, exports saved elsewhere),
// with parts, in row order.
func (c *Case) ObjectMetaByKey(ctx context.Context, bucket, key string) ([]MetaRow, error) {
	return c.metaRows(ctx, "m.bucket = ? AND m.key = ? AND (m.object_path IS NULL OR m.object_path = '')", bucket, key)
}

// HasMetaByKey reports whether the case holds any metadata row that is
// not exported beside a copy (what ObjectMetaByKey returns).
func (c *Case) HasMetaByKey(ctx context.Context) (bool, error) {
	var ok bool
	err := c.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM s3_object_meta WHERE object_path IS NULL OR object_path = '')").Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("read object metadata: %w", err)
	}
	return ok, nil
}

func (c *Case) metaRows(ctx context.Context, where string, args ...any) ([]MetaRow, error) {
	rows, err := c.query(ctx, `SELECT `+metaColumns+` FROM s3_object_meta m
		JOIN evidence e ON e.id = m.evidence_id WHERE `+where+` ORDER BY m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	var out []MetaRow
	byID := map[int64]int{}
	for rows.Next() {
		var m MetaRow
		var isLatest, size, partsCount, multipart sql.NullInt64
		var deleteMarker int
		var lastMod, userMeta sql.NullString
		var sums [10]sql.NullString
		var algs string
		dst := []any{&m.MetaID, &m.EvidenceID, &m.Path, &m.Member, &m.Source, &m.Bucket, &m.Key, &m.VersionID,
			&isLatest, &deleteMarker, &size, &m.ETag, &lastMod}
		for i := range sums {
			dst = append(dst, &sums[i])
		}
		var memberPath, memberIndex string
		dst = append(dst, &m.ChecksumType, &algs, &m.StorageClass, &m.SSE, &m.SSECustomer, &m.KMSKeyID,
			&partsCount, &multipart, &userMeta, &m.ObjectPath, &memberPath, &memberIndex)
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read object metadata: %w", err)
		}
		if m.Names, err = names(memberPath, m.Member); err != nil {
			rows.Close()
			return nil, fmt.Errorf("object metadata %d: %w", m.MetaID, err)
		}
		if m.Index, err = DecodeMemberIndex(memberIndex); err != nil {
			rows.Close()
			return nil, fmt.Errorf("object metadata %d: %w", m.MetaID, err)
		}
		m.DeleteMarker = deleteMarker != 0
		if isLatest.Valid {
			b := isLatest.Int64 != 0
			m.IsLatest = &b
		}
		if size.Valid {
			s := size.Int64
			m.Size = &s
		}
		if partsCount.Valid {
			n := int(partsCount.Int64)
			m.PartsCount = &n
		}
		if multipart.Valid {
			b := multipart.Int64 != 0
			m.Multipart = &b
		}
		if lastMod.Valid {
			if t, err := time.Parse(time.RFC3339, lastMod.String); err == nil {
				m.LastModified = &t
			}
		}
		for i, s := range sums {
			if s.Valid && s.String != "" {
				if m.Checksums == nil {
					m.Checksums = map[string]string{}
				}
				m.Checksums[checksumNames[i]] = s.String
			}
		}
		if algs != "" {
			m.Algorithms = strings.Split(algs, ",")
		}
		if userMeta.Valid && userMeta.String != "" {
			if err := json.Unmarshal([]byte(userMeta.String), &m.UserMetadata); err != nil {
				rows.Close()
				return nil, fmt.Errorf("object metadata %d of evidence %d: user_metadata: %w", m.MetaID, m.EvidenceID, err)
			}
		}
		byID[m.MetaID] = len(out)
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	prows, err := c.query(ctx, `SELECT p.meta_id, p.part_number, p.size, coalesce(p.checksums, '')
		FROM s3_object_parts p JOIN s3_object_meta m ON m.id = p.meta_id JOIN evidence e ON e.id = m.evidence_id
		WHERE `+where+` ORDER BY p.meta_id, p.part_number`, args...)
	if err != nil {
		return nil, fmt.Errorf("read object parts: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var id int64
		var p ObjectPart
		var size sql.NullInt64
		var sums string
		if err := prows.Scan(&id, &p.PartNumber, &size, &sums); err != nil {
			return nil, fmt.Errorf("read object parts: %w", err)
		}
		if size.Valid {
			s := size.Int64
			p.Size = &s
		}
		if sums != "" && sums != "null" {
			if err := json.Unmarshal([]byte(sums), &p.Checksums); err != nil {
				return nil, fmt.Errorf("object metadata %d part %d: checksums: %w", id, p.PartNumber, err)
			}
		}
		if i, ok := byID[id]; ok {
			out[i].Parts = append(out[i].Parts, p)
		}
	}
	return out, prows.Err()
}

// EachAccessRequestOnKeys calls fn with each access-log line whose Key field
// contains sub (ASCII case-insensitively, as SQL LIKE compares; callers
// filter exactly), in time order then file and line order. Lines that
// could not be split into fields are left out.
func (c *Case) EachAccessRequestOnKeys(ctx context.Context, sub string, fn func(*AccessRequest) error) error {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(sub)
	rows, err := c.query(ctx, `SELECT a.evidence_id, a.line_no, coalesce(a.time, ''),
		coalesce(a.bucket_owner, ''), coalesce(a.bucket, ''), coalesce(a.remote_ip, ''), coalesce(a.requester, ''),
		coalesce(a.request_id, ''), coalesce(a.operation, ''), coalesce(a.key, ''), coalesce(a.request_uri, ''),
		coalesce(a.http_status, ''), coalesce(a.error_code, ''), coalesce(a.object_size, ''),
		coalesce(a.user_agent, ''), coalesce(a.version_id, ''), coalesce(a.host_id, ''), coalesce(a.source_region, ''),
		coalesce(a.field_count, 0), a.ambiguous, coalesce(a.parse_error, ''), a.raw, e.path, e.member
		FROM s3_access a JOIN evidence e ON e.id = a.evidence_id
		WHERE a.key LIKE ? ESCAPE '\' ORDER BY a.time, a.evidence_id, a.line_no`, "%"+esc+"%")
	if err != nil {
		return fmt.Errorf("read access-log lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AccessRequest
		var amb int
		if err := rows.Scan(&a.EvidenceID, &a.LineNo, &a.Time, &a.BucketOwner, &a.Bucket, &a.RemoteIP, &a.Requester,
			&a.RequestID, &a.Operation, &a.Key, &a.RequestURI, &a.HTTPStatus, &a.ErrorCode, &a.ObjectSize,
			&a.UserAgent, &a.VersionID, &a.HostID, &a.SourceRegion, &a.FieldCount, &amb, &a.ParseError, &a.Raw,
			&a.Path, &a.Member); err != nil {
			return fmt.Errorf("read access-log lines: %w", err)
		}
		a.Ambiguous = amb != 0
		if err := fn(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AccessBuckets returns, per bucket named in the access-log lines of the
// case, how many lines there are and the time they span.
func (c *Case) AccessBuckets(ctx context.Context) ([]AccessBucket, error) {
	rows, err := c.query(ctx, `SELECT coalesce(bucket, ''), count(*), coalesce(min(time), ''),
		coalesce(max(time), '') FROM s3_access GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("read access-log buckets: %w", err)
	}
	defer rows.Close()
	var out []AccessBucket
	for rows.Next() {
		var b AccessBucket
		if err := rows.Scan(&b.Bucket, &b.Lines, &b.First, &b.Last); err != nil {
			return nil, fmt.Errorf("read access-log buckets: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
