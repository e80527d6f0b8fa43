package ingest

import (
	"context"
	"fmt"
	"path"
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
// archive) is an S3 object. Files on disk are paired while they are read.
// It returns how many items changed kind.
func pairObjects(ctx context.Context, c *store.Case) (int, error) {
	rows, err := c.DB.QueryContext(ctx, `SELECT o.id, o.source, o.path, o.member FROM evidence o
		WHERE o.kind = 'unknown' AND o.member <> '' AND o.error IS NULL AND EXISTS (
			SELECT 1 FROM evidence s WHERE s.path = o.path AND s.kind = 'object_metadata'
			AND s.member IN (o.member || '.metadata.json', o.member || '.attributes.json'))`)
	if err != nil {
		return 0, fmt.Errorf("pair objects: %w", err)
	}
	type obj struct {
		id                   int64
		src, path, member    string
		bucket, key, version string
	}
	var objs []obj
	for rows.Next() {
		var o obj
		if err := rows.Scan(&o.id, &o.src, &o.path, &o.member); err != nil {
			rows.Close()
			return 0, err
		}
		inner := o.member
		if i := strings.LastIndex(inner, "!/"); i >= 0 {
			inner = inner[i+2:]
		}
		o.bucket, o.key, o.version = objectKey("", path.Clean("/" + inner)[1:])
		objs = append(objs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(objs) == 0 {
		return 0, nil
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	for _, o := range objs {
		if _, err := tx.ExecContext(ctx, "UPDATE evidence SET kind = ?, s3_bucket = ?, s3_key = ? WHERE id = ?",
			store.KindObject, nullIfEmpty(o.bucket), nullIfEmpty(o.key), o.id); err != nil {
			return 0, err
		}
	}
	return len(objs), tx.Commit()
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
