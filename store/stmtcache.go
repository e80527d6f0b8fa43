package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the prepared statements of a connection that runs the
// same few queries once per item (verify's scratch connection): SQLite
// compiles a statement in tens of microseconds, several times what an
// indexed lookup then costs.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache; queries beyond it are compiled each
// time, as without a cache.
const maxCachedStmts = 128

// stmt returns the cached statement of q, preparing it on first use; nil
// when the case keeps no cache, the cache is full, or q does not prepare
// (the caller then runs q directly and reports its error).
func (c *Case) stmt(ctx context.Context, q string) *sql.Stmt {
	s := c.stmts
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.m[q]; ok {
		return st
	}
	if len(s.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if s.m == nil {
		s.m = map[string]*sql.Stmt{}
	}
	s.m[q] = st
	return st
}

func (c *Case) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, q, args...)
}

func (c *Case) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, q, args...)
}

func (c *Case) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, q, args...)
}

// closeStmts closes the cached statements.
func (c *Case) closeStmts() {
	if c.stmts == nil {
		return
	}
	c.stmts.mu.Lock()
	defer c.stmts.mu.Unlock()
	for _, st := range c.stmts.m {
		st.Close()
	}
	c.stmts.m = nil
}
