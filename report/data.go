package report

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// Reading the case. item_status and findings are read generically (every
// column, whatever migration added it), so the report carries whatever
// verification recorded.

// hasTable reports whether the case has the table (an older case may lack
// verification tables).
func hasTable(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name = ?", name).Scan(&n)
	return n > 0, err
}

// genericRows reads every row of a query as column name → value; columns
// named in jsonCols are parsed as JSON when they hold valid JSON.
func genericRows(ctx context.Context, db *sql.DB, q string, jsonCols map[string]bool, each func(obj) error, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		o := obj{}
		for i, col := range cols {
			o[col] = sqlValue(vals[i], jsonCols[col])
		}
		if err := each(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sqlValue converts a scanned SQLite value to a canonical JSON value.
func sqlValue(v any, isJSON bool) any {
	switch t := v.(type) {
	case nil:
		return nil
	case int64:
		return t
	case float64:
		return json.Number(strconv.FormatFloat(t, 'g', -1, 64))
	case bool:
		return t
	case []byte:
		if !utf8.Valid(t) {
			return "base64:" + base64.StdEncoding.EncodeToString(t)
		}
		return sqlValue(string(t), isJSON)
	case string:
		if isJSON && t != "" {
			if d, err := decodeJSON([]byte(t)); err == nil {
				return d
			}
		}
		return t
	}
	return fmt.Sprint(v)
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case json.Number:
		return t.String()
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return fmt.Sprint(v)
}

func nstr(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func nint(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

// caseInfo reads case_info as a map.
func caseInfo(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT key, value FROM case_info ORDER BY key")
	if err != nil {
		return nil, fmt.Errorf("read case_info: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// custodyObj is the report form of a custody entry: inputs and outputs
// are kept as the JSON text stored in the case, so the entry hash can be
// recomputed from the report (store.EntryHash).
func custodyObj(e store.CustodyEntry) obj {
	return obj{"seq": e.Seq, "time": e.Time, "operator": e.Operator, "host": e.Host, "tool": e.Tool,
		"command": e.Command, "args": e.Args, "inputs": string(e.Inputs), "outputs": string(e.Outputs),
		"prev_hash": e.PrevHash, "hash": e.Hash}
}

// anchorKey is one trust anchor (a supplied CloudTrail public key).
type anchorKey struct {
	File        string
	FileSHA256  string
	Fingerprint string
	Listed      string
	DER         []byte
	Encoding    string
	Bits        int64
	Start, End  string
	Region      string
}

func (k *anchorKey) pub() (*rsa.PublicKey, error) {
	if k.Encoding == "pkcs1" {
		return x509.ParsePKCS1PublicKey(k.DER)
	}
	p, err := x509.ParsePKIXPublicKey(k.DER)
	if err != nil {
		return nil, err
	}
	r, ok := p.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, want RSA", p)
	}
	return r, nil
}

// opensslKeyCommand converts key.der to key.pem.
func (k *anchorKey) opensslKeyCommand(der, pem string) string {
	if k.Encoding == "pkcs1" {
		return "openssl rsa -pubin -inform DER -RSAPublicKey_in -in " + der + " -pubout -out " + pem
	}
	return "openssl pkey -pubin -inform DER -in " + der + " -out " + pem
}

type anchors struct {
	files []obj
	keys  []*anchorKey
}

func readAnchors(ctx context.Context, db *sql.DB) (*anchors, error) {
	a := &anchors{files: []obj{}}
	ok, err := hasTable(ctx, db, "trust_anchors")
	if err != nil || !ok {
		return a, err
	}
	rows, err := db.QueryContext(ctx, `SELECT path, sha256, size, keys FROM trust_anchor_files ORDER BY path, sha256`)
	if err != nil {
		return nil, fmt.Errorf("read trust anchor files: %w", err)
	}
	for rows.Next() {
		var p, s string
		var size, n int64
		if err := rows.Scan(&p, &s, &size, &n); err != nil {
			rows.Close()
			return nil, err
		}
		a.files = append(a.files, obj{"path": p, "sha256": s, "size": size, "keys": n})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, `SELECT f.path, f.sha256, k.fingerprint, coalesce(k.listed_fingerprint, ''), k.der,
		k.encoding, coalesce(k.bits, 0), coalesce(k.validity_start, ''), coalesce(k.validity_end, ''), coalesce(k.region, '')
		FROM trust_anchors k JOIN trust_anchor_files f ON f.id = k.file_id
		ORDER BY k.fingerprint, f.path, coalesce(k.validity_start, '')`)
	if err != nil {
		return nil, fmt.Errorf("read trust anchors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		k := &anchorKey{}
		if err := rows.Scan(&k.File, &k.FileSHA256, &k.Fingerprint, &k.Listed, &k.DER, &k.Encoding, &k.Bits,
			&k.Start, &k.End, &k.Region); err != nil {
			return nil, err
		}
		a.keys = append(a.keys, k)
	}
	return a, rows.Err()
}

func (a *anchors) keyObjs() []obj {
	out := []obj{}
	for _, k := range a.keys {
		sum := sha256.Sum256(k.DER)
		o := obj{"file": k.File, "file_sha256": k.FileSHA256, "fingerprint": k.Fingerprint,
			"der_base64": base64.StdEncoding.EncodeToString(k.DER), "der_sha256": hex.EncodeToString(sum[:]),
			"encoding": k.Encoding, "bits": k.Bits, "validity_start": emptyNil(k.Start), "validity_end": emptyNil(k.End),
			"region": emptyNil(k.Region), "listed_fingerprint": emptyNil(k.Listed),
			"openssl_commands": []string{
				"echo " + base64.StdEncoding.EncodeToString(k.DER) + " | openssl base64 -d -A > key-" + k.Fingerprint + ".der",
				k.opensslKeyCommand("key-"+k.Fingerprint+".der", "key-"+k.Fingerprint+".pem"),
			}}
		out = append(out, o)
	}
	return out
}

func emptyNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// findingRows reads every finding, sorted by type, severity, chain, time
// span and summary.
func findingRows(ctx context.Context, db *sql.DB) ([]obj, error) {
	out := []obj{}
	ok, err := hasTable(ctx, db, "findings")
	if err != nil || !ok {
		return out, err
	}
	err = genericRows(ctx, db, "SELECT * FROM findings ORDER BY id", map[string]bool{"detail": true}, func(o obj) error {
		delete(o, "id")
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		for _, k := range []string{"type", "severity", "chain", "start_time", "end_time", "summary"} {
			a, b := str(out[i][k]), str(out[j][k])
			if a != b {
				return a < b
			}
		}
		return false
	})
	return out, nil
}

// statusCounts counts item_status rows by kind and status.
type statusCounts map[string]map[string]int64

func readStatusCounts(ctx context.Context, db *sql.DB) (statusCounts, error) {
	sc := statusCounts{}
	ok, err := hasTable(ctx, db, "item_status")
	if err != nil || !ok {
		return sc, err
	}
	rows, err := db.QueryContext(ctx, "SELECT kind, status, count(*) FROM item_status GROUP BY kind, status ORDER BY kind, status")
	if err != nil {
		return nil, fmt.Errorf("count item statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, s string
		var n int64
		if err := rows.Scan(&k, &s, &n); err != nil {
			return nil, err
		}
		if sc[k] == nil {
			sc[k] = map[string]int64{}
		}
		sc[k][s] = n
	}
	return sc, rows.Err()
}

func (sc statusCounts) total() (total, valid int64) {
	for _, m := range sc {
		for s, n := range m {
			total += n
			if s == "valid" {
				valid += n
			}
		}
	}
	return
}

// digestSignatures collects, for the verified-digest section, every
// signature the case holds for each digest: its saved metadata (by
// evidence id of the sidecar) and its successors' previousDigestSignature
// (by bucket/key).
type digestSignatures struct {
	metadata  map[int64]string
	successor map[string][]string
}

func readDigestSignatures(ctx context.Context, db *sql.DB) (*digestSignatures, error) {
	ds := &digestSignatures{metadata: map[int64]string{}, successor: map[string][]string{}}
	rows, err := db.QueryContext(ctx, `SELECT evidence_id, user_metadata FROM s3_object_meta WHERE user_metadata IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read object metadata: %w", err)
	}
	for rows.Next() {
		var id int64
		var meta string
		if err := rows.Scan(&id, &meta); err != nil {
			rows.Close()
			return nil, err
		}
		var m map[string]any
		if json.Unmarshal([]byte(meta), &m) == nil {
			if s, ok := m["signature"].(string); ok {
				ds.metadata[id] = s
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, `SELECT coalesce(previous_digest_s3_bucket, ''), previous_digest_s3_object, previous_digest_signature
		FROM ct_digests WHERE previous_digest_s3_object IS NOT NULL AND previous_digest_signature IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read digest links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, k, s string
		if err := rows.Scan(&b, &k, &s); err != nil {
			return nil, err
		}
		ds.successor[b+"/"+k] = append(ds.successor[b+"/"+k], s)
	}
	return ds, rows.Err()
}

// checkDigestSignature verifies a hex CloudTrail signature of d with the
// trust anchor k, through verify's one implementation of the string to
// sign and the RSA check.
func checkDigestSignature(k *anchorKey, d *store.Digest, sigHex string) bool {
	pub, err := k.pub()
	if err != nil {
		return false
	}
	return verify.CheckSignature(pub, d, sigHex) == nil
}
