package store

import (
	"context"
	"fmt"
)

// Access-log correlation's working tables (on the scratch connection):
// the requests on AWSLogs/ keys that can change or copy a key, with
// CloudTrail's own deliveries among them (v_req), and the digest and log
// items each request touched (v_touch), so that neither is held in
// memory, however many lines the access logs hold.
const accessTables = `
CREATE TEMP TABLE v_req (
	seq      INTEGER PRIMARY KEY, -- the order of the lines (time, file, line)
	suffix   TEXT NOT NULL,       -- the key's AWSLogs/... suffix
	delivery INTEGER NOT NULL,    -- CloudTrail's own REST.PUT.OBJECT
	body     BLOB NOT NULL        -- the request, as verify encodes it
);
CREATE TEMP TABLE v_touch (
	seq        INTEGER PRIMARY KEY,
	req        INTEGER NOT NULL,
	kind_order INTEGER NOT NULL,
	key        TEXT NOT NULL,
	path       TEXT NOT NULL,
	body       BLOB NOT NULL
);
`

const accessIndexes = `
CREATE INDEX temp.v_req_suffix ON v_req(delivery, suffix, seq);
CREATE INDEX temp.v_req_pages ON v_req(delivery, seq);
CREATE INDEX temp.v_touch_req ON v_touch(req, kind_order, key, path, seq);
`

// RequestWriter fills the request table; Close makes its indexes.
type RequestWriter struct {
	x   *Scratch
	b   *batch
	seq int64
}

// RequestWriter makes the correlation working tables and returns the
// writer of their requests.
func (x *Scratch) RequestWriter(ctx context.Context) (*RequestWriter, error) {
	if _, err := x.exec(ctx, accessTables); err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	return &RequestWriter{x: x, b: x.batch("INSERT INTO v_req VALUES (?, ?, ?, ?)")}, nil
}

// Add records a request, after those added before it.
func (w *RequestWriter) Add(ctx context.Context, suffix string, delivery bool, body []byte) error {
	w.seq++
	return w.b.add(ctx, w.seq, suffix, delivery, body)
}

// Close writes what is buffered and makes the indexes.
func (w *RequestWriter) Close(ctx context.Context) error {
	if err := w.b.flush(ctx); err != nil {
		return err
	}
	if _, err := w.x.exec(ctx, accessIndexes); err != nil {
		return fmt.Errorf("verify's working tables: %w", err)
	}
	return nil
}

// StoredRequest is a recorded request.
type StoredRequest struct {
	Seq  int64
	Body []byte
}

// RequestsOn returns the requests (CloudTrail's deliveries left out) on
// the key with AWSLogs/ suffix, in line order.
func (x *Scratch) RequestsOn(ctx context.Context, suffix string) ([]StoredRequest, error) {
	return x.requests(ctx, "delivery = 0 AND suffix = ? ORDER BY seq", suffix)
}

// RequestSuffixes returns the distinct suffixes of the requests
// (deliveries left out), or ok false when there are more than limit.
func (x *Scratch) RequestSuffixes(ctx context.Context, limit int) (suffixes []string, ok bool, err error) {
	out, err := x.strings(ctx, "SELECT DISTINCT suffix FROM v_req WHERE delivery = 0 LIMIT ?", limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return nil, false, nil
	}
	return out, true, nil
}

// requestPageWhere is RequestPages' page (on v_req_pages).
const requestPageWhere = "delivery = ? AND seq > ? ORDER BY seq LIMIT 512"

// RequestPages calls fn with the requests — CloudTrail's deliveries, or
// the others — in line order, a page at a time; between pages the
// connection is free.
func (x *Scratch) RequestPages(ctx context.Context, delivery bool, fn func([]StoredRequest) error) error {
	return eachPage(func(after int64) ([]StoredRequest, error) {
		return x.requests(ctx, requestPageWhere, delivery, after)
	}, func(r StoredRequest) int64 { return r.Seq }, fn)
}

func (x *Scratch) requests(ctx context.Context, where string, args ...any) ([]StoredRequest, error) {
	rows, err := x.query(ctx, "SELECT seq, body FROM v_req WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	defer rows.Close()
	var out []StoredRequest
	for rows.Next() {
		var r StoredRequest
		if err := rows.Scan(&r.Seq, &r.Body); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TouchWriter records which items each request touched.
type TouchWriter struct{ b *batch }

// TouchWriter returns the writer of touches (after RequestWriter).
func (x *Scratch) TouchWriter() *TouchWriter {
	return &TouchWriter{x.batch("INSERT INTO v_touch(req, kind_order, key, path, body) VALUES (?, ?, ?, ?, ?)")}
}

// Add records that request req touched an item (kindOrder, key and path
// order the touches of a request).
func (w *TouchWriter) Add(ctx context.Context, req int64, kindOrder int, key, path string, body []byte) error {
	return w.b.add(ctx, req, kindOrder, key, path, body)
}

// Flush writes what is buffered (before Touches is asked).
func (w *TouchWriter) Flush(ctx context.Context) error { return w.b.flush(ctx) }

// Touches returns the items request req touched, in (kind order, key,
// path) order, then as added.
func (x *Scratch) Touches(ctx context.Context, req int64) ([][]byte, error) {
	rows, err := x.query(ctx, "SELECT body FROM v_touch WHERE req = ? ORDER BY kind_order, key, path, seq", req)
	if err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
