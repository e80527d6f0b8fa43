// Package casetest gives tests a connection of their own to a case file,
// to read it or tamper with it as an auditor or an attacker would:
// through the SQLite file, not through package store's API (whose
// *sql.DB is for package store only).
package casetest

import (
	"database/sql"
	"net/url"
	"testing"

	_ "modernc.org/sqlite" // registers the "sqlite" driver, as package store does

	"github.com/forensic-dev/forensic/store"
)

// DB returns a connection pool to the file of c, read-write, with the
// pragmas of store.Open that change what a statement does or waits for
// (foreign_keys on, a busy timeout of 10 s). It is closed when the test
// ends.
//
// The pool keeps no idle connection: each statement runs on a connection
// opened for it and closed when it is done (for a query, when its rows
// are closed), and each one commits as it ends. So every statement sees
// what the case committed before it, what it writes is committed before
// the test goes on (a verify that follows reads it), and between
// statements the test holds the case open nowhere: a writer that needs
// the case to itself (ingest switches it to a rollback journal for its
// load) runs as it would without the test.
func DB(t testing.TB, c *store.Case) *sql.DB {
	t.Helper()
	dsn := "file:" + (&url.URL{Path: c.Path}).EscapedPath() +
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("open case %s: %v", c.Path, err)
	}
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { db.Close() })
	return db
}
