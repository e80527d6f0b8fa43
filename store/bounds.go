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
	rows, err := c.DB.QueryContext(ctx, "SELECT id, ingested_at FROM evidence WHERE kind = ?", kind)
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

// EventsNear reports whether the case holds a record whose recipient
// account (else userIdentity account) is account and whose awsRegion is
// region with event_time in [from, to] (near), and whether it holds any
// record of that account and region at all (any).
func (c *Case) EventsNear(ctx context.Context, account, region, from, to string) (near, any bool, err error) {
	var n, a sql.NullInt64
	err = c.DB.QueryRowContext(ctx, `SELECT
		(SELECT 1 FROM ct_events WHERE event_time >= ? AND event_time <= ?
			AND coalesce(recipient_account_id, account_id) = ? AND aws_region = ? LIMIT 1),
		(SELECT 1 FROM ct_events WHERE coalesce(recipient_account_id, account_id) = ? AND aws_region = ? LIMIT 1)`,
		from, to, account, region, account, region).Scan(&n, &a)
	if err != nil {
		return false, false, fmt.Errorf("read event times: %w", err)
	}
	return n.Valid, a.Valid, nil
}
