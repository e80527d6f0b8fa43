package ingest

import (
	"context"
	"strings"

	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/store"
)

// objectsFolder is the conventional folder that holds bucket folders in an
// export (<root>/objects/<bucket>/<key>); it is not itself a bucket.
const objectsFolder = "objects"

// objectKey derives an object's bucket, key and version from its path
// below the source root: <root>/[objects/]<bucket>/<key>, with versions at
// <key>.versions/<VersionId>.
func objectKey(root, p string) (bucket, key, version string) {
	rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
	if first, rest, ok := strings.Cut(rel, "/"); ok && strings.EqualFold(first, objectsFolder) && strings.Contains(rest, "/") {
		rel = rest
	}
	return s3meta.ObjectKey("", rel)
}

// pairObjects runs after every ingest, over the whole case: an archive
// member that was not recognised as anything else but has a metadata
// export beside it (K.metadata.json or K.attributes.json in the same
// archive, at the same nesting level: compared by name_key, so a member
// named "inner.tar!/K.metadata.json" is not the sidecar of member K of a
// nested inner.tar) is an S3 object. Files on disk are paired while they
// are read. It returns how many items changed kind.
func pairObjects(ctx context.Context, c *store.Case) (int, error) {
	total := 0
	// A page of candidates at a time, by id, so memory does not grow with
	// the archive members of the case.
	for after := int64(0); ; {
		objs, last, err := pairPage(ctx, c, after)
		if err != nil {
			return total, err
		}
		if last == 0 {
			return total, nil
		}
		after = last
		if len(objs) == 0 {
			continue
		}
		if err := c.MarkObjects(ctx, objs); err != nil {
			return total, err
		}
		total += len(objs)
	}
}

// pairPageSize is how many candidate members pairObjects reads at a time.
const pairPageSize = 1000

// pairPage finds the objects among the next page of candidates after id
// after; last is the page's last id (0: no more).
func pairPage(ctx context.Context, c *store.Case, after int64) (objs []store.PairedObject, last int64, err error) {
	cands, err := c.PairCandidates(ctx, after, pairPageSize)
	if err != nil {
		return nil, 0, err
	}
	for _, o := range cands {
		last = o.ID
		names := o.Names()
		li := len(names) - 1
		found := false
		for _, suf := range []string{".metadata.json", ".attributes.json"} {
			side := append(append([]string{}, names[:li]...), names[li]+suf)
			// A sidecar in the same archive at the same level: same name
			// key, and (when positions are known) the same enclosing
			// archives by position, so that of two nested archives of one
			// name neither pairs with the other's members.
			n, err := c.CountSidecars(ctx, o.Path, store.NameKey(o.Path, side), o.MemberIndex)
			if err != nil {
				return nil, 0, err
			}
			if n == 0 && names[li] == o.Member {
				// A sidecar recorded before name_key existed.
				if n, err = c.CountLegacySidecars(ctx, o.Path, o.Member+suf); err != nil {
					return nil, 0, err
				}
			}
			if n > 0 {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		bucket, key, _ := objectKey("", store.CleanName(names[li]))
		objs = append(objs, store.PairedObject{ID: o.ID, Bucket: bucket, Key: key})
	}
	return objs, last, nil
}
