package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
)

// rawConn runs statements on a driver connection with a cache of
// prepared statements kept for the connection's life.
type rawConn struct {
	conn  driver.ConnPrepareContext
	stmts map[string]driver.Stmt
	args  []driver.NamedValue
}

func newRawConn(dc any) (*rawConn, error) {
	c, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver connection %T cannot prepare statements", dc)
	}
	return &rawConn{conn: c, stmts: map[string]driver.Stmt{}}, nil
}

func (x *rawConn) close() {
	for _, s := range x.stmts {
		s.Close()
	}
}

func (x *rawConn) prepare(ctx context.Context, q string) (driver.Stmt, error) {
	if s, ok := x.stmts[q]; ok {
		return s, nil
	}
	s, err := x.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	x.stmts[q] = s
	return s, nil
}

// bind converts arguments to driver values: nil, int64, float64, bool,
// []byte, string.
func (x *rawConn) bind(args []any) ([]driver.NamedValue, error) {
	x.args = x.args[:0]
	for i, a := range args {
		var v driver.Value
		switch t := a.(type) {
		case nil, int64, float64, bool, []byte, string:
			v = t
		case int:
			v = int64(t)
		case *string:
			if t != nil {
				v = *t
			}
		default:
			return nil, fmt.Errorf("argument %d: unsupported type %T", i+1, a)
		}
		x.args = append(x.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return x.args, nil
}

// exec runs a statement and returns the last inserted row id.
func (x *rawConn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	s, err := x.prepare(ctx, q)
	if err != nil {
		return 0, err
	}
	nv, err := x.bind(args)
	if err != nil {
		return 0, err
	}
	res, err := s.(driver.StmtExecContext).ExecContext(ctx, nv)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// queryInt returns the first column of the first row as an integer, and
// whether there was a row.
func (x *rawConn) queryInt(ctx context.Context, q string, args ...any) (int64, bool, error) {
	v, found, err := x.queryValue(ctx, q, args...)
	if err != nil || !found {
		return 0, found, err
	}
	switch v := v.(type) {
	case int64:
		return v, true, nil
	case nil:
		return 0, true, nil
	}
	return 0, true, fmt.Errorf("query %q: column is %T, not an integer", q, v)
}

// queryText returns the first column of the first row as text ("" when
// there is no row).
func (x *rawConn) queryText(ctx context.Context, q string, args ...any) (string, error) {
	v, _, err := x.queryValue(ctx, q, args...)
	switch v := v.(type) {
	case string:
		return v, err
	case []byte:
		return string(v), err
	}
	return "", err
}

// queryValue returns the first column of the first row, and whether there
// was a row.
func (x *rawConn) queryValue(ctx context.Context, q string, args ...any) (driver.Value, bool, error) {
	s, err := x.prepare(ctx, q)
	if err != nil {
		return nil, false, err
	}
	nv, err := x.bind(args)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(ctx, nv)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			return nil, false, nil
		}
		return nil, false, err
	}
	return dest[0], true, nil
}
