package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// carryPage is how many rows EachCarriedItem and EachCarriedObjectFinding
// read at a time.
const carryPage = 1000

// EachCarriedItem calls fn with every item_status row of the kind that
// the case's last verification recorded (read as last committed, so a
// verification under way on the case's connection does not hide them),
// in the order recorded, a page at a time (no statement is open during
// fn). Path and member fields are not filled.
func (x *Scratch) EachCarriedItem(ctx context.Context, kind string, fn func(ItemStatus) error) error {
	type row struct {
		id int64
		it ItemStatus
	}
	return eachPage(func(after int64) ([]row, error) {
		rows, err := x.query(ctx, `SELECT id, kind, coalesce(s3_bucket, ''), coalesce(s3_key, ''), coalesce(evidence_id, 0), status,
			detail, coalesce(account, ''), coalesce(region, ''), coalesce(trail, ''), checks
			FROM item_status WHERE kind = ? AND id > ? ORDER BY id LIMIT ?`, kind, after, carryPage)
		if err != nil {
			return nil, fmt.Errorf("read the statuses to carry: %w", err)
		}
		defer rows.Close()
		var page []row
		for rows.Next() {
			var r row
			var detail, checks sql.NullString
			if err := rows.Scan(&r.id, &r.it.Kind, &r.it.S3Bucket, &r.it.S3Key, &r.it.EvidenceID, &r.it.Status, &detail,
				&r.it.Account, &r.it.Region, &r.it.Trail, &checks); err != nil {
				return nil, fmt.Errorf("read the statuses to carry: %w", err)
			}
			if detail.Valid {
				r.it.Detail = json.RawMessage(detail.String)
			}
			if checks.Valid {
				r.it.Checks = json.RawMessage(checks.String)
			}
			page = append(page, r)
		}
		return page, rows.Err()
	}, func(r row) int64 { return r.id }, func(page []row) error {
		for _, r := range page {
			if err := fn(r.it); err != nil {
				return err
			}
		}
		return nil
	})
}

// EachCarriedObjectFinding calls fn with every finding of the case's last
// verification made of object copies, in the order recorded: conflict
// findings whose detail kind is object, and rehash findings that name
// the evidence of an object copy (one that could not be read again, or
// had changed since ingest).
func (x *Scratch) EachCarriedObjectFinding(ctx context.Context, fn func(Finding) error) error {
	type row struct {
		id int64
		f  Finding
	}
	return eachPage(func(after int64) ([]row, error) {
		rows, err := x.query(ctx, `SELECT f.id, f.type, coalesce(f.severity, 'error'), f.summary, coalesce(f.chain, ''),
			coalesce(f.account, ''), coalesce(f.region, ''), coalesce(f.trail, ''), coalesce(f.start_time, ''),
			coalesce(f.end_time, ''), f.detail
			FROM findings f
			WHERE f.id > ? AND json_valid(f.detail) AND (
				(f.type = 'conflict' AND json_extract(f.detail, '$.kind') = 'object') OR
				(f.type = 'rehash' AND EXISTS (SELECT 1 FROM item_status s WHERE s.kind = 'object'
					AND s.evidence_id = json_extract(f.detail, '$.evidence_id'))))
			ORDER BY f.id LIMIT ?`, after, carryPage)
		if err != nil {
			return nil, fmt.Errorf("read the findings to carry: %w", err)
		}
		defer rows.Close()
		var page []row
		for rows.Next() {
			var r row
			var d string
			if err := rows.Scan(&r.id, &r.f.Type, &r.f.Severity, &r.f.Summary, &r.f.Chain, &r.f.Account, &r.f.Region,
				&r.f.Trail, &r.f.StartTime, &r.f.EndTime, &d); err != nil {
				return nil, fmt.Errorf("read the findings to carry: %w", err)
			}
			r.f.Detail = json.RawMessage(d)
			page = append(page, r)
		}
		return page, rows.Err()
	}, func(r row) int64 { return r.id }, func(page []row) error {
		for _, r := range page {
			if err := fn(r.f); err != nil {
				return err
			}
		}
		return nil
	})
}
