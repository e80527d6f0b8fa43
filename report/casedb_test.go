package report

import (
	"database/sql"
	"net/url"
	"testing"

	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/require"
)

// caseDB opens the case file of c a second time, with database/sql, for
// tests that read or change the case behind store's back, as someone
// with the sqlite3 shell would.
func caseDB(t testing.TB, c *store.Case) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: c.Path}).EscapedPath()+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
