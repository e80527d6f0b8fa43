package ingest

import (
	"context"
	"fmt"
	"slices"
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
		tx, err := c.DB.BeginTx(ctx, nil)
		if err != nil {
			return total, err
		}
		for _, o := range objs {
			if _, err := tx.ExecContext(ctx, "UPDATE evidence SET kind = ?, s3_bucket = ?, s3_key = ? WHERE id = ?",
				store.KindObject, nullIfEmpty(o.bucket), nullIfEmpty(o.key), o.id); err != nil {
				tx.Rollback()
				return total, err
			}
		}
		if err := tx.Commit(); err != nil {
			return total, err
		}
		total += len(objs)
	}
}

// pairPageSize is how many candidate members pairObjects reads at a time.
const pairPageSize = 1000

type pairObj struct {
	id                   int64
	names                []string
	index                []int
	path, member         string
	bucket, key, version string
}

// pairPage finds the objects among the next page of candidates after id
// after; last is the page's last id (0: no more).
func pairPage(ctx context.Context, c *store.Case, after int64) (objs []pairObj, last int64, err error) {
	rows, err := c.DB.QueryContext(ctx, `SELECT o.id, o.path, o.member, coalesce(o.member_path, ''), coalesce(o.member_index, '')
		FROM evidence o WHERE o.kind = 'unknown' AND o.member <> '' AND o.error IS NULL AND o.id > ? ORDER BY o.id LIMIT ?`,
		after, pairPageSize)
	if err != nil {
		return nil, 0, fmt.Errorf("pair objects: %w", err)
	}
	var cands []pairObj
	for rows.Next() {
		var o pairObj
		var mp, mi string
		if err := rows.Scan(&o.id, &o.path, &o.member, &mp, &mi); err != nil {
			rows.Close()
			return nil, 0, err
		}
		ev := store.Evidence{Path: o.path, Member: o.member}
		if ev.MemberPath, err = store.DecodeMemberPath(mp); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("pair objects: evidence %d: %w", o.id, err)
		}
		if o.index, err = store.DecodeMemberIndex(mi); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("pair objects: evidence %d: %w", o.id, err)
		}
		o.names = ev.Names()
		cands = append(cands, o)
		last = o.id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, o := range cands {
		li := len(o.names) - 1
		found := false
		for _, suf := range []string{".metadata.json", ".attributes.json"} {
			side := append(append([]string{}, o.names[:li]...), o.names[li]+suf)
			// A sidecar in the same archive at the same level: same name
			// key, and (when positions are known) the same enclosing
			// archives by position, so that of two nested archives of one
			// name neither pairs with the other's members.
			n, err := sidecarsAt(ctx, c, o.path, store.NameKey(o.path, side), o.index)
			if err != nil {
				return nil, 0, err
			}
			if n == 0 && o.names[li] == o.member {
				// A sidecar recorded before name_key existed.
				if err := c.DB.QueryRowContext(ctx, `SELECT count(*) FROM evidence WHERE path = ? AND name_key IS NULL
					AND member = ? AND kind = 'object_metadata'`, o.path, o.member+suf).Scan(&n); err != nil {
					return nil, 0, fmt.Errorf("pair objects: %w", err)
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
		o.bucket, o.key, o.version = objectKey("", store.CleanName(o.names[li]))
		objs = append(objs, o)
	}
	return objs, last, nil
}

// sidecarsAt counts the object_metadata items at name key nk of the
// archive at p whose enclosing archives have the positions of index's
// (all but the last; index nil: any).
func sidecarsAt(ctx context.Context, c *store.Case, p, nk string, index []int) (int, error) {
	rows, err := c.DB.QueryContext(ctx, `SELECT coalesce(member_index, '') FROM evidence WHERE path = ? AND name_key = ?
		AND kind = 'object_metadata'`, p, nk)
	if err != nil {
		return 0, fmt.Errorf("pair objects: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var mi string
		if err := rows.Scan(&mi); err != nil {
			return 0, fmt.Errorf("pair objects: %w", err)
		}
		si, err := store.DecodeMemberIndex(mi)
		if err != nil {
			return 0, fmt.Errorf("pair objects: %w", err)
		}
		if index == nil || si == nil || len(si) == len(index) && slices.Equal(si[:len(si)-1], index[:len(index)-1]) {
			n++
		}
	}
	return n, rows.Err()
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
