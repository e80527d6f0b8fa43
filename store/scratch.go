package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"
)

// Scratch is a second connection to a case for one verification. It
// reads the case as last committed (WAL lets it read while the
// verification's own transaction writes the results on the case's
// connection), through the usual Case methods, and it keeps verify's
// working tables: TEMP tables on disk (temp_store=FILE), so that what
// verify needs across the case — where each digest is, what each digest
// concluded, which digest lists which log file — costs disk, not memory.
// It never writes the case's own tables.
type Scratch struct {
	*Case
	present *batch // suffixes MarkPresent has not written yet
}

// scratchTables are verify's working tables; see the methods that fill
// them.
const scratchTables = `
CREATE TEMP TABLE v_digest (
	evidence_id INTEGER PRIMARY KEY,
	chain       TEXT NOT NULL,   -- verify's chain key
	loc         TEXT,            -- signed bucket "/" object, NULL when not parsed
	prev_loc    TEXT,            -- previousDigestS3Bucket "/" previousDigestS3Object
	unparsed    INTEGER NOT NULL, -- no digest could be read from it
	s3_key      TEXT,            -- the evidence's AWSLogs/... key
	base        TEXT,            -- its file name, for flattened copies
	prev_suffix TEXT,            -- the AWSLogs/... part of previousDigestS3Object
	prev_base   TEXT,            -- and its file name
	side_path   TEXT,            -- where its head-object sidecar would be: evidence path
	side_nk     TEXT             -- and name key
);
CREATE TEMP TABLE v_present (suffix TEXT PRIMARY KEY);
CREATE TEMP TABLE v_result (
	evidence_id INTEGER PRIMARY KEY,
	key         TEXT NOT NULL,
	path        TEXT NOT NULL,
	status      TEXT NOT NULL,
	authentic   INTEGER NOT NULL,
	chain       TEXT NOT NULL,
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	trail       TEXT NOT NULL,
	backfill    INTEGER NOT NULL,
	times_ok    INTEGER NOT NULL,
	start_unix  INTEGER,
	end_unix    INTEGER
);
CREATE TEMP TABLE v_listing (
	id          INTEGER PRIMARY KEY,
	suffix      TEXT NOT NULL,
	base        TEXT NOT NULL,
	digest_id   INTEGER NOT NULL,
	bucket      TEXT NOT NULL,
	object      TEXT NOT NULL,
	hash        TEXT NOT NULL,
	algo        TEXT NOT NULL
);
CREATE TEMP TABLE v_flat (
	evidence_id INTEGER PRIMARY KEY,
	base        TEXT NOT NULL
);
CREATE TEMP TABLE v_missing (
	loc          TEXT PRIMARY KEY,
	account      TEXT NOT NULL,
	region       TEXT NOT NULL,
	key          TEXT NOT NULL,
	expected_end TEXT NOT NULL,
	seq          INTEGER NOT NULL
);
CREATE INDEX temp.v_missing_area ON v_missing(account, region, seq);
CREATE TEMP TABLE v_spill (
	evidence_id INTEGER PRIMARY KEY,
	detail      BLOB NOT NULL,
	checks      BLOB NOT NULL
);
`

// The indexes of the tables filled in one pass and read in the next are
// made when the pass ends: one sort instead of a B-tree insert per row
// and index.
const (
	digestIndexes = `
CREATE INDEX temp.v_digest_chain ON v_digest(chain, evidence_id);
CREATE INDEX temp.v_digest_loc ON v_digest(loc);
CREATE INDEX temp.v_digest_prev ON v_digest(prev_loc);
CREATE INDEX temp.v_digest_unparsed_key ON v_digest(unparsed, s3_key);
CREATE INDEX temp.v_digest_unparsed_base ON v_digest(unparsed, base);
CREATE INDEX temp.v_digest_prev_suffix ON v_digest(prev_suffix);
CREATE INDEX temp.v_digest_prev_base ON v_digest(prev_base);
`
	resultIndexes = `
CREATE INDEX temp.v_result_area ON v_result(account, region, evidence_id);
CREATE INDEX temp.v_listing_suffix ON v_listing(suffix);
CREATE INDEX temp.v_listing_base ON v_listing(base);
`
	flatIndexes = `
CREATE INDEX temp.v_flat_base ON v_flat(base);
`
)

