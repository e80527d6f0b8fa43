package casetest_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/store"
)

func TestDB(t *testing.T) {
	ctx := context.Background()
	c, err := store.Open(ctx, filepath.Join(t.TempDir(), "case.db"))
	require.NoError(t, err)
	defer c.Close()
	db := casetest.DB(t, c)
	for pragma, want := range map[string]int{"foreign_keys": 1, "busy_timeout": 10000} {
		var got int
		require.NoError(t, db.QueryRow("PRAGMA "+pragma).Scan(&got))
		assert.Equal(t, want, got, pragma)
	}

	// A write through it is committed: the case reads it next.
	_, err = db.Exec("UPDATE case_info SET value = 'tampered' WHERE key = 'case_id'")
	require.NoError(t, err)
	id, err := c.CaseID(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tampered", id)
}

// TestDBHoldsNothing: between statements the test holds the case open
// nowhere, so a connection can still take it to itself (as ingest's
// writer does to switch to a rollback journal).
func TestDBHoldsNothing(t *testing.T) {
	ctx := context.Background()
	c, err := store.Open(ctx, filepath.Join(t.TempDir(), "case.db"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	db := casetest.DB(t, c)
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM evidence").Scan(&n))

	other, err := sql.Open("sqlite", c.Path)
	require.NoError(t, err)
	defer other.Close()
	var mode string
	require.NoError(t, other.QueryRow("PRAGMA journal_mode = TRUNCATE").Scan(&mode))
	assert.Equal(t, "truncate", mode, "another connection kept the case open in WAL mode")
}
