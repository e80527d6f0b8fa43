package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// CommandMerge is the custody command of a merge: the entry that claims
// the evidence items copied from another case (MergeCase), as an ingest
// entry claims those it recorded.
const CommandMerge = "merge"

// claims says whether entries of the command claim evidence items.
func claims(command string) bool { return command == "ingest" || command == CommandMerge }

// mergeTable is one table MergeCase copies: its id column, if any, is
// offset past the ids the merged case already holds, and so is every
// column that names a row of another table.
type mergeTable struct {
	name string
	id   bool              // an INTEGER PRIMARY KEY "id" column
	refs map[string]string // column -> the table whose id it holds
}

// mergeTables are the tables of evidence and verification MergeCase
// copies, parents first. The case's own records (case_info, custody,
// schema_migrations) and the trust anchors of the other case's last
// verification are not copied: the merged case has its own, and its own
// verification.
var mergeTables = []mergeTable{
	{name: "evidence", id: true},
	{name: "ct_events", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "ct_digests", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "ct_digest_logs", refs: map[string]string{"digest_id": "ct_digests"}},
	{name: "public_keys", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "s3_object_meta", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "s3_object_parts", refs: map[string]string{"meta_id": "s3_object_meta"}},
	{name: "s3_inventory_manifests", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "s3_access_lines", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "ct_index_widenings", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "lake_sign_files", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "lake_results", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "lake_rows", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "item_status", id: true, refs: map[string]string{"evidence_id": "evidence"}},
	{name: "findings", id: true},
}

// notMerged are the tables of a case MergeCase leaves out on purpose
// (detections name event rows: forensic detect runs on the merged case).
var notMerged = map[string]bool{"schema_migrations": true, "case_info": true, "custody": true, "detections": true,
	"trust_anchor_files": true, "trust_anchors": true}

// MergeOptions tune MergeCase.
type MergeOptions struct {
	// Verdicts copies the statuses and findings of the case's last
	// verification too (item_status, findings): for the one case whose
	// object verdicts are carried (verify.Options.CarryObjects), merged
	// first so that the evidence ids their details name stay right. The
	// merged case is verified again; the other cases' verdicts are not
	// needed, and their details name ids the merge has moved.
	Verdicts bool
}

