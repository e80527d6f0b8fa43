package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryReadOnly(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	_, err := c.QueryReadOnly(ctx, "SELECT count(*) FROM evidence")
	require.Error(t, err, "a case opened read-write")
	assert.Contains(t, err.Error(), "not opened read-only")

	ro, err := OpenReadOnly(ctx, c.Path)
	require.NoError(t, err)
	defer ro.Close()
	rows, err := ro.QueryReadOnly(ctx, "SELECT count(*) FROM evidence")
	require.NoError(t, err)
	require.True(t, rows.Next())
	var n int
	require.NoError(t, rows.Scan(&n))
	require.NoError(t, rows.Close())
	assert.Equal(t, 0, n)

	for _, q := range []string{"DELETE FROM evidence", "PRAGMA user_version = 3", "/* x */ DROP TABLE evidence"} {
		_, err := ro.QueryReadOnly(ctx, q)
		if assert.Error(t, err, q) {
			assert.Contains(t, err.Error(), "read-only statements", q)
		}
	}
	// A write IsWriteStatement lets through: the connection refuses it.
	q := "WITH x AS (SELECT 1) DELETE FROM case_info"
	rows, err = ro.QueryReadOnly(ctx, q)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if assert.Error(t, err, q) {
		assert.Contains(t, err.Error(), "readonly", q)
	}
	id, err := c.CaseID(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, id, "case_info unchanged")
}
