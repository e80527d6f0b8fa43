package store

import (
	"context"
	"fmt"
)

// EvidenceWithSHA256 returns every evidence row whose SHA-256 as received,
// or of its decompressed content, is one of shas (lower-case hex), in id
// order, with ID, Source, Path, Member, SHA256, ContentSHA256 and Kind
// set: verify uses it to tell a trust-anchor file that is also evidence.
func (c *Case) EvidenceWithSHA256(ctx context.Context, shas []string) ([]Evidence, error) {
	if len(shas) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2*len(shas))
	for _, s := range shas {
		args = append(args, s)
	}
	args = append(args, args...)
	in := "(?" + repeat(",?", len(shas)-1) + ")"
	rows, err := c.db.QueryContext(ctx, `SELECT id, source, path, member, sha256, coalesce(content_sha256, ''), kind
		FROM evidence WHERE sha256 IN `+in+` OR content_sha256 IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find evidence by SHA-256: %w", err)
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		var e Evidence
		if err := rows.Scan(&e.ID, &e.Source, &e.Path, &e.Member, &e.SHA256, &e.ContentSHA256, &e.Kind); err != nil {
			return nil, fmt.Errorf("find evidence by SHA-256: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
