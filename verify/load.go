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
	// sidecars by localName of the object they sit beside, qualified by
	// the archive path for archive members.
	sidecars map[string]*store.DigestSidecar
	byKey    map[string]*store.DigestSidecar // sidecars without object_path, by S3 key
}

func load(ctx context.Context, c *store.Case) (*input, error) {
	evs, err := c.CloudTrailEvidence(ctx)
	if err != nil {
		return nil, err
	}
	in := &input{digests: map[int64]*store.Digest{}, sidecars: map[string]*store.DigestSidecar{},
		byKey: map[string]*store.DigestSidecar{}}
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
			in.sidecars[sidecarKey(s.Path, s.Member, normObject(s.Member != "", s.ObjectPath))] = s
		case s.Key != "":
			in.byKey[s.Key] = s
		}
	}
	return in, nil
}

// sidecarKey names the object a sidecar describes: its object_path, and
// for archive members the archive too, so that two archives holding the
// same member names do not mix.
func sidecarKey(archive, member, objectPath string) string {
	if member == "" {
		return objectPath
	}
	return archive + "\x00" + objectPath
}

// sidecarFor returns the saved head-object metadata of a digest.
func (in *input) sidecarFor(e *store.Evidence, d *store.Digest) *store.DigestSidecar {
	if s := in.sidecars[sidecarKey(e.Path, e.Member, normObject(e.Member != "", nonEmpty(e.Member, e.Path)))]; s != nil {
		return s
	}
	if d != nil {
		if s := in.byKey[d.DigestS3Object]; s != nil {
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

// normObject spells an object's local name one way whatever form ingest
// recorded: slash-separated file paths; member names rooted at "/" with
// nesting ("!/") flattened.
func normObject(member bool, p string) string {
	p = toSlash(p)
	if member {
		return cleanSlash("/" + strings.ReplaceAll(p, "!/", "/"))
	}
	return p
}

func toSlash(p string) string { return filepath.ToSlash(p) }

func cleanSlash(p string) string { return path.Clean(p) }
