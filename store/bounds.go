package store

import (
	"context"
	"database/sql"
	"fmt"
)

// IngestTimes returns, for every evidence item of kind, when it was read
// into the case (evidence.ingested_at as recorded, RFC 3339), by evidence
// id.
func (c *Case) IngestTimes(ctx context.Context, kind string) (map[int64]string, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT id, ingested_at FROM evidence WHERE kind = ?", kind)
	if err != nil {
		return nil, fmt.Errorf("read ingest times: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var at sql.NullString
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("read ingest times: %w", err)
		}
		out[id] = at.String
	}
	return out, rows.Err()
}

// HasEvents reports whether the case holds any record whose recipient
// account (else userIdentity account) is account and whose awsRegion is
// region.
func (c *Case) HasEvents(ctx context.Context, account, region string) (bool, error) {
	return c.exists(ctx, `SELECT 1 FROM ct_events WHERE coalesce(recipient_account_id, account_id) = ? AND aws_region = ? LIMIT 1`,
		account, region)
}

// HasEventBetween reports whether the case holds such a record with
// event_time in [from, to].
func (c *Case) HasEventBetween(ctx context.Context, account, region, from, to string) (bool, error) {
	return c.exists(ctx, `SELECT 1 FROM ct_events WHERE event_time >= ? AND event_time <= ?
		AND coalesce(recipient_account_id, account_id) = ? AND aws_region = ? LIMIT 1`, from, to, account, region)
}

func (c *Case) exists(ctx context.Context, q string, args ...any) (bool, error) {
	var one int
	switch err := c.db.QueryRowContext(ctx, q, args...).Scan(&one); {
	case err == sql.ErrNoRows:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read event times: %w", err)
	}
	return true, nil
}