// OpenScratch opens a scratch connection to the case file at path.
func OpenScratch(ctx context.Context, path string) (*Scratch, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=temp_store(FILE)&_pragma=cache_size(-16384)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	// One connection: the TEMP tables belong to it.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, scratchTables); err != nil {
		db.Close()
		return nil, fmt.Errorf("open case %s: verify's working tables: %w", path, err)
	}
	return &Scratch{Case: &Case{db: db, Path: path, ReadOnly: true, Now: time.Now, stmts: &stmtCache{}}}, nil
}

// scratchBatch is how many rows one working-table transaction writes.
const scratchBatch = 2000

// batch collects the rows of one working table and writes them a
// transaction at a time.
type batch struct {
	x    *Scratch
	q    string
	rows [][]any
}

func (x *Scratch) batch(q string) *batch { return &batch{x: x, q: q} }

func (b *batch) add(ctx context.Context, args ...any) error {
	b.rows = append(b.rows, args)
	if len(b.rows) >= scratchBatch {
		return b.flush(ctx)
	}
	return nil
}

func (b *batch) flush(ctx context.Context) error {
	if len(b.rows) == 0 {
		return nil
	}
	tx, err := b.x.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, b.q)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range b.rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return fmt.Errorf("verify's working tables: %w", err)
		}
	}
	b.rows = b.rows[:0]
	return tx.Commit()
}

// DigestHead is what verify needs of a digest to place it in its chain:
// the evidence row and the digest's location fields (not its bytes).
type DigestHead struct {
	Evidence
	Parsed         bool // a digest was read from it
	Bucket, Object string
	PrevBucket     *string
	PrevObject     *string
}

// digestChunk is how many digest heads DigestHeadChunks reads at a time.
const digestChunk = 2000

// DigestHeadChunks calls fn with every evidence row of kind
// cloudtrail_digest and its digest's location fields, in id order, a
// chunk at a time; between chunks the connection is free for fn.
func (x *Scratch) DigestHeadChunks(ctx context.Context, fn func([]DigestHead) error) error {
	return eachPage(func(after int64) ([]DigestHead, error) {
		rows, err := x.query(ctx, `SELECT `+evidenceColumns("e")+`, d.id IS NOT NULL,
			coalesce(d.digest_s3_bucket, ''), coalesce(d.digest_s3_object, ''), d.previous_digest_s3_bucket, d.previous_digest_s3_object
			FROM evidence e LEFT JOIN ct_digests d ON d.evidence_id = e.id WHERE e.kind = ? AND e.id > ? ORDER BY e.id LIMIT ?`,
			KindCloudTrailDig, after, digestChunk)
		if err != nil {
			return nil, fmt.Errorf("read digests: %w", err)
		}
		defer rows.Close()
		var chunk []DigestHead
		for rows.Next() {
			var h DigestHead
			var er evidenceRow
			var pb, po sql.NullString
			if err := rows.Scan(append(er.dest(), &h.Parsed, &h.Bucket, &h.Object, &pb, &po)...); err != nil {
				return nil, fmt.Errorf("read digests: %w", err)
			}
			if h.Evidence, err = er.decode(); err != nil {
				return nil, err
			}
			if pb.Valid {
				h.PrevBucket = &pb.String
			}
			if po.Valid {
				h.PrevObject = &po.String
			}
			chunk = append(chunk, h)
		}
		return chunk, rows.Err()
	}, func(h DigestHead) int64 { return h.ID }, fn)
}

// DigestIndex is one row of v_digest (see scratchTables).
type DigestIndex struct {
	EvidenceID           int64
	Chain                string
	Loc, PrevLoc         string // "" for none
	Unparsed             bool
	S3Key, Base          string
	PrevSuffix, PrevBase string
	SidePath, SideNK     string // the evidence path and name key its sidecar would have
}

