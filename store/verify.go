package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/verdict"
)

// Reads and writes for `forensic verify` (package verify): the CloudTrail
// evidence it checks, and its results, which replace the previous run's.

// ItemStatus is one row of item_status: the verification status of one
// digest, log file or object (present, or expected and missing).
type ItemStatus struct {
	Kind       string // "digest", "log" or "object"
	S3Bucket   string
	S3Key      string
	EvidenceID int64 // 0 when the item is not in the evidence
	Status     string
	Detail     json.RawMessage // JSON object: expected and actual values
	Checks     json.RawMessage // JSON array of the checks run: {name, status, want, got, reason}
	// The chain's account, region and trail, as verify reports them ("" for
	// objects and where unknown).
	Account, Region, Trail string
	// Path is the item's local path (file, or archive!/member), read back
	// from its evidence row; "" when it is not in the evidence.
	Path string
	// MemberPath and MemberIndex are, for an archive member, its name in
	// each enclosing archive (outermost first) and its position there
	// (nil when recorded before positions were kept), read back like Path.
	MemberPath  []string
	MemberIndex []int
}

// Finding is one row of findings: what is not a per-item status (gaps,
// conflicts, coverage).
type Finding struct {
	Type                   string
	Severity               string // "error", "warning" or "info"
	Summary                string
	Chain                  string
	Account, Region, Trail string
	StartTime              string
	EndTime                string
	Detail                 json.RawMessage
}

// AnchorFile is one file of trust anchors (public keys the analyst
// supplied) and the keys it holds.
type AnchorFile struct {
	Path   string
	SHA256 string
	Size   int64
	Keys   []PublicKey
}

// Verification is what one verify run records.
type Verification struct {
	Items    []ItemStatus
	Findings []Finding
	Anchors  []AnchorFile
}

// DigestSidecar is saved head-object output holding user metadata (a
// digest's signature lives there), with where it was found.
type DigestSidecar struct {
	EvidenceID int64
	Path       string // evidence path of the sidecar (archive for members)
	Member     string
	Names      []string // the sidecar's member name chain (Evidence.Names)
	Index      []int    // and positions (nil for rows from before they were kept)
	ObjectPath string   // the object it sits beside, as ingest recorded it
	Bucket     string
	Key        string
	Metadata   map[string]string
}

// CaseEvent is a CloudTrail record as verify cites it.
type CaseEvent struct {
	EvidenceID         int64
	EventID            string
	EventTime          string
	EventSource        string
	EventName          string
	AWSRegion          string
	Principal          string
	AccountID          string
	RecipientAccountID string
	Raw                string
}

// CloudTrailEvidence returns every evidence row of kind cloudtrail_log or
// cloudtrail_digest, in id order.
func (c *Case) CloudTrailEvidence(ctx context.Context) ([]Evidence, error) {
	return c.EvidenceOfKinds(ctx, KindCloudTrailLog, KindCloudTrailDig)
}

// Digests returns every parsed digest with its log-file entries, in
// evidence order.
func (c *Case) Digests(ctx context.Context) ([]Digest, error) {
	return c.digestsWhere(ctx, "1")
}

