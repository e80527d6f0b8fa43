// Package store owns the SQLite case file: its schema (embedded
// migrations, applied in order, each in its own transaction), the batching
// writer that ingest feeds, read-only access for queries, and the
// hash-chained custody log.
//
// The case file is one SQLite database (modernc.org/sqlite, pure Go) in WAL
// mode at rest, with 16 KiB pages and synchronous=NORMAL. The writer runs
// its bulk load in a rollback journal with synchronous=OFF (a killed
// process leaves a hot journal, which the next read-write open rolls
// back), then fsyncs the files and switches the case back to WAL (see
// Writer.switchToRollbackJournal and Writer.setUp). The rows go through
// the writer's own connection, opened on the SQLite library under the
// driver (rawConn), which binds values from one reused buffer. A transaction never ends in the middle of an evidence
// item, so a process killed at any moment leaves every item either fully
// recorded or absent, and running the same ingest again completes the
// case. A writer that starts on an empty table builds that table's
// random-key indexes after the load; Close (re)creates every missing index.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/forensic-dev/forensic/internal/regfile"
)

//go:embed migrations/*.sql
var migrations embed.FS

// PageSize is the SQLite page size of new case files. 16 KiB pages hold a
// whole CloudTrail record each and cut write calls: +50–100 % insert rate
// against 4 KiB pages (PERF-BASELINE.md §5).
const PageSize = 16384

// caseCacheKiB is the page cache of a connection to the case.
const caseCacheKiB = 32 << 10

// Case is an open case file.
type Case struct {
	// db is the case's connection: other packages call the typed methods
	// of Case (and tests use internal/casetest, which opens a connection
	// of its own).
	db       *sql.DB
	Path     string
	ReadOnly bool
	Now      func() time.Time

	stmts *stmtCache // nil: every query is compiled when run

	// tidy: a read-only open found no -wal and -shm beside the case, so
	// Close removes those its connection made (tidyWAL).
	tidy bool
}

// Open opens or creates the case file at path and brings its schema up to
// date.
func Open(ctx context.Context, path string) (*Case, error) {
	if err := checkExisting(path); err != nil {
		return nil, err
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(NORMAL)" +
		fmt.Sprintf("&_pragma=cache_size(%d)", -caseCacheKiB)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	// One connection: the writer is the only user, and pragmas such as
	// cache_size are per connection.
	db.SetMaxOpenConns(1)
	c := &Case{db: db, Path: path, Now: time.Now}
	// The page size takes effect only on an empty database and only before
	// it switches to WAL (a no-op on an existing case); WAL is persistent.
	for _, p := range []string{fmt.Sprintf("PRAGMA page_size = %d", PageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := db.ExecContext(ctx, p); err != nil {
			db.Close()
			return nil, fmt.Errorf("open case %s: %s: %w", path, p, err)
		}
	}
	if err := c.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	return c, nil
}

// checkExisting refuses to turn a file that is not a case into one: an
// existing non-empty file must be an SQLite database that already has the
// case schema.
func checkExisting(path string) error {
	if err := checkCaseFiles(path); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		return nil // a new case
	}
	f, err := regfile.Open(path)
	if err != nil {
		return fmt.Errorf("open case %s: %w", path, err)
	}
	defer f.Close()
	magic := make([]byte, 16)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "SQLite format 3\x00" {
		return fmt.Errorf("open case %s: the file exists and is not an SQLite database; refusing to overwrite it", path)
	}
	n, err := countCaseTables(path, "?mode=ro")
	if err != nil && hotJournal(path) {
		// A process killed mid-transaction (an ingest's bulk load) left a
		// hot journal, which a read-only connection cannot roll back and
		// without which the file is not consistent. Reading it read-write
		// rolls it back, as any SQLite client opening it does: the file
		// returns to its last committed state, then the check is made.
		n, err = countCaseTables(path, "?mode=rw")
	}
	if err != nil {
		return fmt.Errorf("open case %s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("open case %s: an SQLite database that is not a forensic case file; refusing to add tables to it", path)
	}
	return nil
}

// notCase is the schema objects of a database that say it is someone
// else's: any but a case's own, and but the migrations table, which is
// all a case holds when its creation was killed before the first
// migration committed (such a file, or one with no schema at all, is
// opened as a new case).
const notCase = "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'"

// checkCaseFiles refuses a case path, or a journal, WAL or shared-memory
// file beside it, that exists and is not a regular file: SQLite would
// open a named pipe and block on it for ever, or read a device. A path
// that does not exist is fine (a new case).
func checkCaseFiles(path string) error {
	for _, p := range []string{path, path + "-journal", path + "-wal", path + "-shm"} {
		if _, err := regfile.Check(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open case %s: %w", path, err)
		}
	}
	return nil
}

// countCaseTables is 1 or more for a forensic case (or a database with
// no schema but a case's migrations table), 0 for a database of another
// kind.
func countCaseTables(path, query string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+query)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n, others int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'case_info'").Scan(&n); err != nil {
		return 0, err
	}
	if n > 0 {
		return n, nil
	}
	if err := db.QueryRow(notCase).Scan(&others); err != nil {
		return 0, err
	}
	if others == 0 {
		return 1, nil // no schema of anyone's yet: a case whose creation did not finish
	}
	return 0, nil
}

