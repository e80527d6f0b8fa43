package store

import (
	"context"
	"fmt"
	"slices"
)

// The queries of ingest's object pairing: after every ingest, an archive
// member recognised as nothing else (kind unknown) that has a metadata
// export beside it becomes an S3 object (see ingest's pairObjects, which
// decides which sidecar names to look for).

// PairCandidates returns up to limit archive members of kind unknown
// recorded without an error, with an id above after, in id order: the
// members that may be S3 objects. Each has ID, Path, Member, MemberPath
// and MemberIndex set.
func (c *Case) PairCandidates(ctx context.Context, after int64, limit int) ([]Evidence, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT o.id, o.path, o.member, coalesce(o.member_path, ''), coalesce(o.member_index, '')
		FROM evidence o WHERE o.kind = 'unknown' AND o.member <> '' AND o.error IS NULL AND o.id > ? ORDER BY o.id LIMIT ?`,
		after, limit)
	if err != nil {
		return nil, fmt.Errorf("pair objects: %w", err)
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		var ev Evidence
		var mp, mi string
		if err := rows.Scan(&ev.ID, &ev.Path, &ev.Member, &mp, &mi); err != nil {
			return nil, err
		}
		if ev.MemberPath, err = DecodeMemberPath(mp); err != nil {
			return nil, fmt.Errorf("pair objects: evidence %d: %w", ev.ID, err)
		}
		if ev.MemberIndex, err = DecodeMemberIndex(mi); err != nil {
			return nil, fmt.Errorf("pair objects: evidence %d: %w", ev.ID, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// CountSidecars counts the object_metadata items at name key nameKey of
// the archive at path (see NameKey) whose enclosing archives have the
// positions of index's (all but the last; index nil, or an item recorded
// without positions: any). So of two nested archives of one name neither
// pairs with the other's members.
func (c *Case) CountSidecars(ctx context.Context, path, nameKey string, index []int) (int, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT coalesce(member_index, '') FROM evidence WHERE path = ? AND name_key = ?
		AND kind = 'object_metadata'`, path, nameKey)
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
		si, err := DecodeMemberIndex(mi)
		if err != nil {
			return 0, fmt.Errorf("pair objects: %w", err)
		}
		if index == nil || si == nil || len(si) == len(index) && slices.Equal(si[:len(si)-1], index[:len(index)-1]) {
			n++
		}
	}
	return n, rows.Err()
}

// CountLegacySidecars counts the object_metadata items of the archive at
// path named member that were recorded before the case kept name keys.
func (c *Case) CountLegacySidecars(ctx context.Context, path, member string) (int, error) {
	var n int
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM evidence WHERE path = ? AND name_key IS NULL
		AND member = ? AND kind = 'object_metadata'`, path, member).Scan(&n); err != nil {
		return 0, fmt.Errorf("pair objects: %w", err)
	}
	return n, nil
}

// PairedObject is an evidence item found to be an S3 object: its bucket
// and key ("" when not known).
type PairedObject struct {
	ID          int64
	Bucket, Key string
}

// MarkObjects records, in one transaction, that each of objs is an S3
// object (kind s3_object, with its bucket and key).
func (c *Case) MarkObjects(ctx context.Context, objs []PairedObject) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if _, err := tx.ExecContext(ctx, "UPDATE evidence SET kind = ?, s3_bucket = ?, s3_key = ? WHERE id = ?",
			KindObject, nullStr(o.Bucket), nullStr(o.Key), o.ID); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}
