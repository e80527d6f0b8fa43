package verify

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// sidecarsFor returns the saved head-object metadata of a digest: the
// exports beside it (K.metadata.json at its place: same archive, same
// level), else those naming its key. Normally one; a source that holds
// the sidecar's name twice gives more.
//
// The chain being loaded has its sidecars by name read in one query
// (r.side); any other digest, by its own.
func (r *run) sidecarsFor(e *store.Evidence, d *store.Digest) ([]*store.DigestSidecar, error) {
	at := placeOf(e)
	found, inChain := r.side[e.ID]
	if !inChain {
		side, nk := sidecarName(e)
		var err error
		if found, err = r.x.DigestSidecarsByName(r.ctx, side, nk); err != nil {
			return nil, err
		}
	}
	var err error
	if len(found) == 0 {
		// Rows recorded before name keys were: by the object path ingest
		// recorded (the member as spelt, or the file).
		if found, err = r.x.DigestSidecarsAt(r.ctx, nonEmpty(e.Member, e.Path), "", false); err != nil {
			return nil, err
		}
	}
	var out []*store.DigestSidecar
	for i := range found {
		s := &found[i]
		if s.ObjectPath != "" && sidecarPlace(s.Path, s.Names, s.Index, s.ObjectPath).key() == at.key() {
			out = append(out, s)
		}
	}
	if len(out) > 0 || d == nil {
		return out, nil
	}
	for _, key := range []string{d.DigestS3Object, awsLogsSuffixAfter(d.DigestS3Object)} {
		if key == "" {
			continue
		}
		byKey, err := r.x.DigestSidecarsAt(r.ctx, "", key, true)
		if err != nil {
			return nil, err
		}
		if len(byKey) > 0 {
			for i := range byKey {
				out = append(out, &byKey[i])
			}
			return out, nil
		}
	}
	return nil, nil
}

// sidecarName is the evidence path and name key that the saved
// head-object export of the digest e would have: K.metadata.json beside
// it, at the same level of the same archive.
func sidecarName(e *store.Evidence) (path, nameKey string) {
	if names := e.Names(); len(names) > 0 {
		return e.Path, store.NameKey(e.Path, append(append([]string{}, names[:len(names)-1]...), names[len(names)-1]+".metadata.json"))
	}
	side := e.Path + ".metadata.json"
	return side, store.NameKey(side, nil)
}

// awsLogsSuffixAfter is the AWSLogs/... part of a key that has something
// before it, "" otherwise (as sidecars saved by key are looked up).
func awsLogsSuffixAfter(key string) string {
	if i := strings.Index(key, "AWSLogs/"); i > 0 {
		return key[i:]
	}
	return ""
}

// meta looks a user-metadata name up case-insensitively (S3 lower-cases
// them, but exports made by other tools may not).
func meta(s *store.DigestSidecar, name string) (string, bool) {
	if s == nil {
		return "", false
	}
	if v, ok := s.Metadata[name]; ok {
		return v, true
	}
	for k, v := range s.Metadata {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func toSlash(p string) string { return filepath.ToSlash(p) }

func cleanSlash(p string) string { return path.Clean(p) }
