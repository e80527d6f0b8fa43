package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/forensic-dev/forensic/ingest/cloudtrail"
	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/ingest/source"
	"github.com/forensic-dev/forensic/internal/hashing"
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

// inventorySchemas remembers the fileSchema of every manifest read in this
// run, keyed by the inventory's config folder.
type inventorySchemas struct {
	mu sync.Mutex
	m  map[string]string
}

func newInventorySchemas() *inventorySchemas { return &inventorySchemas{m: map[string]string{}} }

// A manifest sits at <config>/<timestamp>/manifest.json; data files at
// <config>/data/<uuid>.csv.gz.
func (s *inventorySchemas) add(name string, m *store.InventoryManifest) {
	cfg := path.Dir(path.Dir(name))
	s.mu.Lock()
	s.m[cfg] = m.FileSchema
	s.mu.Unlock()
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
// duplicate. So a lookup only ever saves work, never decides.
type dupChecker struct {
	db   *sql.DB
	mu   sync.Mutex
	once sync.Once
}

type seenItem struct {
	kind, err string
	records   int
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
	return &dupChecker{db: ro.DB}, nil
}

func (d *dupChecker) lookup(ev *store.Evidence) *seenItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	var s seenItem
	where, args := store.SameItemQuery(ev)
	err := d.db.QueryRow("SELECT kind, coalesce(error, ''), coalesce(record_count, 0) FROM evidence WHERE "+where,
		args...).Scan(&s.kind, &s.err, &s.records)
	if err != nil {
		return nil
	}
	return &s
}

func (d *dupChecker) close() { d.once.Do(func() { d.db.Close() }) }
