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
			coalesce(`+evidencePathSQL+`, ''), coalesce(s.detail, '{}')
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

// ExportLakeSign is one CloudTrail Lake sign file, for an export.
type ExportLakeSign struct {
	EvidenceID           int64
	Folder, Path, SHA256 string
	Status               string // its verify status, "" when not verified
	Raw                  []byte
}

// ExportLakeResult is one CloudTrail Lake result file, for an export.
type ExportLakeResult struct {
	EvidenceID                  int64
	Folder, Path, S3Key, SHA256 string
	Status                      string // its verify status, "" when not verified
	Header                      string // JSON array of the CSV's column names; "" when not read
	RowCount                    *int64
	Error                       string
}

// ExportLakeRow is one indexed row of a CloudTrail Lake result file.
type ExportLakeRow struct {
	EvidenceID, RowNo int64
	Fields            string // JSON array of the row's values
	Status            string // its result file's verify status, "" when not verified
}

// lakeStatusOf is the SQL of a Lake item's first verify status.
const lakeStatusOf = `coalesce((SELECT s.status FROM item_status s WHERE s.evidence_id = %s AND s.kind = '%s' ORDER BY s.id LIMIT 1), '')`

// evidencePathSQL is an evidence item's path, archive!/member for members.
const evidencePathSQL = `e.path || CASE WHEN e.member <> '' THEN '!/' || e.member ELSE '' END`

// EachExportLakeSign calls fn for every Lake sign file in evidence order.
func (c *Case) EachExportLakeSign(ctx context.Context, fn func(*ExportLakeSign) error) error {
	if ok, err := c.tableExists(ctx, "lake_sign_files"); err != nil || !ok {
		return err
	}
	rows, err := c.query(ctx, `SELECT l.evidence_id, l.folder, `+evidencePathSQL+`, coalesce(e.sha256, ''), `+
		fmt.Sprintf(lakeStatusOf, "l.evidence_id", KindLakeSign)+`, l.raw
		FROM lake_sign_files l JOIN evidence e ON e.id = l.evidence_id ORDER BY l.evidence_id, l.id`)
	if err != nil {
		return fmt.Errorf("read lake sign files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s ExportLakeSign
		if err := rows.Scan(&s.EvidenceID, &s.Folder, &s.Path, &s.SHA256, &s.Status, &s.Raw); err != nil {
			return fmt.Errorf("read lake sign files: %w", err)
		}
		if err := fn(&s); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachExportLakeResult calls fn for every Lake result file in evidence
// order.
func (c *Case) EachExportLakeResult(ctx context.Context, fn func(*ExportLakeResult) error) error {
	if ok, err := c.tableExists(ctx, "lake_results"); err != nil || !ok {
		return err
	}
	rows, err := c.query(ctx, `SELECT l.evidence_id, l.folder, `+evidencePathSQL+`, coalesce(e.s3_key, ''), coalesce(e.sha256, ''), `+
		fmt.Sprintf(lakeStatusOf, "l.evidence_id", KindLakeResult)+`, coalesce(l.header, ''), l.row_count, coalesce(l.error, '')
		FROM lake_results l JOIN evidence e ON e.id = l.evidence_id ORDER BY l.evidence_id, l.id`)
	if err != nil {
		return fmt.Errorf("read lake results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ExportLakeResult
		if err := rows.Scan(&r.EvidenceID, &r.Folder, &r.Path, &r.S3Key, &r.SHA256, &r.Status, &r.Header, &r.RowCount, &r.Error); err != nil {
			return fmt.Errorf("read lake results: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachExportLakeRow calls fn for every indexed Lake result row, by result
// file and row number; with verifiedOnly, only the rows of result files
// verify found valid.
func (c *Case) EachExportLakeRow(ctx context.Context, verifiedOnly bool, fn func(*ExportLakeRow) error) error {
	if ok, err := c.tableExists(ctx, "lake_rows"); err != nil || !ok {
		return err
	}
	// Each result file's first status, joined once (not looked up per
	// row): SQLite gives the bare status of the row holding min(id).
	q := `SELECT r.evidence_id, r.row_no, r.fields, coalesce(st.status, '') FROM lake_rows r
		LEFT JOIN (SELECT evidence_id, status, min(id) FROM item_status WHERE kind = '` + KindLakeResult + `' GROUP BY evidence_id) st
		ON st.evidence_id = r.evidence_id`
	if verifiedOnly {
		q += ` WHERE st.status = 'valid'`
	}
	q += ` ORDER BY r.evidence_id, r.row_no, r.id`
	rows, err := c.query(ctx, q)
	if err != nil {
		return fmt.Errorf("read lake rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ExportLakeRow
		if err := rows.Scan(&r.EvidenceID, &r.RowNo, &r.Fields, &r.Status); err != nil {
			return fmt.Errorf("read lake rows: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}
