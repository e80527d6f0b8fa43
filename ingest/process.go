package ingest

import (
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