// MergeCase copies the evidence of the case at src — every item and what
// ingest parsed from it, and with opt.Verdicts the statuses and findings
// of its last verification — into c, in one transaction, reading src
// only. Row ids are offset past those c holds, so the first case merged
// into an empty case keeps its ids. A source or archive row equal to one
// c holds (the same kind, SHA-256, member and position: the same argument
// of shards' ingests, wherever it was on each machine) is not copied
// twice. An item that c holds already — the same kind, SHA-256, member,
// position and path below its source, so on any machine — is an error:
// the cases overlap. The copied items are claimed by no custody entry:
// the caller records the merge (AppendIngestCustody with CommandMerge)
// next. It returns how many evidence items it added. Both cases must have
// this version's schema.
func (c *Case) MergeCase(ctx context.Context, src string, opt MergeOptions) (int, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	uri := "file:" + (&url.URL{Path: src}).EscapedPath() + "?mode=ro"
	tidy := !walFilesExist(src)
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS src", uri); err != nil {
		return 0, fmt.Errorf("merge %s: %w", src, err)
	}
	defer func() {
		conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE src")
		if tidy {
			tidyWAL(src) // the source case is left as it was found
		}
	}()
	if err := sameSchema(ctx, conn, src); err != nil {
		return 0, err
	}
	// The merged case's own index for the overlap test (an evidence
	// table of millions of items is not scanned once per item).
	if _, err := conn.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS main.evidence_merge_identity ON evidence(sha256, member)"); err != nil {
		return 0, fmt.Errorf("merge %s: %w", src, err)
	}
	var dup struct{ path, member string }
	err = conn.QueryRowContext(ctx, `SELECT s.path, s.member FROM src.evidence s
		WHERE s.kind NOT IN ('source', 'archive') AND EXISTS (SELECT 1 FROM main.evidence m
			WHERE m.sha256 = s.sha256 AND m.member = s.member AND m.kind = s.kind
			AND coalesce(m.member_index, '') = coalesce(s.member_index, '')
			AND substr(m.path, length(m.source) + 1) = substr(s.path, length(s.source) + 1))
		LIMIT 1`).Scan(&dup.path, &dup.member)
	switch {
	case err == nil:
		name := dup.path
		if dup.member != "" {
			name += "!/" + dup.member
		}
		return 0, fmt.Errorf("merge %s: the item %s is already in the merged case (the cases overlap)", src, name)
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("merge %s: %w", src, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	offsets := map[string]int64{}
	for _, t := range mergeTables {
		if !t.id {
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM main."+t.name).Scan(&n); err != nil {
			return 0, fmt.Errorf("merge %s: %s: %w", src, t.name, err)
		}
		offsets[t.name] = n
	}
	added := int64(0)
	for _, t := range mergeTables {
		if (t.name == "item_status" || t.name == "findings") && !opt.Verdicts {
			continue
		}
		// The columns are this version's (the merged case's), never names
		// read from the other case: its file is input, and a name goes
		// into the statement. It must have the same ones.
		cols, err := columnsOf(ctx, tx, "main", t.name)
		if err != nil {
			return 0, fmt.Errorf("merge %s: %w", src, err)
		}
		theirs, err := columnsOf(ctx, tx, "src", t.name)
		if err != nil {
			return 0, fmt.Errorf("merge %s: %w", src, err)
		}
		if a, b := slices.Sorted(slices.Values(cols)), slices.Sorted(slices.Values(theirs)); !slices.Equal(a, b) {
			return 0, fmt.Errorf("merge %s: table %s has the columns %v, this version's has %v", src, t.name, b, a)
		}
		var sel []string
		for _, col := range cols {
			q := `s."` + col + `"`
			switch {
			case t.id && col == "id":
				q = fmt.Sprintf("%s + %d", q, offsets[t.name])
			case t.refs[col] != "":
				q = fmt.Sprintf("%s + %d", q, offsets[t.refs[col]])
			case col == "custody_seq":
				q = "NULL" // claimed by the merge's own entry
			}
			sel = append(sel, q)
		}
		quoted := make([]string, len(cols))
		for i, col := range cols {
			quoted[i] = `"` + col + `"`
		}
		q := fmt.Sprintf("INSERT INTO main.%s (%s) SELECT %s FROM src.%s s", t.name, strings.Join(quoted, ", "), strings.Join(sel, ", "), t.name)
		if t.name == "evidence" {
			q += ` WHERE NOT (s.kind IN ('source', 'archive') AND EXISTS (SELECT 1 FROM main.evidence m WHERE m.kind = s.kind
				AND m.sha256 = s.sha256 AND m.member = s.member AND coalesce(m.member_index, '') = coalesce(s.member_index, '')))`
		}
		// In id order: the merged case's pages fill in order. A row that
		// names a source or archive row not copied fails the foreign key.
		q += " ORDER BY 1"
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return 0, fmt.Errorf("merge %s: %s: an item of this case is already in the merged case (the cases overlap): %w", src, t.name, err)
			}
			return 0, fmt.Errorf("merge %s: %s: %w", src, t.name, err)
		}
		if t.name == "evidence" {
			if added, err = res.RowsAffected(); err != nil {
				return 0, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("merge %s: %w", src, err)
	}
	return int(added), nil
}

// sameSchema refuses a case whose schema is not this version's: the
// tables MergeCase copies must have the columns the merged case has.
func sameSchema(ctx context.Context, conn *sql.Conn, src string) error {
	names := func(db string) ([]string, error) {
		rows, err := conn.QueryContext(ctx, "SELECT name FROM "+db+".schema_migrations ORDER BY name")
		if err != nil {
			return nil, err
		}
		return textColumn(rows)
	}
	want, err := names("main")
	if err != nil {
		return err
	}
	got, err := names("src")
	if err != nil {
		return fmt.Errorf("merge %s: not a forensic case: %w", src, err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return fmt.Errorf("merge %s: its schema is at %s, this version's at %s: run a read-write command of this version on it (forensic verify) first",
			src, last(got), last(want))
	}
	rows, err := conn.QueryContext(ctx, "SELECT name FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return err
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, t := range mergeTables {
		known[t.name] = true
	}
	var unknown []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		if !known[n] && !notMerged[n] {
			unknown = append(unknown, n)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("merge %s: it holds tables a case of this version does not: %s", src, strings.Join(unknown, ", "))
	}
	return nil
}

func last(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return s[len(s)-1]
}

// columnsOf lists the columns of db.table in order.
func columnsOf(ctx context.Context, tx *sql.Tx, db, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT name FROM pragma_table_info('%s', '%s') ORDER BY cid", table, db))
	if err != nil {
		return nil, err
	}
	out, err := textColumn(rows)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no table " + table)
	}
	return out, nil
}

// MergeFacts are what a merge of cases checks of each: the SHA-256 of its
// sources (every shard's case of one export holds the same), how many
// object copies its last verification judged, and the source shards its
// ingests of shards saw (inputs.source_shards).
type MergeFacts struct {
	Sources []string // distinct SHA-256 of the source rows, sorted
	Objects int64    // item_status rows of kind object
	// Rehashed counts what the last verification's re-reading of the
	// evidence (verify --rehash) found of digests and log files: their
	// changed_since_ingest statuses and the rehash findings that do not
	// name an object copy. A merge re-verifies from what the cases hold
	// and cannot carry them.
	Rehashed     int64
	SourceShards []ShardSet // distinct, in custody order
}

// MergeFacts reads the case's MergeFacts.
func (c *Case) MergeFacts(ctx context.Context) (MergeFacts, error) {
	var f MergeFacts
	var err error
	if f.Sources, err = c.strings(ctx, "SELECT DISTINCT sha256 FROM evidence WHERE kind = 'source' ORDER BY 1"); err != nil {
		return f, fmt.Errorf("read sources: %w", err)
	}
	if err := c.queryRow(ctx, "SELECT count(*) FROM item_status WHERE kind = 'object'").Scan(&f.Objects); err != nil {
		return f, fmt.Errorf("count object statuses: %w", err)
	}
	if err := c.queryRow(ctx, `SELECT (SELECT count(*) FROM item_status WHERE kind != 'object' AND status = 'changed_since_ingest') +
		(SELECT count(*) FROM findings f WHERE f.type = 'rehash' AND NOT EXISTS (SELECT 1 FROM item_status s WHERE s.kind = 'object'
			AND s.evidence_id = json_extract(f.detail, '$.evidence_id')))`).Scan(&f.Rehashed); err != nil {
		return f, fmt.Errorf("count rehash results: %w", err)
	}
	ins, err := c.strings(ctx, "SELECT inputs FROM custody WHERE command IN ('ingest', ?) ORDER BY seq", CommandMerge)
	if err != nil {
		return f, fmt.Errorf("read custody: %w", err)
	}
	seen := map[ShardSet]bool{}
	for _, in := range ins {
		var v struct {
			SourceShards *ShardSet `json:"source_shards"`
		}
		if json.Unmarshal([]byte(in), &v) == nil && v.SourceShards != nil && !seen[*v.SourceShards] {
			seen[*v.SourceShards] = true
			f.SourceShards = append(f.SourceShards, *v.SourceShards)
		}
	}
	return f, nil
}

// EachItemName calls fn with the source, path and member of every
// evidence item but sources and archives, in id order (to check which
// shard each belongs to).
func (c *Case) EachItemName(ctx context.Context, fn func(source, path, member string) error) error {
	rows, err := c.query(ctx, "SELECT source, path, member FROM evidence WHERE kind NOT IN ('source', 'archive') ORDER BY id")
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, p, m string
		if err := rows.Scan(&s, &p, &m); err != nil {
			return fmt.Errorf("read evidence: %w", err)
		}
		if err := fn(s, p, m); err != nil {
			return err
		}
	}
	return rows.Err()
}