// digestsWhere reads the digests of ct_digests matching where (columns of
// ct_digests), with their log-file entries, in evidence order.
func (c *Case) digestsWhere(ctx context.Context, where string, args ...any) ([]Digest, error) {
	rows, err := c.query(ctx, `SELECT id, evidence_id, coalesce(aws_account_id, ''),
		coalesce(digest_start_time, ''), coalesce(digest_end_time, ''), coalesce(digest_s3_bucket, ''),
		coalesce(digest_s3_object, ''), coalesce(digest_public_key_fingerprint, ''),
		coalesce(digest_signature_algorithm, ''), newest_event_time, oldest_event_time,
		previous_digest_s3_bucket, previous_digest_s3_object, previous_digest_hash_value,
		previous_digest_hash_algorithm, previous_digest_signature, raw
		FROM ct_digests WHERE `+where+` ORDER BY evidence_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read digests: %w", err)
	}
	var out []Digest
	byID := map[int64]int{}
	var ids []any
	for rows.Next() {
		var d Digest
		var id int64
		var ns [7]sql.NullString
		if err := rows.Scan(&id, &d.EvidenceID, &d.AWSAccountID, &d.DigestStartTime, &d.DigestEndTime,
			&d.DigestS3Bucket, &d.DigestS3Object, &d.DigestPublicKeyFingerprint, &d.DigestSignatureAlgorithm,
			&ns[0], &ns[1], &ns[2], &ns[3], &ns[4], &ns[5], &ns[6], &d.Raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read digests: %w", err)
		}
		ptrs := []**string{&d.NewestEventTime, &d.OldestEventTime, &d.PreviousDigestS3Bucket,
			&d.PreviousDigestS3Object, &d.PreviousDigestHashValue, &d.PreviousDigestHashAlgorithm,
			&d.PreviousDigestSignature}
		for i, p := range ptrs {
			if ns[i].Valid {
				s := ns[i].String
				*p = &s
			}
		}
		byID[id] = len(out)
		ids = append(ids, id)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read digests: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	lq := `SELECT digest_id, coalesce(s3_bucket, ''), coalesce(s3_object, ''),
		coalesce(hash_value, ''), coalesce(hash_algorithm, ''), newest_event_time, oldest_event_time
		FROM ct_digest_logs ORDER BY digest_id, idx`
	var largs []any
	if where != "1" {
		lq = `SELECT digest_id, coalesce(s3_bucket, ''), coalesce(s3_object, ''),
		coalesce(hash_value, ''), coalesce(hash_algorithm, ''), newest_event_time, oldest_event_time
		FROM ct_digest_logs WHERE digest_id IN (?` + repeat(",?", len(ids)-1) + `) ORDER BY digest_id, idx`
		largs = ids
	}
	lrows, err := c.query(ctx, lq, largs...)
	if err != nil {
		return nil, fmt.Errorf("read digest log entries: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var id int64
		var l DigestLog
		var newest, oldest sql.NullString
		if err := lrows.Scan(&id, &l.S3Bucket, &l.S3Object, &l.HashValue, &l.HashAlgorithm, &newest, &oldest); err != nil {
			return nil, fmt.Errorf("read digest log entries: %w", err)
		}
		if newest.Valid {
			l.NewestEventTime = &newest.String
		}
		if oldest.Valid {
			l.OldestEventTime = &oldest.String
		}
		if i, ok := byID[id]; ok {
			out[i].LogFiles = append(out[i].LogFiles, l)
		}
	}
	return out, lrows.Err()
}

// HeadObjectSidecars returns every saved head-object export that carries
// user metadata.
func (c *Case) HeadObjectSidecars(ctx context.Context) ([]DigestSidecar, error) {
	return c.headObjectSidecars(ctx, "1")
}

func (c *Case) headObjectSidecars(ctx context.Context, where string, args ...any) ([]DigestSidecar, error) {
	rows, err := c.query(ctx, `SELECT `+sidecarColumns+`
		FROM s3_object_meta m JOIN evidence e ON e.id = m.evidence_id
		WHERE m.source = 'head-object' AND m.user_metadata IS NOT NULL AND `+where+` ORDER BY m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	defer rows.Close()
	var out []DigestSidecar
	for rows.Next() {
		var sc sidecarScan
		if err := rows.Scan(sc.dest()...); err != nil {
			return nil, fmt.Errorf("read object metadata: %w", err)
		}
		s, err := sc.decode()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sidecarColumns are what a DigestSidecar is read from (m: its
// s3_object_meta row, e: its evidence row).
const sidecarColumns = `m.evidence_id, e.path, e.member, coalesce(m.object_path, ''),
	coalesce(m.bucket, ''), coalesce(m.key, ''), m.user_metadata, coalesce(e.member_path, ''), coalesce(e.member_index, '')`

// sidecarScan holds what Scan fills for a DigestSidecar before decode.
type sidecarScan struct {
	s                        DigestSidecar
	meta, memberPath, mIndex string
}

func (sc *sidecarScan) dest() []any {
	s := &sc.s
	return []any{&s.EvidenceID, &s.Path, &s.Member, &s.ObjectPath, &s.Bucket, &s.Key, &sc.meta, &sc.memberPath, &sc.mIndex}
}

func (sc *sidecarScan) decode() (DigestSidecar, error) {
	s := sc.s
	var err error
	if s.Names, err = names(sc.memberPath, s.Member); err != nil {
		return s, fmt.Errorf("object metadata of evidence %d: %w", s.EvidenceID, err)
	}
	if s.Index, err = DecodeMemberIndex(sc.mIndex); err != nil {
		return s, fmt.Errorf("object metadata of evidence %d: %w", s.EvidenceID, err)
	}
	if err := json.Unmarshal([]byte(sc.meta), &s.Metadata); err != nil {
		return s, fmt.Errorf("object metadata of evidence %d: user_metadata: %w", s.EvidenceID, err)
	}
	return s, nil
}

// CountEvidenceKeys returns how many public keys were ingested as evidence.
func (c *Case) CountEvidenceKeys(ctx context.Context) (int, error) {
	var n int
	err := c.queryRow(ctx, "SELECT count(*) FROM public_keys").Scan(&n)
	return n, err
}

// NewestEventAfter returns the newest event_time later than after among
// records whose recipient account (else userIdentity account) is account
// and whose awsRegion is region; "" when there is none.
func (c *Case) NewestEventAfter(ctx context.Context, account, region, after string) (string, error) {
	var t sql.NullString
	err := c.queryRow(ctx, `SELECT max(event_time) FROM ct_events WHERE event_time > ?
		AND coalesce(recipient_account_id, account_id) = ? AND aws_region = ?`, after, account, region).Scan(&t)
	return t.String, err
}

// EventsBetween returns the records named one of names with event_time in
// [from, to], in time order.
func (c *Case) EventsBetween(ctx context.Context, from, to string, names []string) ([]CaseEvent, error) {
	if len(names) == 0 {
		return nil, nil
	}
	q := `SELECT evidence_id, coalesce(event_id, ''), coalesce(event_time, ''), coalesce(event_source, ''),
		coalesce(event_name, ''), coalesce(aws_region, ''), coalesce(principal, ''), coalesce(account_id, ''),
		coalesce(recipient_account_id, ''), raw FROM ct_events WHERE event_time >= ? AND event_time <= ?
		AND event_name IN (?` + repeat(",?", len(names)-1) + `) ORDER BY event_time, event_id`
	args := []any{from, to}
	for _, n := range names {
		args = append(args, n)
	}
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []CaseEvent
	for rows.Next() {
		var e CaseEvent
		if err := rows.Scan(&e.EvidenceID, &e.EventID, &e.EventTime, &e.EventSource, &e.EventName, &e.AWSRegion,
			&e.Principal, &e.AccountID, &e.RecipientAccountID, &e.Raw); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// SaveVerification replaces the previous verification's item_status,
// findings and trust anchors with v, in one transaction, and records the
// time in case_info (last_verify).
func (c *Case) SaveVerification(ctx context.Context, v *Verification) error {
	s, err := c.BeginVerification(ctx)
	if err != nil {
		return err
	}
	defer s.Rollback()
	for _, it := range v.Items {
		if err := s.AddItem(ctx, it); err != nil {
			return err
		}
	}
	for _, f := range v.Findings {
		if err := s.AddFinding(ctx, f); err != nil {
			return err
		}
	}
	return s.Commit(ctx, v.Anchors)
}

// VerificationSession records one verification in one transaction: the
// previous run's results are gone only when the new ones are committed
// whole. Items and findings are written as they come (nothing is held).
//
// Items are inserted by a goroutine of the session's own, so that the
// inserts (a third of a log file's cost) run beside the verification
// rather than inside it; an insert error is returned by a later AddItem,
// AddFinding or Commit.
type VerificationSession struct {
	c      *Case
	tx     *sql.Tx
	item   *sql.Stmt
	queue  *sql.Stmt // into the findings queue, once QueueFinding has made it
	queued bool
	done   bool

	ctx     context.Context
	items   chan ItemStatus // to the inserting goroutine; nil once drained
	result  chan error      // its first error (or nil) when items is closed
	failed  atomic.Bool     // it has met an error: stop sending
	drained error
}

// sessionQueue is how many items may wait for the inserting goroutine.
const sessionQueue = 1024

// BeginVerification opens a session: it clears the previous results
// inside its transaction.
func (c *Case) BeginVerification(ctx context.Context) (*VerificationSession, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	s := &VerificationSession{c: c, tx: tx}
	for _, t := range []string{"item_status", "findings", "trust_anchors", "trust_anchor_files"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			s.Rollback()
			return nil, fmt.Errorf("clear %s: %w", t, err)
		}
	}
	if s.item, err = tx.PrepareContext(ctx, `INSERT INTO item_status(kind, s3_bucket, s3_key, evidence_id, status, detail,
		account, region, trail, checks) VALUES (?,?,?,?,?,?,?,?,?,?)`); err != nil {
		s.Rollback()
		return nil, err
	}
	s.ctx, s.items, s.result = ctx, make(chan ItemStatus, sessionQueue), make(chan error, 1)
	go s.insert(s.items)
	return s, nil
}

// insert writes the queued items until the queue is closed, then reports
// its first error; after an error it only drains the queue.
func (s *VerificationSession) insert(items <-chan ItemStatus) {
	var first error
	for it := range items {
		if first != nil {
			continue
		}
		if first = s.insertItem(s.ctx, it); first != nil {
			s.failed.Store(true)
		}
	}
	s.result <- first
}

// drain stops the inserting goroutine once it has written every queued
// item, and returns its error; items added afterwards are inserted
// directly.
func (s *VerificationSession) drain() error {
	if s.items != nil {
		close(s.items)
		s.items = nil
		s.drained = <-s.result
	}
	return s.drained
}

// AddVerdict records one item's status with its typed detail and checks
// (the one place they are encoded for the case). it.Detail and it.Checks
// are set from them.
func (s *VerificationSession) AddVerdict(ctx context.Context, it ItemStatus, detail verdict.Detail, checks []verdict.Check) error {
	var err error
	// goccy/go-json writes encoding/json's bytes here, faster.
	if it.Detail, err = gojson.Marshal(detail); err != nil {
		return fmt.Errorf("%s %s: detail: %w", it.Kind, it.S3Key, err)
	}
	if checks == nil {
		checks = []verdict.Check{}
	}
	if it.Checks, err = gojson.Marshal(checks); err != nil {
		return fmt.Errorf("%s %s: checks: %w", it.Kind, it.S3Key, err)
	}
	return s.AddItem(ctx, it)
}

// AddItem records one item's status (Detail and Checks already encoded;
// AddVerdict encodes typed ones).
func (s *VerificationSession) AddItem(ctx context.Context, it ItemStatus) error {
	if s.items == nil {
		if s.drained != nil {
			return s.drained
		}
		return s.insertItem(ctx, it)
	}
	if s.failed.Load() {
		return s.drain()
	}
	select {
	case s.items <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *VerificationSession) insertItem(ctx context.Context, it ItemStatus) error {
	var ev any
	if it.EvidenceID != 0 {
		ev = it.EvidenceID
	}
	if _, err := s.item.ExecContext(ctx, it.Kind, nullStr(it.S3Bucket), nullStr(it.S3Key), ev, it.Status, rawOrNull(it.Detail),
		nullStr(it.Account), nullStr(it.Region), nullStr(it.Trail), rawOrNull(it.Checks)); err != nil {
		return fmt.Errorf("record status of %s: %w", it.S3Key, err)
	}
	return nil
}

// findingQueue holds a session's findings until Commit writes them in
// report order (a TEMP table of the session's connection: on disk, not
// in memory, however many there are).
const findingQueue = `
CREATE TEMP TABLE IF NOT EXISTS v_finding_queue (
	seq        INTEGER PRIMARY KEY,
	phase      INTEGER NOT NULL,
	type       TEXT NOT NULL,
	severity   TEXT NOT NULL,
	summary    TEXT NOT NULL,
	chain      TEXT NOT NULL,
	account    TEXT NOT NULL,
	region     TEXT NOT NULL,
	trail      TEXT NOT NULL,
	start_time TEXT NOT NULL,
	end_time   TEXT NOT NULL,
	detail     BLOB
);
DELETE FROM v_finding_queue;
`

// QueueFinding records a finding; Commit writes the queued findings in
// report order: by phase (the caller's order of the kinds of finding),
// chain, start time and summary, then as queued. It may be called while
// items are being added.
func (s *VerificationSession) QueueFinding(ctx context.Context, f Finding, phase int) error {
	if !s.queued {
		if _, err := s.tx.ExecContext(ctx, findingQueue); err != nil {
			return fmt.Errorf("record finding: %w", err)
		}
		st, err := s.tx.PrepareContext(ctx, `INSERT INTO v_finding_queue(phase, type, severity, summary, chain, account,
			region, trail, start_time, end_time, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("record finding: %w", err)
		}
		s.queue, s.queued = st, true
	}
	sev := f.Severity
	if sev == "" {
		sev = "error"
	}
	if _, err := s.queue.ExecContext(ctx, phase, f.Type, sev, f.Summary, f.Chain, f.Account, f.Region, f.Trail,
		f.StartTime, f.EndTime, rawOrNull(f.Detail)); err != nil {
		return fmt.Errorf("record finding: %w", err)
	}
	return nil
}

// writeQueuedFindings moves the queued findings into the case, in report
// order.
func (s *VerificationSession) writeQueuedFindings(ctx context.Context) error {
	if !s.queued {
		return nil
	}
	s.queue.Close()
	if _, err := s.tx.ExecContext(ctx, `INSERT INTO findings(type, summary, detail, severity, chain, start_time, end_time,
		account, region, trail)
		SELECT type, summary, detail, severity, nullif(chain, ''), nullif(start_time, ''), nullif(end_time, ''),
		nullif(account, ''), nullif(region, ''), nullif(trail, '') FROM v_finding_queue
		ORDER BY phase, chain, start_time, summary, seq`); err != nil {
		return fmt.Errorf("record findings: %w", err)
	}
	_, err := s.tx.ExecContext(ctx, "DROP TABLE v_finding_queue")
	return err
}

// AddFinding records one finding now (after the queued ones).
func (s *VerificationSession) AddFinding(ctx context.Context, f Finding) error {
	if err := s.drain(); err != nil {
		return err
	}
	sev := f.Severity
	if sev == "" {
		sev = "error"
	}
	if err := s.writeQueuedFindings(ctx); err != nil {
		return err
	}
	s.queued = false
	if _, err := s.tx.ExecContext(ctx, `INSERT INTO findings(type, summary, detail, severity, chain, start_time, end_time,
		account, region, trail) VALUES (?,?,?,?,?,?,?,?,?,?)`, f.Type, f.Summary, rawOrNull(f.Detail), sev, nullStr(f.Chain),
		nullStr(f.StartTime), nullStr(f.EndTime), nullStr(f.Account), nullStr(f.Region), nullStr(f.Trail)); err != nil {
		return fmt.Errorf("record finding: %w", err)
	}
	return nil
}

// Rollback abandons the session (the previous results stay); a no-op
// after Commit.
func (s *VerificationSession) Rollback() {
	if !s.done {
		s.done = true
		s.drain()
		if s.item != nil {
			s.item.Close()
		}
		s.tx.Rollback()
	}
}

// Commit records the trust anchors, checks that every evidence row of the
// VerdictKinds got exactly one status (else nothing is recorded), notes
// the time and the evidence covered in case_info, and commits.
func (s *VerificationSession) Commit(ctx context.Context, anchors []AnchorFile) error {
	if s.done {
		return errors.New("verification session already ended")
	}
	defer s.Rollback()
	if err := s.drain(); err != nil {
		return err
	}
	if err := s.writeQueuedFindings(ctx); err != nil {
		return err
	}
	tx := s.tx
	for _, a := range anchors {
		res, err := tx.ExecContext(ctx, "INSERT INTO trust_anchor_files(path, sha256, size, keys) VALUES (?,?,?,?)",
			a.Path, a.SHA256, a.Size, len(a.Keys))
		if err != nil {
			return fmt.Errorf("record trust anchor file %s: %w", a.Path, err)
		}
		fid, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for _, k := range a.Keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO trust_anchors(file_id, fingerprint, listed_fingerprint, der,
				encoding, bits, validity_start, validity_end, region) VALUES (?,?,?,?,?,?,?,?,?)`,
				fid, k.Fingerprint, nullStr(k.ListedFingerprint), k.DER, k.Encoding, k.Bits,
				nullTime(k.ValidityStart), nullTime(k.ValidityEnd), nullStr(k.Region)); err != nil {
				return fmt.Errorf("record trust anchor %s: %w", k.Fingerprint, err)
			}
		}
	}
	if err := checkOneVerdict(ctx, tx); err != nil {
		return err
	}
	// What this verification covered: every evidence row up to this id.
	// report refuses to call a case verified that holds rows added since.
	var maxID int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM evidence").Scan(&maxID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO case_info(key, value) VALUES ('last_verify', ?), ('verified_through_evidence_id', ?)",
		s.c.Now().UTC().Format(time.RFC3339Nano), fmt.Sprint(maxID)); err != nil {
		return err
	}
	// And every widening of indexed records up to this one (the events
	// verify's gap explanations and coverage saw).
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO case_info(key, value)
		SELECT 'verified_through_widening_id', coalesce(max(id), 0) FROM ct_index_widenings`); err != nil {
		return err
	}
	s.item.Close()
	s.done = true
	return tx.Commit()
}

// EachFinding calls fn for every finding of the last verification, in
// the order recorded (report order). It streams: nothing is held.
func (c *Case) EachFinding(ctx context.Context, fn func(Finding) error) error {
	rows, err := c.query(ctx, `SELECT type, coalesce(severity, 'error'), summary, coalesce(chain, ''), coalesce(account, ''),
		coalesce(region, ''), coalesce(trail, ''), coalesce(start_time, ''), coalesce(end_time, ''), coalesce(detail, '')
		FROM findings ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Finding
		var d string
		if err := rows.Scan(&f.Type, &f.Severity, &f.Summary, &f.Chain, &f.Account, &f.Region, &f.Trail, &f.StartTime,
			&f.EndTime, &d); err != nil {
			return fmt.Errorf("read findings: %w", err)
		}
		if d != "" {
			f.Detail = json.RawMessage(d)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachItemStatus calls fn for every item_status row in report order —
// digests, log files, objects; then by S3 key and local path; then as
// recorded — with its local path; notValid keeps only the rows whose
// status is not valid. It streams: nothing is held.
func (c *Case) EachItemStatus(ctx context.Context, notValid bool, fn func(ItemStatus) error) error {
	where := ""
	if notValid {
		where = "WHERE s.status <> 'valid'"
	}
	rows, err := c.query(ctx, `SELECT s.kind, coalesce(s.s3_bucket, ''), coalesce(s.s3_key, ''),
		coalesce(s.evidence_id, 0), s.status, coalesce(s.detail, ''), coalesce(s.account, ''), coalesce(s.region, ''),
		coalesce(s.trail, ''), coalesce(s.checks, ''), CASE WHEN e.id IS NULL THEN '' WHEN e.member = '' THEN e.path ELSE e.path || '!/' || e.member END AS p,
		coalesce(e.member, ''), coalesce(e.member_path, ''), coalesce(e.member_index, '')
		FROM item_status s LEFT JOIN evidence e ON e.id = s.evidence_id `+where+`
		ORDER BY CASE s.kind WHEN 'digest' THEN 0 WHEN 'log' THEN 1 ELSE 2 END, coalesce(s.s3_key, ''), p, s.id`)
	if err != nil {
		return fmt.Errorf("read item statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it ItemStatus
		var d, checks, member, mp, mi string
		if err := rows.Scan(&it.Kind, &it.S3Bucket, &it.S3Key, &it.EvidenceID, &it.Status, &d, &it.Account, &it.Region,
			&it.Trail, &checks, &it.Path, &member, &mp, &mi); err != nil {
			return fmt.Errorf("read item statuses: %w", err)
		}
		var err error
		if it.MemberPath, err = names(mp, member); err != nil {
			return fmt.Errorf("read item statuses: evidence %d: %w", it.EvidenceID, err)
		}
		if it.MemberIndex, err = DecodeMemberIndex(mi); err != nil {
			return fmt.Errorf("read item statuses: evidence %d: %w", it.EvidenceID, err)
		}
		if d != "" {
			it.Detail = json.RawMessage(d)
		}
		if checks != "" {
			it.Checks = json.RawMessage(checks)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return rows.Err()
}

// VerdictKinds are the evidence kinds that each get exactly one
// verification status of their own.
var VerdictKinds = []string{KindCloudTrailDig, KindCloudTrailLog, KindObject}

// checkOneVerdict enforces, before a verification is committed, that
// every evidence row of the VerdictKinds has exactly one item_status row
// and that no row has two: a verification that cannot keep this is not
// recorded at all.
func checkOneVerdict(ctx context.Context, tx *sql.Tx) error {
	var id int64
	var n int
	var kind, p, member string
	err := tx.QueryRowContext(ctx, `SELECT e.id, e.kind, e.path, e.member, (SELECT count(*) FROM item_status s WHERE s.evidence_id = e.id) AS n
		FROM evidence e WHERE e.kind IN (?, ?, ?) AND n <> 1 LIMIT 1`, KindCloudTrailDig, KindCloudTrailLog, KindObject).Scan(&id, &kind, &p, &member, &n)
	if err == nil {
		return fmt.Errorf("verification gives evidence %d (%s %s %s) %d statuses, not exactly one: not recorded (a bug; please report it)", id, kind, p, member, n)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err = tx.QueryRowContext(ctx, `SELECT evidence_id, count(*) FROM item_status WHERE evidence_id IS NOT NULL
		GROUP BY evidence_id HAVING count(*) > 1 LIMIT 1`).Scan(&id, &n)
	if err == nil {
		return fmt.Errorf("verification gives evidence %d %d statuses, not one: not recorded (a bug; please report it)", id, n)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// Unverified says what of the case the last verification did not cover:
// how many evidence rows were added after it, and how many rows of the
// VerdictKinds have no status; with up to limit examples of each (paths).
type Unverified struct {
	Verified     bool // a verification was recorded at all
	VerifiedAt   string
	AddedAfter   int
	AddedSamples []string
	NoStatus     int
	NoStatusOf   []string
	// WidenedAfter: log files whose indexed records a later ingest
	// widened after the last verification (whose gap explanations and
	// coverage from events did not see those records).
	WidenedAfter int
}

// Reason says in words what is not covered, naming examples.
func (u *Unverified) Reason() string {
	if !u.Verified {
		return "it has never been verified (run forensic verify with --public-keys)"
	}
	var parts []string
	if u.AddedAfter > 0 {
		parts = append(parts, fmt.Sprintf("%s ingested after the last verification (%s), e.g. %s", plural(u.AddedAfter, "evidence item was", "evidence items were"),
			u.VerifiedAt, strings.Join(u.AddedSamples, ", ")))
	}
	if u.NoStatus > 0 {
		parts = append(parts, fmt.Sprintf("%s no verification status, e.g. %s", plural(u.NoStatus, "digest, log file or object has", "digests, log files or objects have"),
			strings.Join(u.NoStatusOf, ", ")))
	}
	if u.WidenedAfter > 0 {
		parts = append(parts, fmt.Sprintf("%s more of their records indexed by an ingest after the last verification (%s), "+
			"which its gap explanations and coverage from events did not see", plural(u.WidenedAfter, "log file had", "log files had"), u.VerifiedAt))
	}
	return strings.Join(parts, "; ")
}

func plural(n int, one, many string) string { return display.Plural(n, one, many) }

// Any reports whether anything is not covered.
func (u *Unverified) Any() bool {
	return !u.Verified || u.AddedAfter > 0 || u.NoStatus > 0 || u.WidenedAfter > 0
}

// CheckVerified returns what the last verification did not cover.
func (c *Case) CheckVerified(ctx context.Context, limit int) (*Unverified, error) {
	u := &Unverified{}
	var last, through sql.NullString
	if err := c.queryRow(ctx, `SELECT (SELECT value FROM case_info WHERE key = 'last_verify'),
		(SELECT value FROM case_info WHERE key = 'verified_through_evidence_id')`).Scan(&last, &through); err != nil {
		return nil, err
	}
	u.Verified, u.VerifiedAt = last.Valid, last.String
	sample := func(q string, args ...any) (int, []string, error) {
		var n int
		if err := c.queryRow(ctx, "SELECT count(*) FROM ("+q+")", args...).Scan(&n); err != nil {
			return 0, nil, err
		}
		rows, err := c.query(ctx, q+" ORDER BY e.id LIMIT ?", append(args, limit)...)
		if err != nil {
			return 0, nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var p, m string
			if err := rows.Scan(&p, &m); err != nil {
				return 0, nil, err
			}
			if m != "" {
				p += "!/" + m
			}
			out = append(out, p)
		}
		return n, out, rows.Err()
	}
	var err error
	if u.Verified {
		// Cases verified before the id was recorded: every row counts as
		// covered by the last verification, as they did then.
		if through.Valid {
			if u.AddedAfter, u.AddedSamples, err = sample("SELECT e.path, e.member FROM evidence e WHERE e.id > ?", through.String); err != nil {
				return nil, err
			}
		}
		if u.NoStatus, u.NoStatusOf, err = sample(`SELECT e.path, e.member FROM evidence e WHERE e.kind IN (?, ?, ?)
			AND NOT EXISTS (SELECT 1 FROM item_status s WHERE s.evidence_id = e.id)`, KindCloudTrailDig, KindCloudTrailLog, KindObject); err != nil {
			return nil, err
		}
		if has, err := hasTable(ctx, c.db, "ct_index_widenings"); err != nil {
			return nil, err
		} else if has {
			if err := c.db.QueryRowContext(ctx, `SELECT count(DISTINCT evidence_id) FROM ct_index_widenings WHERE id >
				coalesce((SELECT CAST(value AS INTEGER) FROM case_info WHERE key = 'verified_through_widening_id'), 0)`).Scan(&u.WidenedAfter); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}

// ItemStatuses returns item_status in insertion order.
func (c *Case) ItemStatuses(ctx context.Context) ([]ItemStatus, error) {
	rows, err := c.query(ctx, `SELECT kind, coalesce(s3_bucket, ''), coalesce(s3_key, ''),
		coalesce(evidence_id, 0), status, coalesce(detail, '') FROM item_status ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ItemStatus
	for rows.Next() {
		var it ItemStatus
		var d string
		if err := rows.Scan(&it.Kind, &it.S3Bucket, &it.S3Key, &it.EvidenceID, &it.Status, &d); err != nil {
			return nil, err
		}
		if d != "" {
			it.Detail = json.RawMessage(d)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func rawOrNull(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
