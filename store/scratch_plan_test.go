package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScratchPagesUseIndexes: the pages verify reads from its working
// tables a page at a time seek an index, never scan or sort the table
// again for each page (which would make the passes quadratic in the
// number of members or access-log lines).
func TestScratchPagesUseIndexes(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "case.db")
	c, err := Open(ctx, p)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	x, err := OpenScratch(ctx, p)
	require.NoError(t, err)
	defer x.Close()
	require.NoError(t, x.IndexLogMembers(ctx))
	w, err := x.RequestWriter(ctx)
	require.NoError(t, err)
	require.NoError(t, w.Close(ctx))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{unseenMembersQuery, []any{"a.tar"}},
		{"SELECT seq, body FROM v_req WHERE " + requestPageWhere, []any{1, 0}},
		{"SELECT evidence_id, sort_key FROM v_members WHERE path = ? AND sort_key IS NOT NULL AND (sort_key, evidence_id) > (?, ?) ORDER BY sort_key, evidence_id LIMIT ?", []any{"a.tar", []byte{}, 0, 256}},
	} {
		rows, err := x.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		assert.Contains(t, all, "USING", q.sql)
		assert.NotContains(t, all, "SCAN", q.sql)
		assert.NotContains(t, all, "TEMP B-TREE", q.sql)
	}
}
