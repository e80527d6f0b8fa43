package verify

import (
	"context"
	"path"
	"path/filepath"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// input is what a run reads from the case.
type input struct {
	logs     []*store.Evidence
	digestEv []*store.Evidence
	digests  map[int64]*store.Digest // by evidence id
	// sidecars by the place (key) of the object they sit beside; a name
	// seen twice in a source gives two.
	sidecars map[string][]*store.DigestSidecar
	byKey    map[string][]*store.DigestSidecar // sidecars without object_path, by S3 key
}

func load(ctx context.Context, c *store.Case) (*input, error) {
	evs, err := c.CloudTrailEvidence(ctx)
	if err != nil {
		return nil, err
	}
	in := &input{digests: map[int64]*store.Digest{}, sidecars: map[string][]*store.DigestSidecar{},
		byKey: map[string][]*store.DigestSidecar{}}
	for i := range evs {
		e := &evs[i]
		if e.Kind == store.KindCloudTrailDig {
			in.digestEv = append(in.digestEv, e)
		} else {
			in.logs = append(in.logs, e)
		}
	}
	ds, err := c.Digests(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		in.digests[ds[i].EvidenceID] = &ds[i]
	}
	scs, err := c.HeadObjectSidecars(ctx)
	if err != nil {
		return nil, err
	}
	for i := range scs {
		s := &scs[i]
		switch {
		case s.ObjectPath != "":
			k := sidecarPlace(s.Path, s.Names, s.Index, s.ObjectPath).key()
			in.sidecars[k] = append(in.sidecars[k], s)
		case s.Key != "":
			in.byKey[s.Key] = append(in.byKey[s.Key], s)
		}
	}
	return in, nil
}

// sidecarsFor returns the saved head-object metadata of a digest: the
// exports beside it, else those naming its key. Normally one; a source
// that holds the sidecar's name twice gives more.
func (in *input) sidecarsFor(e *store.Evidence, d *store.Digest) []*store.DigestSidecar {
	if s := in.sidecars[placeOf(e).key()]; len(s) > 0 {
		return s
	}
	if d != nil {
		if s := in.byKey[d.DigestS3Object]; len(s) > 0 {
			return s
		}
		if i := strings.Index(d.DigestS3Object, "AWSLogs/"); i > 0 {
			return in.byKey[d.DigestS3Object[i:]]
		}
	}
	return nil
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