// IndexDigests records where every digest is; add, then flush.
type DigestIndexer struct{ b *batch }

func (x *Scratch) DigestIndexer() *DigestIndexer {
	return &DigestIndexer{x.batch(`INSERT INTO v_digest(evidence_id, chain, loc, prev_loc, unparsed, s3_key, base,
		prev_suffix, prev_base, side_path, side_nk) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)}
}

func (d *DigestIndexer) Add(ctx context.Context, i DigestIndex) error {
	return d.b.add(ctx, i.EvidenceID, i.Chain, nullStr(i.Loc), nullStr(i.PrevLoc), b2i(i.Unparsed), nullStr(i.S3Key), nullStr(i.Base),
		nullStr(i.PrevSuffix), nullStr(i.PrevBase), i.SidePath, i.SideNK)
}

func (d *DigestIndexer) Flush(ctx context.Context) error { return d.b.flush(ctx) }

// Close writes what is left and indexes v_digest; add nothing after it.
func (d *DigestIndexer) Close(ctx context.Context) error {
	if err := d.b.flush(ctx); err != nil {
		return err
	}
	return d.b.x.makeIndexes(ctx, digestIndexes)
}

func (x *Scratch) makeIndexes(ctx context.Context, ddl string) error {
	if _, err := x.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("verify's working tables: index: %w", err)
	}
	return nil
}

// Chains returns the distinct chain keys of v_digest, sorted.
func (x *Scratch) Chains(ctx context.Context) ([]string, error) {
	return x.strings(ctx, "SELECT DISTINCT chain FROM v_digest ORDER BY chain")
}

// strings runs q and returns its one text column.
func (c *Case) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return textColumn(rows)
}

// textColumn reads the one text column of rows, and closes them.
func textColumn(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ids runs q and returns its one integer column.
func (c *Case) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ChainDigestIDs returns the evidence ids of a chain's digests, in id order.
func (x *Scratch) ChainDigestIDs(ctx context.Context, chain string) ([]int64, error) {
	return x.ids(ctx, "SELECT evidence_id FROM v_digest WHERE chain = ? ORDER BY evidence_id", chain)
}

// DigestsAt returns the evidence ids of the parsed digests signed for loc.
func (x *Scratch) DigestsAt(ctx context.Context, loc string) ([]int64, error) {
	return x.ids(ctx, "SELECT evidence_id FROM v_digest WHERE loc = ? ORDER BY evidence_id", loc)
}

// SuccessorsOf returns the evidence ids of the digests that name loc as
// their previous digest.
func (x *Scratch) SuccessorsOf(ctx context.Context, loc string) ([]int64, error) {
	return x.ids(ctx, "SELECT evidence_id FROM v_digest WHERE prev_loc = ? ORDER BY evidence_id", loc)
}

// UnparsedAt returns the evidence ids of the digests that could not be
// read whose AWSLogs/... key is suffix, or (for flattened copies, with no
// key) whose file name is base.
func (x *Scratch) UnparsedAt(ctx context.Context, suffix, base string) ([]int64, error) {
	return x.ids(ctx, `SELECT evidence_id FROM v_digest WHERE unparsed = 1 AND s3_key = ?
		UNION SELECT evidence_id FROM v_digest WHERE unparsed = 1 AND s3_key IS NULL AND base = ? ORDER BY 1`, suffix, base)
}

// PointerTo returns the previous-digest location named by the last
// digest (in evidence order) that points, by AWSLogs/... suffix (or, with
// no suffix, by file name), at an unparsed digest, where no parsed digest
// is: what such a digest is known by. ok is false when none does.
func (x *Scratch) PointerTo(ctx context.Context, suffix, base string) (loc string, ok bool, err error) {
	q := `SELECT v.prev_loc FROM v_digest v WHERE v.prev_suffix = ?
		AND NOT EXISTS (SELECT 1 FROM v_digest p WHERE p.loc = v.prev_loc) ORDER BY v.evidence_id DESC LIMIT 1`
	arg := suffix
	if suffix == "" {
		q = `SELECT v.prev_loc FROM v_digest v WHERE v.prev_base = ?
			AND NOT EXISTS (SELECT 1 FROM v_digest p WHERE p.loc = v.prev_loc) ORDER BY v.evidence_id DESC LIMIT 1`
		arg = base
	}
	switch err = x.queryRow(ctx, q, arg).Scan(&loc); {
	case err == sql.ErrNoRows:
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return loc, true, nil
}

// MarkPresent records the AWSLogs/... suffix of a digest or log file the
// case holds (for the access-log tail check).
// They are written a batch at a time; IsPresent sees them all.
func (x *Scratch) MarkPresent(ctx context.Context, suffix string) error {
	if x.present == nil {
		x.present = x.batch("INSERT OR IGNORE INTO v_present(suffix) VALUES (?)")
	}
	return x.present.add(ctx, suffix)
}

// IsPresent reports whether suffix was marked present.
func (x *Scratch) IsPresent(ctx context.Context, suffix string) (bool, error) {
	if x.present != nil {
		if err := x.present.flush(ctx); err != nil {
			return false, err
		}
	}
	var n int
	err := x.queryRow(ctx, "SELECT count(*) FROM v_present WHERE suffix = ?", suffix).Scan(&n)
	return n > 0, err
}

// DigestRow is a digest with its evidence row and when it was ingested.
type DigestRow struct {
	Evidence
	Digest     *Digest // nil when none could be read
	IngestedAt string
}

// DigestsByID loads the digests (evidence, parsed digest with its log
// entries) of the given evidence ids, in id order.
func (x *Scratch) DigestsByID(ctx context.Context, ids []int64) ([]DigestRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]DigestRow, 0, len(ids))
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(len(ids), start+500)]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		in := "(?" + repeat(",?", len(part)-1) + ")"
		rows, err := x.query(ctx, `SELECT `+evidenceColumns("e")+`, coalesce(e.ingested_at, '') FROM evidence e
			WHERE e.id IN `+in+` ORDER BY e.id`, args...)
		if err != nil {
			return nil, fmt.Errorf("read digests: %w", err)
		}
		byID := map[int64]int{}
		for rows.Next() {
			var r DigestRow
			var er evidenceRow
			if err := rows.Scan(append(er.dest(), &r.IngestedAt)...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read digests: %w", err)
			}
			if r.Evidence, err = er.decode(); err != nil {
				rows.Close()
				return nil, err
			}
			byID[r.ID] = len(out)
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ds, err := x.digestsWhere(ctx, "evidence_id IN "+in, args...)
		if err != nil {
			return nil, err
		}
		for i := range ds {
			if j, ok := byID[ds[i].EvidenceID]; ok {
				out[j].Digest = &ds[i]
			}
		}
	}
	return out, nil
}

// DigestSidecarsAt returns the saved head-object exports with user
// metadata whose object_path is objectPath, or (byKey true) those naming
// no local copy whose key is key.
func (x *Scratch) DigestSidecarsAt(ctx context.Context, objectPath, key string, byKey bool) ([]DigestSidecar, error) {
	if byKey {
		return x.headObjectSidecars(ctx, "(m.object_path IS NULL OR m.object_path = '') AND m.key = ?", key)
	}
	return x.headObjectSidecars(ctx, "m.object_path = ?", objectPath)
}

// ChainSidecars returns, for every digest of chain, the saved head-object
// exports with user metadata at the place its sidecar would be (its
// DigestIndex's SidePath and SideNK): one query for the chain, where
// DigestSidecarsByName would take one per digest. A digest with none has
// no entry.
func (x *Scratch) ChainSidecars(ctx context.Context, chain string, lo, hi int64) (map[int64][]DigestSidecar, error) {
	rows, err := x.query(ctx, `SELECT v.evidence_id, `+sidecarColumns+`
		FROM v_digest v JOIN evidence e ON e.path = v.side_path AND e.name_key = v.side_nk
		JOIN s3_object_meta m ON m.evidence_id = e.id
		WHERE v.chain = ? AND v.evidence_id BETWEEN ? AND ? AND m.source = 'head-object' AND m.user_metadata IS NOT NULL
		ORDER BY v.evidence_id, m.id`, chain, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	defer rows.Close()
	out := map[int64][]DigestSidecar{}
	for rows.Next() {
		var id int64
		var sc sidecarScan
		if err := rows.Scan(append([]any{&id}, sc.dest()...)...); err != nil {
			return nil, fmt.Errorf("read object metadata: %w", err)
		}
		s, err := sc.decode()
		if err != nil {
			return nil, err
		}
		out[id] = append(out[id], s)
	}
	return out, rows.Err()
}

// DigestSidecarsByName returns the saved head-object exports with user
// metadata of the evidence items at path with name key nk (the sidecar's
// own name, so that "./K.metadata.json" and "K.metadata.json" are one).
func (x *Scratch) DigestSidecarsByName(ctx context.Context, path, nk string) ([]DigestSidecar, error) {
	return x.headObjectSidecars(ctx, "e.path = ? AND e.name_key = ?", path, nk)
}

// DigestResult is what verify concluded about one digest, kept for the
// log files it lists and the digests that cover a time.
type DigestResult struct {
	EvidenceID             int64
	Key, Path, Status      string
	Authentic              bool
	Chain                  string
	Account, Region, Trail string
	Backfill, TimesOK      bool
	Start, End             time.Time
}

// ResultWriter records digest results and the log files each digest
// lists; add, then flush.
type ResultWriter struct{ res, list *batch }

func (x *Scratch) ResultWriter() *ResultWriter {
	return &ResultWriter{
		res: x.batch(`INSERT OR REPLACE INTO v_result(evidence_id, key, path, status, authentic, chain, account, region, trail,
			backfill, times_ok, start_unix, end_unix) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`),
		list: x.batch(`INSERT INTO v_listing(suffix, base, digest_id, bucket, object, hash, algo) VALUES (?,?,?,?,?,?,?)`),
	}
}

// AddResult records a digest's result.
func (w *ResultWriter) AddResult(ctx context.Context, d DigestResult) error {
	var st, en any
	if d.TimesOK {
		st, en = d.Start.Unix(), d.End.Unix()
	}
	return w.res.add(ctx, d.EvidenceID, d.Key, d.Path, d.Status, b2i(d.Authentic), d.Chain, d.Account, d.Region, d.Trail,
		b2i(d.Backfill), b2i(d.TimesOK), st, en)
}

// AddListing records that digest lists a log file: suffix is the
// AWSLogs/... part of its key, base its file name.
func (w *ResultWriter) AddListing(ctx context.Context, digest int64, suffix, base string, l DigestLog) error {
	return w.list.add(ctx, suffix, base, digest, l.S3Bucket, l.S3Object, l.HashValue, l.HashAlgorithm)
}

func (w *ResultWriter) Flush(ctx context.Context) error {
	if err := w.res.flush(ctx); err != nil {
		return err
	}
	return w.list.flush(ctx)
}

// Close writes what is left and indexes the results and listings for
// the log files' pass; add nothing after it.
func (w *ResultWriter) Close(ctx context.Context) error {
	if err := w.Flush(ctx); err != nil {
		return err
	}
	return w.res.x.makeIndexes(ctx, resultIndexes)
}

// Listing is one logFiles entry of a digest with what verify concluded
// about that digest.
type Listing struct {
	Log    DigestLog
	Digest DigestResult
}

// LogWithListings is a log file's evidence row and every listing of it.
type LogWithListings struct {
	Evidence
	Listings []Listing
}

// FlatLogs records the file names of the log files that have no AWSLogs/
// key (flattened copies), by which digests' listings find them.
func (x *Scratch) FlatLogs(ctx context.Context, base func(*Evidence) string) error {
	b := x.batch("INSERT INTO v_flat(evidence_id, base) VALUES (?,?)")
	// A chunk is read, then written: the one connection cannot write
	// while it reads.
	for last := int64(0); ; {
		var rows []Evidence
		err := x.eachEvidenceLimit(ctx, "e.kind = ? AND (e.s3_key IS NULL OR e.s3_key = '') AND e.id > ?",
			[]any{KindCloudTrailLog, last}, logChunk, func(e *Evidence) error {
				rows = append(rows, *e)
				return nil
			})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		last = rows[len(rows)-1].ID
		for i := range rows {
			if err := b.add(ctx, rows[i].ID, base(&rows[i])); err != nil {
				return err
			}
		}
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	return x.makeIndexes(ctx, flatIndexes)
}

// eachEvidence streams the evidence rows matching where in id order (at
// most limit, 0 for all).
// FlatLogNames returns the file names FlatLogs recorded.
func (x *Scratch) FlatLogNames(ctx context.Context) ([]string, error) {
	return x.strings(ctx, "SELECT base FROM v_flat ORDER BY evidence_id")
}

func (x *Scratch) eachEvidence(ctx context.Context, where string, args []any, fn func(*Evidence) error) error {
	return x.eachEvidenceLimit(ctx, where, args, 0, fn)
}

func (x *Scratch) eachEvidenceLimit(ctx context.Context, where string, args []any, limit int, fn func(*Evidence) error) error {
	q := `SELECT ` + evidenceColumns("e") + ` FROM evidence e WHERE ` + where + ` ORDER BY e.id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := x.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	return eachEvidenceRow(rows, fn)
}

// eachEvidenceRow calls fn for each row of rows, which select
// evidenceColumns, and closes them.
func eachEvidenceRow(rows *sql.Rows, fn func(*Evidence) error) error {
	defer rows.Close()
	for rows.Next() {
		var er evidenceRow
		if err := rows.Scan(er.dest()...); err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		e, err := er.decode()
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// collectEvidence reads every row of rows (evidenceColumns).
func collectEvidence(rows *sql.Rows) ([]Evidence, error) {
	var out []Evidence
	err := eachEvidenceRow(rows, func(e *Evidence) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

// logChunk is how many log files LogChunks reads at a time.
const logChunk = 512

// LogChunks calls fn with the log files of the case, in id order, a
// chunk at a time, each with every listing of it: by its AWSLogs/... key,
// or, for a flattened copy, by its file name when no log file of the
// case has the listing's key. Between chunks the connection is free, so
// fn may query it.
func (x *Scratch) LogChunks(ctx context.Context, fn func([]LogWithListings) error) error {
	last := int64(0)
	for {
		var chunk []LogWithListings
		byID := map[int64]int{}
		err := x.eachEvidenceLimit(ctx, "e.kind = ? AND e.id > ?", []any{KindCloudTrailLog, last}, logChunk, func(e *Evidence) error {
			byID[e.ID] = len(chunk)
			chunk = append(chunk, LogWithListings{Evidence: *e})
			return nil
		})
		if err != nil {
			return err
		}
		if len(chunk) == 0 {
			return nil
		}
		first := chunk[0].ID
		last = chunk[len(chunk)-1].ID
		rows, err := x.query(ctx, `
			SELECT e.id, l.bucket, l.object, l.hash, l.algo, `+resultColumns+`, l.id AS lid
			FROM evidence e JOIN v_listing l ON l.suffix = e.s3_key JOIN v_result r ON r.evidence_id = l.digest_id
			WHERE e.kind = ? AND e.id BETWEEN ? AND ? AND e.s3_key <> ''
			UNION ALL
			SELECT e.id, l.bucket, l.object, l.hash, l.algo, `+resultColumns+`, l.id AS lid
			FROM v_flat f JOIN evidence e ON e.id = f.evidence_id JOIN v_listing l ON l.base = f.base
			JOIN v_result r ON r.evidence_id = l.digest_id
			WHERE f.evidence_id BETWEEN ? AND ?
			  AND NOT EXISTS (SELECT 1 FROM evidence o WHERE o.kind = ? AND o.s3_key = l.suffix)
			ORDER BY 1, 6, lid`, KindCloudTrailLog, first, last, first, last, KindCloudTrailLog)
		if err != nil {
			return fmt.Errorf("read digest listings: %w", err)
		}
		for rows.Next() {
			var id, lid int64
			var l Listing
			var rs resultScan
			dst := append([]any{&id, &l.Log.S3Bucket, &l.Log.S3Object, &l.Log.HashValue, &l.Log.HashAlgorithm}, rs.dest(&l.Digest)...)
			if err := rows.Scan(append(dst, &lid)...); err != nil {
				rows.Close()
				return fmt.Errorf("read digest listings: %w", err)
			}
			rs.decode()
			if i, ok := byID[id]; ok {
				chunk[i].Listings = append(chunk[i].Listings, l)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
}

const resultColumns = `r.evidence_id, r.key, r.path, r.status, r.authentic, r.chain, r.account, r.region, r.trail, r.backfill,
	r.times_ok, r.start_unix, r.end_unix`

// resultScan holds what Scan fills for a DigestResult before decode.
type resultScan struct {
	d                            *DigestResult
	authentic, backfill, timesOK int
	start, end                   sql.NullInt64
}

func (s *resultScan) dest(d *DigestResult) []any {
	s.d = d
	return []any{&d.EvidenceID, &d.Key, &d.Path, &d.Status, &s.authentic, &d.Chain, &d.Account, &d.Region, &d.Trail,
		&s.backfill, &s.timesOK, &s.start, &s.end}
}

func (s *resultScan) decode() {
	d := s.d
	d.Authentic, d.Backfill, d.TimesOK = s.authentic != 0, s.backfill != 0, s.timesOK != 0
	if s.start.Valid {
		d.Start = time.Unix(s.start.Int64, 0).UTC()
	}
	if s.end.Valid {
		d.End = time.Unix(s.end.Int64, 0).UTC()
	}
}

// MissingListing is a log file some digest lists and the evidence lacks,
// with every listing of it.
type MissingListing struct {
	Bucket, Object string
	Listings       []Listing
}

// EachMissingListing calls fn for every log file listed by a digest and
// not in the evidence (neither by key nor, for flattened copies, by file
// name), grouped by bucket/key, in the order the first listing of each
// was recorded.
func (x *Scratch) EachMissingListing(ctx context.Context, fn func(*MissingListing) error) error {
	rows, err := x.query(ctx, `
		SELECT l.bucket, l.object, l.hash, l.algo, `+resultColumns+`,
		       min(l.digest_id * 4294967296 + l.id) OVER (PARTITION BY l.bucket, l.object) AS first
		FROM v_listing l JOIN v_result r ON r.evidence_id = l.digest_id
		WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.kind = ? AND e.s3_key = l.suffix)
		  AND NOT EXISTS (SELECT 1 FROM v_flat f WHERE f.base = l.base)
		ORDER BY first, l.digest_id, l.id`, KindCloudTrailLog)
	if err != nil {
		return fmt.Errorf("read missing log files: %w", err)
	}
	defer rows.Close()
	var cur *MissingListing
	for rows.Next() {
		var l Listing
		var first int64
		var rs resultScan
		dst := append([]any{&l.Log.S3Bucket, &l.Log.S3Object, &l.Log.HashValue, &l.Log.HashAlgorithm}, rs.dest(&l.Digest)...)
		if err := rows.Scan(append(dst, &first)...); err != nil {
			return fmt.Errorf("read missing log files: %w", err)
		}
		rs.decode()
		if cur != nil && (cur.Bucket != l.Log.S3Bucket || cur.Object != l.Log.S3Object) {
			if err := fn(cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = &MissingListing{Bucket: l.Log.S3Bucket, Object: l.Log.S3Object}
		}
		cur.Listings = append(cur.Listings, l)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur != nil {
		return fn(cur)
	}
	return nil
}

// MarkMissing records a digest location verify reported missing, with
// the account, region, key and expected end time an unreferenced log
// file's covering digest is found by; it reports whether loc was new.
func (x *Scratch) MarkMissing(ctx context.Context, loc, account, region, key, expectedEnd string) (bool, error) {
	res, err := x.exec(ctx, `INSERT OR IGNORE INTO v_missing(loc, account, region, key, expected_end, seq)
		VALUES (?,?,?,?,?, (SELECT coalesce(max(seq), 0) + 1 FROM v_missing))`, loc, account, region, key, expectedEnd)
	if err != nil {
		return false, fmt.Errorf("verify's working tables: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Spill keeps a digest's encoded detail and checks until its chain is
// written (Unspill), so that a long chain's details are not all held in
// memory; ClearSpill empties it for the next chain.
func (x *Scratch) Spill(ctx context.Context, id int64, detail, checks []byte) error {
	if _, err := x.exec(ctx, "INSERT OR REPLACE INTO v_spill(evidence_id, detail, checks) VALUES (?, ?, ?)", id, detail, checks); err != nil {
		return fmt.Errorf("verify's working tables: %w", err)
	}
	return nil
}

// Unspill returns what Spill kept for id.
func (x *Scratch) Unspill(ctx context.Context, id int64) (detail, checks []byte, err error) {
	if err := x.queryRow(ctx, "SELECT detail, checks FROM v_spill WHERE evidence_id = ?", id).Scan(&detail, &checks); err != nil {
		return nil, nil, fmt.Errorf("verify's working tables: digest %d: %w", id, err)
	}
	return detail, checks, nil
}

// ClearSpill forgets every spilled detail.
func (x *Scratch) ClearSpill(ctx context.Context) error {
	if _, err := x.exec(ctx, "DELETE FROM v_spill"); err != nil {
		return fmt.Errorf("verify's working tables: %w", err)
	}
	return nil
}

// IsMissing reports whether loc was marked missing.
func (x *Scratch) IsMissing(ctx context.Context, loc string) (bool, error) {
	var n int
	err := x.queryRow(ctx, "SELECT count(*) FROM v_missing WHERE loc = ?", loc).Scan(&n)
	return n > 0, err
}

// CoveringDigest returns the key and status of the last digest (in
// evidence order) of account and region, not backfill, whose span
// [start truncated to the minute, end) holds t; else the key of a missing
// digest whose hour ends after t; "" when none.
func (x *Scratch) CoveringDigest(ctx context.Context, account, region string, t time.Time) (key, status string, missing bool, err error) {
	u := t.Unix()
	err = x.queryRow(ctx, `SELECT key, status FROM v_result WHERE account = ? AND region = ? AND backfill = 0
		AND times_ok = 1 AND (start_unix - start_unix % 60) <= ? AND ? < end_unix ORDER BY evidence_id DESC LIMIT 1`,
		account, region, u, u).Scan(&key, &status)
	if err == nil {
		return key, status, false, nil
	}
	if err != sql.ErrNoRows {
		return "", "", false, err
	}
	rows, err := x.query(ctx, "SELECT key, expected_end FROM v_missing WHERE account = ? AND region = ? ORDER BY seq",
		account, region)
	if err != nil {
		return "", "", false, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, st string
		if err := rows.Scan(&k, &st); err != nil {
			return "", "", false, err
		}
		if st == "" {
			continue
		}
		end, perr := time.Parse(time.RFC3339, st)
		if perr == nil && t.Before(end) && !t.Before(end.Add(-time.Hour).Truncate(time.Minute)) {
			return k, "", true, nil
		}
	}
	return "", "", false, rows.Err()
}

// LogKeysOf calls fn with the AWSLogs/... key of every log file whose key
// starts with prefix, through the key index, until fn returns true.
func (x *Scratch) LogKeysOf(ctx context.Context, prefix string, fn func(key string) bool) error {
	rows, err := x.query(ctx, `SELECT s3_key FROM evidence WHERE s3_key >= ? AND s3_key < ? AND kind = ?`,
		prefix, prefix+"\xff", KindCloudTrailLog)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		if fn(k) {
			break
		}
	}
	return rows.Err()
}
