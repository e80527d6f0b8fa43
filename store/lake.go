package store

import (
	"context"
	"fmt"
)

// LakeSigns returns the bytes of every CloudTrail Lake sign file the case
// holds, by evidence id. Sign files are small (ingest caps what it
// reads whole), and a case holds one per query exported.
func (c *Case) LakeSigns(ctx context.Context) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	if ok, err := c.tableExists(ctx, "lake_sign_files"); err != nil || !ok {
		return out, err
	}
	rows, err := c.query(ctx, "SELECT evidence_id, raw FROM lake_sign_files ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read lake sign files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("read lake sign files: %w", err)
		}
		out[id] = raw
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read lake sign files: %w", err)
	}
	return out, nil
}

// LakeStatus is the status of one CloudTrail Lake file, as verify
// recorded it.
type LakeStatus struct {
	Kind, Status, S3Key, Path string
	Detail                    string // JSON
}

// LakeStatuses returns the statuses of every CloudTrail Lake sign file and
// result file (valid ones too), sign files first, each kind by key and
// path.
func (c *Case) LakeStatuses(ctx context.Context) ([]LakeStatus, error) {
	if ok, err := c.tableExists(ctx, "item_status"); err != nil || !ok {
		return nil, err
	}
	rows, err := c.query(ctx, `SELECT s.kind, s.status, coalesce(s.s3_key, ''),
			coalesce(e.path || CASE WHEN e.member <> '' THEN '!/' || e.member ELSE '' END, ''), coalesce(s.detail, '{}')
		FROM item_status s LEFT JOIN evidence e ON e.id = s.evidence_id
		WHERE s.kind IN ('lake_sign_file', 'lake_result')
		ORDER BY s.kind DESC, coalesce(s.s3_key, ''), coalesce(e.path, ''), coalesce(e.member, ''), s.id`)
	if err != nil {
		return nil, fmt.Errorf("read lake statuses: %w", err)
	}
	defer rows.Close()
	var out []LakeStatus
	for rows.Next() {
		var s LakeStatus
		if err := rows.Scan(&s.Kind, &s.Status, &s.S3Key, &s.Path, &s.Detail); err != nil {
			return nil, fmt.Errorf("read lake statuses: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// LakeResultFound is an evidence item recognised as a CloudTrail Lake
// result file after the walk (an archive member beside a sign file).
type LakeResultFound struct {
	ID     int64
	Folder string
	Note   string // why its CSV is not indexed
}

// MarkLakeResults makes the unknown items found a Lake result file each,
// with a lake_results row that says why its CSV was not indexed.
func (c *Case) MarkLakeResults(ctx context.Context, found []LakeResultFound) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range found {
		res, err := tx.ExecContext(ctx, "UPDATE evidence SET kind = ? WHERE id = ? AND kind = ?", KindLakeResult, f.ID, KindUnknown)
		if err != nil {
			return fmt.Errorf("mark lake result %d: %w", f.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO lake_results(evidence_id, folder, error) VALUES (?,?,?)", f.ID, f.Folder, f.Note); err != nil {
			return fmt.Errorf("mark lake result %d: %w", f.ID, err)
		}
	}
	return tx.Commit()
}
