package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// CustodyEntry is one command run on the case. Each entry carries the hash
// of the one before it, so an altered, removed or reordered entry breaks
// the chain.
type CustodyEntry struct {
	Seq      int64           `json:"seq"`
	Time     string          `json:"time"`
	Operator string          `json:"operator"`
	Host     string          `json:"host"`
	Tool     string          `json:"tool"` // name, version and VCS revision
	Command  string          `json:"command"`
	Args     []string        `json:"args"`
	Inputs   json.RawMessage `json:"inputs"`  // what it read, with hashes
	Outputs  json.RawMessage `json:"outputs"` // what it produced, with hashes
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// custodyGenesis is the prev_hash of the first entry.
const custodyGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// EntryHash is the hex SHA-256 of the entry's canonical JSON with Hash
// left empty: encoding/json writes struct fields in declaration order and
// compacts RawMessage values, so the bytes are reproducible.
func EntryHash(e CustodyEntry) (string, error) {
	e.Hash = ""
	if e.Inputs == nil {
		e.Inputs = json.RawMessage("null")
	}
	if e.Outputs == nil {
		e.Outputs = json.RawMessage("null")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// AppendCustody adds e to the custody log, filling Seq, Time (if empty),
// PrevHash and Hash, and returns the stored entry. In the same
// transaction it moves the case's custody anchor (case_info
// custody_count and custody_head) to the new entry. It refuses to append
// to a log that does not match its anchor (entries removed, or the anchor
// edited): the append would make the two agree again and hide it.
func (c *Case) AppendCustody(ctx context.Context, e CustodyEntry) (CustodyEntry, error) {
	return c.appendCustody(ctx, e, nil)
}

// IngestClaim is what the custody entry of an ingest claims: the evidence
// items that name it (evidence.custody_seq).
type IngestClaim struct {
	Added     int // items the run added
	Claimed   int // items the entry claims: normally Added + Recovered
	Recovered int // items an earlier ingest recorded and never wrote its entry for
	// EventsSHA256 is the hex SHA-256 of one line
	// "SHA256 EVENT_COUNT EVENTS_SHA256\n" per claimed item with events,
	// the lines sorted by their bytes (see ClaimedEventsSQL): it ties the
	// per-file event hashes of the items to the hash-chained entry, and
	// depends on neither row ids nor paths.
	EventsSHA256 string
	// Widened is how many log files already in the case the run indexed
	// more records of (ct_index_widenings rows it claims), and
	// WidenedEventsSHA256 the hex SHA-256 of their lines (WidenedEventsSQL).
	Widened             int
	WidenedEventsSHA256 string
}

// ClaimedEventsSQL lists, for the custody entry ?, the lines whose
// SHA-256 is IngestClaim.EventsSHA256: one per item it claimed that has
// events or whose records were indexed by a filter, "SHA256 EVENT_COUNT
// EVENTS_SHA256" followed by " FILTER" (evidence.events_filter) when not
// every record was indexed ("-" for no events), as the entry recorded
// them (the evidence_claimed_events view: the state before a later
// ingest widened the item, if one did):
//
//	sqlite3 case.db "SELECT sha256 || ' ' || coalesce(event_count, 0) || ' ' || coalesce(events_sha256, '-') ||
//	  coalesce(' ' || events_filter, '') AS line FROM evidence_claimed_events
//	  WHERE custody_seq = 3 AND (events_sha256 IS NOT NULL OR events_filter IS NOT NULL) ORDER BY line" | sha256sum
//
// For a case whose every record is indexed these are the lines
// "SHA256 EVENT_COUNT EVENTS_SHA256" of the items with events.
const ClaimedEventsSQL = `SELECT sha256 || ' ' || coalesce(event_count, 0) || ' ' || coalesce(events_sha256, '-') ||
	coalesce(' ' || events_filter, '') AS line FROM evidence_claimed_events
	WHERE custody_seq = ? AND (events_sha256 IS NOT NULL OR events_filter IS NOT NULL) ORDER BY line`

// WidenedEventsSQL lists, for the custody entry ?, the lines whose
// SHA-256 is IngestClaim.WidenedEventsSHA256: one per widening it made,
// "SHA256 COUNT_BEFORE EVENTS_SHA256_BEFORE FILTER_BEFORE COUNT
// EVENTS_SHA256 FILTER" ("-" for no events, "all" for a NULL filter).
const WidenedEventsSQL = `SELECT e.sha256 || ' ' || coalesce(w.event_count_before, 0) || ' ' || coalesce(w.events_sha256_before, '-') ||
	' ' || coalesce(w.filter_before, 'all') || ' ' || coalesce(w.event_count, 0) || ' ' || coalesce(w.events_sha256, '-') ||
	' ' || coalesce(w.filter, 'all') AS line FROM ct_index_widenings w JOIN evidence e ON e.id = w.evidence_id
	WHERE w.custody_seq = ? ORDER BY line`

// AppendIngestCustody appends the custody entry of an ingest that added
// `added` evidence items and, in the same transaction, claims every item
// that no entry names yet: the run's own, and any an earlier ingest
// recorded without ever writing its entry (killed, or out of disk space),
// which are then Recovered. outputs makes the entry's outputs from the
// claim, so that the entry records it.
func (c *Case) AppendIngestCustody(ctx context.Context, e CustodyEntry, added int,
	outputs func(IngestClaim) (json.RawMessage, error)) (CustodyEntry, IngestClaim, error) {
	cl := IngestClaim{Added: added}
	e, err := c.appendCustody(ctx, e, func(tx *sql.Tx, seq int64, e *CustodyEntry) error {
		res, err := tx.ExecContext(ctx, "UPDATE evidence SET custody_seq = ? WHERE custody_seq IS NULL", seq)
		if err != nil {
			return fmt.Errorf("claim evidence items: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		cl.Claimed = int(n)
		cl.Recovered = max(0, cl.Claimed-added)
		if cl.EventsSHA256, err = claimedEventsHash(ctx, tx, seq); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, "UPDATE ct_index_widenings SET custody_seq = ? WHERE custody_seq IS NULL", seq)
		if err != nil {
			return fmt.Errorf("claim widenings: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		cl.Widened = int(n)
		if cl.Widened > 0 {
			if cl.WidenedEventsSHA256, err = linesHash(ctx, tx, WidenedEventsSQL, seq); err != nil {
				return err
			}
		}
		e.Outputs, err = outputs(cl)
		return err
	})
	return e, cl, err
}

func claimedEventsHash(ctx context.Context, q querier, seq int64) (string, error) {
	v6, err := hasTable(ctx, q, "evidence_claimed_events")
	if err != nil {
		return "", err
	}
	if !v6 {
		// A case opened read-only before its schema reached version 6:
		// every record of its items was indexed.
		return linesHash(ctx, q, claimedEventsSQLv5, seq)
	}
	return linesHash(ctx, q, ClaimedEventsSQL, seq)
}

// claimedEventsSQLv5 is ClaimedEventsSQL for a case of schema version 5.
const claimedEventsSQLv5 = `SELECT sha256 || ' ' || event_count || ' ' || events_sha256 AS line FROM evidence
	WHERE custody_seq = ? AND events_sha256 IS NOT NULL ORDER BY line`

// linesHash is the hex SHA-256 of the lines query (one text column)
// returns for seq, each followed by a newline.
func linesHash(ctx context.Context, q querier, query string, seq int64) (string, error) {
	rows, err := q.QueryContext(ctx, query, seq)
	if err != nil {
		return "", fmt.Errorf("hash claimed events: %w", err)
	}
	defer rows.Close()
	h := sha256.New()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		h.Write([]byte(line))
		h.Write([]byte{'\n'})
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (c *Case) appendCustody(ctx context.Context, e CustodyEntry, claim func(tx *sql.Tx, seq int64, e *CustodyEntry) error) (CustodyEntry, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return e, err
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM custody").Scan(&n); err != nil {
		return e, err
	}
	e.PrevHash = custodyGenesis
	e.Seq = 1
	var seq int64
	var prev string
	err = tx.QueryRowContext(ctx, "SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err == nil {
		e.Seq, e.PrevHash = seq+1, prev
	} else if !errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	a, err := readAnchor(ctx, tx)
	if err != nil {
		return e, err
	}
	if p := a.mismatch(n, e.PrevHash); p != "" {
		return e, fmt.Errorf("custody log of %s: %s; refusing to add to it (see forensic custody verify)", c.Path, p)
	}
	if e.Time == "" {
		e.Time = c.Now().UTC().Format(time.RFC3339Nano)
	}
	if e.Args == nil {
		e.Args = []string{}
	}
	if claim != nil {
		if err := claim(tx, e.Seq, &e); err != nil {
			return e, err
		}
	}
	if e.Inputs == nil {
		e.Inputs = json.RawMessage("null")
	}
	if e.Outputs == nil {
		e.Outputs = json.RawMessage("null")
	}
	if e.Hash, err = EntryHash(e); err != nil {
		return e, err
	}
	args, _ := json.Marshal(e.Args)
	if _, err := tx.ExecContext(ctx, `INSERT INTO custody(seq, time, operator, host, tool, command, args, inputs, outputs, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, e.Seq, e.Time, e.Operator, e.Host, e.Tool, e.Command, string(args),
		string(e.Inputs), string(e.Outputs), e.PrevHash, e.Hash); err != nil {
		return e, fmt.Errorf("append custody entry: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO case_info(key, value) VALUES (?, ?), (?, ?)",
		anchorCountKey, strconv.FormatInt(n+1, 10), anchorHeadKey, e.Hash); err != nil {
		return e, fmt.Errorf("move the custody anchor: %w", err)
	}
	return e, tx.Commit()
}

// Custody returns the custody log in order.
func (c *Case) Custody(ctx context.Context) ([]CustodyEntry, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT seq, time, operator, host, tool, command, args, inputs, outputs, prev_hash, hash FROM custody ORDER BY seq")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CustodyEntry
	for rows.Next() {
		var e CustodyEntry
		var args, in, outp string
		if err := rows.Scan(&e.Seq, &e.Time, &e.Operator, &e.Host, &e.Tool, &e.Command, &args, &in, &outp, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(args), &e.Args); err != nil {
			return nil, fmt.Errorf("custody entry %d: args: %w", e.Seq, err)
		}
		e.Inputs, e.Outputs = json.RawMessage(in), json.RawMessage(outp)
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyCustody checks the chain: sequence numbers 1..n without holes, each
// prev_hash equal to the previous entry's hash, and each hash recomputed
// from the entry. It returns one problem per broken entry; none means the
// log is intact.
func VerifyCustody(entries []CustodyEntry) []string {
	var problems []string
	prev := custodyGenesis
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			problems = append(problems, fmt.Sprintf("entry %d: sequence number %d, want %d (entry removed or reordered)", i+1, e.Seq, i+1))
		}
		if e.PrevHash != prev {
			problems = append(problems, fmt.Sprintf("entry %d: prev_hash %s does not match the hash of the entry before it %s", e.Seq, e.PrevHash, prev))
		}
		h, err := EntryHash(e)
		if err != nil {
			problems = append(problems, fmt.Sprintf("entry %d: %v", e.Seq, err))
		} else if h != e.Hash {
			problems = append(problems, fmt.Sprintf("entry %d: content hash %s, recorded %s (entry altered)", e.Seq, h, e.Hash))
		}
		prev = e.Hash
	}
	return problems
}
