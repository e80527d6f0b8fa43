package store

import (
	"context"
	"database/sql"
	"fmt"
)

// QueryReadOnly runs q, an analyst's own SQL, on a case opened with
// OpenReadOnly and returns its rows, which the caller closes. What
// guarantees that q cannot change the case is the connection (mode=ro,
// query_only): QueryReadOnly refuses a case opened read-write, and,
// first, with a clearer error, a statement IsWriteStatement calls a
// write. An error of SQLite itself (a write the connection refused
// mentions "readonly") is returned as it is.
func (c *Case) QueryReadOnly(ctx context.Context, q string) (*sql.Rows, error) {
	if !c.ReadOnly {
		return nil, fmt.Errorf("query %s: refused: the case is not opened read-only", c.Path)
	}
	if IsWriteStatement(q) {
		return nil, fmt.Errorf("query %s: refused: only read-only statements (SELECT, WITH, EXPLAIN, VALUES, PRAGMA reads) are allowed", c.Path)
	}
	return c.db.QueryContext(ctx, q)
}