// hotJournal reports whether a rollback journal with content sits beside
// the case: what an ingest killed in the middle of a transaction leaves.
func hotJournal(path string) bool {
	fi, err := os.Stat(path + "-journal")
	return err == nil && fi.Size() > 0
}

// OpenReadOnly opens an existing case file so that no statement can change
// it: the file is opened with mode=ro and query_only is set.
func OpenReadOnly(ctx context.Context, path string) (*Case, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	if err := checkCaseFiles(path); err != nil {
		return nil, err
	}
	tidy := !walFilesExist(path)
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var v int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM case_info").Scan(&v); err != nil {
		db.Close()
		if hotJournal(path) {
			// A hot rollback journal: an ingest was killed mid-transaction.
			// Rolling it back writes to the case, which a read-only open
			// must not do.
			return nil, fmt.Errorf("open case %s: an interrupted ingest left an unfinished transaction (%s-journal); "+
				"run the same `forensic ingest` again to roll it back and resume, then retry (%w)", path, path, err)
		}
		return nil, fmt.Errorf("open case %s: not a forensic case file: %w", path, err)
	}
	return &Case{db: db, Path: path, ReadOnly: true, Now: time.Now, tidy: tidy}, nil
}

// Close closes the database. A case opened read-only that had no -wal and
// -shm files is left without them (tidyWAL).
func (c *Case) Close() error {
	c.closeStmts()
	err := c.db.Close()
	if c.tidy {
		tidyWAL(c.Path)
	}
	return err
}

// walFilesExist reports whether a -wal or -shm file sits beside the case.
func walFilesExist(path string) bool {
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Lstat(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// tidyWAL removes the -wal and -shm files that a read-only connection
// leaves beside a case in WAL mode (it may not delete them itself). It
// does not delete them by hand: it opens the case read-write, runs no
// statement that writes, and closes it, and SQLite's own close does the
// rest — as the last connection, under the exclusive lock, it checkpoints
// the WAL (empty: nothing wrote) and removes both files. While any other
// connection has the case open (an ingest that is running, or another
// reader), SQLite does not get that lock and leaves the files, as it
// must. Callers call it only when the case had neither file before they
// opened it, so a WAL another process left is never touched. A case that
// cannot be opened read-write (a read-only medium) keeps its files.
func tidyWAL(path string) {
	if !walFilesExist(path) {
		return
	}
	if err := checkCaseFiles(path); err != nil {
		return
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=rw&_pragma=query_only(1)&_pragma=busy_timeout(0)")
	if err != nil {
		return
	}
	db.SetMaxOpenConns(1)
	var n int
	_ = db.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n) // opens the connection
	db.Close()
}

func (c *Case) migrate(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := c.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE name = ?", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := c.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)", name, c.now()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	// A case id is made once, when the case is created.
	var id string
	err = c.db.QueryRowContext(ctx, "SELECT value FROM case_info WHERE key = 'case_id'").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		_, err = c.db.ExecContext(ctx, "INSERT INTO case_info(key, value) VALUES ('case_id', ?), ('created_at', ?)", hex.EncodeToString(b), c.now())
	}
	return err
}

func (c *Case) now() string { return c.Now().UTC().Format(time.RFC3339Nano) }

// CaseID returns the case's random identifier, made when it was created.
func (c *Case) CaseID(ctx context.Context) (string, error) {
	var id string
	err := c.db.QueryRowContext(ctx, "SELECT value FROM case_info WHERE key = 'case_id'").Scan(&id)
	return id, err
}

// IsWriteStatement reports whether sql would change a database. It is a
// first line of defence with a clear message; the read-only connection is
// what actually guarantees it.
func IsWriteStatement(q string) bool {
	s := strings.ToUpper(strings.TrimSpace(stripSQLComments(q)))
	for _, p := range []string{"SELECT", "WITH", "EXPLAIN", "VALUES"} {
		if strings.HasPrefix(s, p) {
			return false
		}
	}
	if strings.HasPrefix(s, "PRAGMA") {
		// Reading a pragma is fine; setting one is not.
		return strings.Contains(s, "=")
	}
	return true
}

func stripSQLComments(q string) string {
	for {
		q = strings.TrimSpace(q)
		switch {
		case strings.HasPrefix(q, "--"):
			if i := strings.IndexByte(q, '\n'); i >= 0 {
				q = q[i+1:]
			} else {
				return ""
			}
		case strings.HasPrefix(q, "/*"):
			if i := strings.Index(q, "*/"); i >= 0 {
				q = q[i+2:]
			} else {
				return ""
			}
		default:
			return q
		}
	}
}
