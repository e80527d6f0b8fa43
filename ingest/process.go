package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/hashing"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

func humanBytes(n int64) string { return hashing.FormatBytes(n) }

// setKeyInfo fills the evidence fields a CloudTrail key shape gives.
func setKeyInfo(ev *store.Evidence, ki cloudtrail.KeyInfo) {
	ev.S3Key = ki.Key
	ev.Account = ki.Account
	ev.OrgID = ki.OrgID
	ev.Region = ki.Region
	ev.Trail = ki.Trail
	ev.Backfill = ki.Backfill
}

func (r *run) parseDigest(it *store.Item, content []byte) {
	d, err := cloudtrail.ParseDigest(content)
	if err != nil {
		it.Evidence.Error = fmt.Sprintf("cloudtrail digest: %v", err)
	}
	if d != nil {
		it.Digest = d
		it.RecordCount = len(d.LogFiles)
		if it.Evidence.S3Key == "" {
			if ki, ok := cloudtrail.ParseKey(d.DigestS3Object); ok {
				// A flattened copy: the signed key says where it belongs.
				it.Evidence.Account, it.Evidence.Region, it.Evidence.Trail = ki.Account, ki.Region, ki.Trail
				it.Evidence.OrgID, it.Evidence.Backfill = ki.OrgID, ki.Backfill
			}
		}
		if it.Evidence.S3Bucket == "" {
			it.Evidence.S3Bucket = d.DigestS3Bucket
		}
	}
	it.Evidence.Format = "digest"
}

func (r *run) parseMetadata(root, name, objPath string, e *source.Entry, it *store.Item, content []byte) {
	metas, manifest, format, err := s3meta.Parse(name, content)
	it.Evidence.Format = format
	if err != nil {
		it.Evidence.Error = "object metadata: " + s3meta.Reason(err, name)
	}
	for i := range metas {
		m := &metas[i]
		if objPath == "" {
			continue
		}
		m.ObjectPath = objPath
		if ki, ok := cloudtrail.ParseKey(objPath); ok && !ki.FileNameOnly {
			// The sidecar of a CloudTrail file (a digest's signature).
			m.Bucket, m.Key = "", ki.Key
			continue
		}
		var bucket, key, version string
		if e.Member == "" {
			bucket, key, version = objectKey(root, objPath)
		} else {
			// The object's name inside its own archive: the sidecar's
			// innermost member name without the suffix (never split at
			// "!/", which a member's own name may hold).
			inner, _, _, _ := s3meta.Sidecar(e.MemberPath[len(e.MemberPath)-1])
			bucket, key, version = objectKey("", store.CleanName(inner))
		}
		if bucket != "" {
			m.Bucket, m.Key = bucket, key
		}
		if m.VersionID == "" {
			m.VersionID = version
		}
	}
	it.Metas = metas
	it.RecordCount = len(metas)
	if manifest != nil {
		it.Manifest = manifest
		it.RecordCount = 1
		r.inv.add(name, manifest)
	}
}

func (r *run) setObjectKey(root string, e *source.Entry, ev *store.Evidence) {
	if e.Member == "" {
		ev.S3Bucket, ev.S3Key, _ = objectKey(root, e.Path)
		return
	}
	ev.S3Bucket, ev.S3Key, _ = objectKey("", strings.TrimPrefix(fullName(e), "/"))
}

// inventorySchemas remembers the fileSchema of the manifests read in this
// run, keyed by the inventory's config folder: the last maxSchemas of
// them (the walker hands on a manifest's data files right after it, so
// memory need not grow with the manifests of a run).
type inventorySchemas struct {
	mu    sync.Mutex
	m     map[string]string
	order []string // keys, oldest first
}

const maxSchemas = 4096

func newInventorySchemas() *inventorySchemas { return &inventorySchemas{m: map[string]string{}} }

// A manifest sits at <config>/<timestamp>/manifest.json; data files at
// <config>/data/<uuid>.csv.gz.
func (s *inventorySchemas) add(name string, m *store.InventoryManifest) {
	cfg := path.Dir(path.Dir(name))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[cfg]; !ok {
		s.order = append(s.order, cfg)
		if len(s.order) > maxSchemas {
			delete(s.m, s.order[0])
			s.order = append(s.order[:0], s.order[1:]...)
		}
	}
	s.m[cfg] = m.FileSchema
}

func (s *inventorySchemas) schemaFor(name string) (string, bool) {
	i := strings.LastIndex(strings.ToLower(name), "/data/")
	if i < 0 {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name[:i]]
	return v, ok
}

