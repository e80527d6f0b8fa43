package verify

import (
	"encoding/binary"
	"errors"

	"github.com/forensic-dev/forensic/internal/verdict"
)

// The rows verify keeps in its working tables for correlation (requests
// and what each touched) are encoded by this codec, not JSON: their
// strings come from the evidence and are kept byte for byte (JSON would
// replace invalid UTF-8, and a key that changed on its way through the
// table would no longer match the evidence).

// rowWriter appends fields to a row: strings length-prefixed, numbers as
// varints.
type rowWriter struct{ b []byte }

func (w *rowWriter) str(ss ...string) {
	for _, s := range ss {
		w.b = binary.AppendUvarint(w.b, uint64(len(s)))
		w.b = append(w.b, s...)
	}
}

func (w *rowWriter) num(n int64) { w.b = binary.AppendVarint(w.b, n) }

func (w *rowWriter) flag(v bool) {
	if v {
		w.num(1)
	} else {
		w.num(0)
	}
}

// rowReader reads the fields back, in the order written; a short or
// malformed row sets err.
type rowReader struct {
	b   []byte
	err error
}

var errRow = errors.New("malformed working-table row")

func (r *rowReader) str(dst ...*string) {
	for _, d := range dst {
		n, k := binary.Uvarint(r.b)
		if k <= 0 || uint64(len(r.b)-k) < n {
			r.err = errRow
			return
		}
		*d = string(r.b[k : k+int(n)])
		r.b = r.b[k+int(n):]
	}
}

func (r *rowReader) num() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errRow
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *rowReader) flag() bool { return r.num() != 0 }

func (r *rowReader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errRow
	}
	return r.err
}

func encodeRequest(q verdict.S3Request) []byte {
	var w rowWriter
	w.str(q.AccessLog, q.Bucket, q.Class, q.ErrorCode, q.HTTPStatus, q.Key, q.Operation, q.RemoteIP, q.RequestID,
		q.Requester, q.Time, q.UserAgent, q.VersionID)
	w.num(q.EvidenceID)
	w.num(int64(q.Line))
	w.flag(q.Succeeded)
	return w.b
}

func decodeRequestRow(b []byte) (verdict.S3Request, error) {
	var q verdict.S3Request
	r := rowReader{b: b}
	r.str(&q.AccessLog, &q.Bucket, &q.Class, &q.ErrorCode, &q.HTTPStatus, &q.Key, &q.Operation, &q.RemoteIP, &q.RequestID,
		&q.Requester, &q.Time, &q.UserAgent, &q.VersionID)
	q.EvidenceID = r.num()
	q.Line = int(r.num())
	q.Succeeded = r.flag()
	return q, r.done()
}

func encodeTouch(t touch) []byte {
	var w rowWriter
	w.str(t.Kind, t.Bucket, t.Key, t.Status, t.Path, t.Account, t.Region, t.Trail)
	w.num(t.EvidenceID)
	w.flag(t.Explained)
	return w.b
}

func decodeTouch(b []byte) (touch, error) {
	var t touch
	r := rowReader{b: b}
	r.str(&t.Kind, &t.Bucket, &t.Key, &t.Status, &t.Path, &t.Account, &t.Region, &t.Trail)
	t.EvidenceID = r.num()
	t.Explained = r.flag()
	return t, r.done()
}