// dupChecker looks items up in the case before they are parsed, so a
// re-ingest costs a read and a hash, not a parse. It uses its own
// read-only connection and no long-lived prepared statement (a statement
// left un-reset would hold a read lock, or pin a WAL snapshot). It never
// waits: while the writer holds the case locked (a commit, or a cache
// spill during a bulk load) the answer is "not known", the item is parsed,
// and the writer, which checks every item again, drops it if it is a
// duplicate. So a lookup only ever saves work, never decides — except
// when the run may widen the indexed records of log files already in the
// case (see run.widenable): then what the case holds decides what is
// parsed, and a lookup the writer's lock refused is asked again, waiting.
type dupChecker struct {
	db   *sql.DB
	mu   sync.Mutex
	once sync.Once
	wait bool // ask again, waiting, when the case is locked
	// empty: the case held no item when the run began, so no item of the
	// run can be in it but for the run's own (the writer drops those):
	// nothing to look up.
	empty bool
	// same is the look-up statement, prepared once: it is reset after
	// each use (its rows are closed), so it holds no lock between uses.
	same *sql.Stmt
}

type seenItem struct {
	kind, err string
	records   int
	// What the case records of its indexed records (log files).
	id           int64
	sha          string
	filter       sql.NullString // NULL: every record
	events       int64
	eventsSHA256 string
	seen         int64 // records_seen, -1 when NULL
}

func newDupChecker(ctx context.Context, casePath string) (*dupChecker, error) {
	ro, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return nil, err
	}
	if _, err := ro.DB.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		ro.Close()
		return nil, err
	}
	d := &dupChecker{db: ro.DB}
	var any int
	if err := ro.DB.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM evidence LIMIT 1)").Scan(&any); err != nil {
		ro.Close()
		return nil, err
	}
	d.empty = any == 0
	where, _ := store.SameItemQuery(&store.Evidence{})
	if d.same, err = ro.DB.PrepareContext(ctx, "SELECT "+seenColumns+" FROM evidence WHERE "+where); err != nil {
		ro.Close()
		return nil, err
	}
	return d, nil
}

const seenColumns = `id, sha256, kind, coalesce(error, ''), coalesce(record_count, 0), events_filter,
	coalesce(event_count, 0), coalesce(events_sha256, ''), coalesce(records_seen, -1)`

func scanSeen(sc interface{ Scan(...any) error }) (*seenItem, error) {
	var s seenItem
	if err := sc.Scan(&s.id, &s.sha, &s.kind, &s.err, &s.records, &s.filter, &s.events, &s.eventsSHA256, &s.seen); err != nil {
		return nil, err
	}
	return &s, nil
}

// query runs fn on the checker's connection; when the case is locked and
// the checker waits, once more with a busy timeout.
func (d *dupChecker) query(fn func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := fn()
	if err == nil || errors.Is(err, sql.ErrNoRows) || !d.wait {
		return err
	}
	if _, e := d.db.Exec("PRAGMA busy_timeout = 60000"); e != nil {
		return err
	}
	defer d.db.Exec("PRAGMA busy_timeout = 0")
	return fn()
}

// lookup finds the item ev is (same bytes at the same place) in the case:
// nil when it is not there, or not known (see dupChecker).
func (d *dupChecker) lookup(ev *store.Evidence) (*seenItem, error) {
	if d.empty {
		return nil, nil
	}
	_, args := store.SameItemQuery(ev)
	var s *seenItem
	err := d.query(func() error {
		var err error
		s, err = scanSeen(d.same.QueryRow(args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return s, err
}

// partialAt lists the log files recorded at ev's place (path, member and
// position, whatever their bytes) whose records were indexed by a filter.
func (d *dupChecker) partialAt(ev *store.Evidence) ([]*seenItem, error) {
	where, args := store.SamePlaceQuery(ev)
	var out []*seenItem
	err := d.query(func() error {
		out = out[:0]
		rows, err := d.db.Query("SELECT "+seenColumns+" FROM evidence WHERE "+where+
			" AND kind = 'cloudtrail_log' AND events_filter IS NOT NULL ORDER BY id LIMIT 16", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanSeen(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// anyPartial reports whether the case holds a log file whose records were
// indexed by a filter.
func (d *dupChecker) anyPartial() (bool, error) {
	var n int
	err := d.query(func() error {
		return d.db.QueryRow("SELECT count(*) FROM (SELECT 1 FROM evidence WHERE kind = 'cloudtrail_log' AND events_filter IS NOT NULL LIMIT 1)").Scan(&n)
	})
	return n > 0, err
}

func (d *dupChecker) close() {
	d.once.Do(func() {
		if d.same != nil {
			d.same.Close()
		}
		d.db.Close()
	})
}
