package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Keys of the custody anchor in case_info (migration 005_custody.sql).
const (
	anchorCountKey    = "custody_count"             // entries in the log
	anchorHeadKey     = "custody_head"              // hash of the last entry (custodyGenesis when none)
	anchorAfterKey    = "custody_anchored_after"    // entries up to this seq predate the anchor
	anchorEvidenceKey = "custody_anchored_evidence" // evidence ids up to this one predate it
)

// CustodyAnchor is what the case keeps about its custody log besides the
// log itself, updated in the same transaction as every append: a removed
// last entry, or an emptied log, no longer looks like a shorter intact
// log.
type CustodyAnchor struct {
	Present  bool   `json:"present"` // case_info holds it
	Count    int64  `json:"count"`
	Head     string `json:"head"`
	After    int64  `json:"anchored_after"`    // entries with seq <= After were written before the anchor existed
	Evidence int64  `json:"anchored_evidence"` // evidence ids <= Evidence were recorded before it
	Err      string `json:"error,omitempty"`   // a value that is not a number
}

func readAnchor(ctx context.Context, q querier) (CustodyAnchor, error) {
	var a CustodyAnchor
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM case_info WHERE key IN (?, ?, ?, ?)",
		anchorCountKey, anchorHeadKey, anchorAfterKey, anchorEvidenceKey)
	if err != nil {
		return a, fmt.Errorf("read the custody anchor: %w", err)
	}
	defer rows.Close()
	seen := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return a, err
		}
		seen[k] = v
	}
	if err := rows.Err(); err != nil {
		return a, err
	}
	_, hasCount := seen[anchorCountKey]
	_, hasHead := seen[anchorHeadKey]
	a.Present = hasCount && hasHead
	a.Head = seen[anchorHeadKey]
	num := func(key string) int64 {
		v, ok := seen[key]
		if !ok {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil && a.Err == "" {
			a.Err = fmt.Sprintf("case_info %s is %q, not a number", key, v)
		}
		return n
	}
	a.Count, a.After, a.Evidence = num(anchorCountKey), num(anchorAfterKey), num(anchorEvidenceKey)
	return a, nil
}

// mismatch says how a log of n entries ending in head disagrees with the
// anchor ("" when it agrees).
func (a CustodyAnchor) mismatch(n int64, head string) string {
	switch {
	case !a.Present:
		return "case_info holds no custody anchor (custody_count and custody_head): it was removed"
	case a.Err != "":
		return a.Err
	case a.Count > n:
		return fmt.Sprintf("the log has %d entries, the case's anchor says %d (head %q): the last %d entries were removed, or the anchor was edited",
			n, a.Count, a.Head, a.Count-n)
	case a.Count < n:
		return fmt.Sprintf("the log has %d entries, the case's anchor says %d (head %q): entries were added without moving the anchor (by hand, or by an older forensic), or the anchor was edited",
			n, a.Count, a.Head)
	case a.Head != head:
		return fmt.Sprintf("the last entry's hash is %s, the case's anchor says %q: the last entry was replaced, or the anchor was edited", head, a.Head)
	}
	return ""
}

// CustodyCheck is the outcome of CheckCustody. The log is intact when
// Problems is empty; Notes say what could not be checked.
type CustodyCheck struct {
	Entries  []CustodyEntry
	Anchored bool // the case has the anchor (schema version 5)
	Anchor   CustodyAnchor
	Problems []string
	Notes    []string
}

// ingestOutputs is what CheckCustody reads from an ingest entry's outputs.
type ingestOutputs struct {
	Added         *int    `json:"added"`
	Claimed       *int    `json:"claimed"`
	Recovered     *int    `json:"recovered"`
	ClaimedEvents *string `json:"claimed_events_sha256"`
	Widened       *int    `json:"widened"`
	WidenedEvents *string `json:"widened_events_sha256"`
}

// CheckCustody checks the custody log of the case: the chain
// (VerifyCustody), the anchor against the log (its count and head), every
// evidence item against the entry that claims it (it names an existing
// `ingest` entry), and every ingest entry against its items (as many as
// it claimed, and the hash of their per-file event hashes it recorded).
// A case made before the anchor existed gets a note instead, and only
// what can still be told is checked. It reads only.
func (c *Case) CheckCustody(ctx context.Context) (*CustodyCheck, error) {
	entries, err := c.Custody(ctx)
	if err != nil {
		return nil, fmt.Errorf("read custody log: %w", err)
	}
	r := &CustodyCheck{Entries: entries, Problems: VerifyCustody(entries)}
	problem := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	bySeq := map[int64]*CustodyEntry{}
	for i := range entries {
		bySeq[entries[i].Seq] = &entries[i]
	}
	outputs := func(e *CustodyEntry) (ingestOutputs, bool) {
		var o ingestOutputs
		return o, json.Unmarshal(e.Outputs, &o) == nil
	}
	var hasColumn int
	if err := c.db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('evidence') WHERE name = 'custody_seq'").Scan(&hasColumn); err != nil {
		return nil, fmt.Errorf("read the case schema: %w", err)
	}
	var items int64
	if err := c.db.QueryRowContext(ctx, "SELECT count(*) FROM evidence").Scan(&items); err != nil {
		return nil, fmt.Errorf("count evidence: %w", err)
	}
	if hasColumn == 0 {
		r.Notes = append(r.Notes, "the case predates the custody anchor (its schema has no 005_custody.sql): "+
			"removed last entries cannot be detected, and its items are not linked to the ingest that recorded them; "+
			"the next read-write command of this version (ingest, verify, report) anchors it from then on")
		ingests := 0
		for i := range entries {
			e := &entries[i]
			if e.Command != "ingest" {
				continue
			}
			ingests++
			if o, ok := outputs(e); ok && o.Claimed != nil {
				problem("entry %d was written by a version that anchors the log, yet the case has no anchor: its schema was rolled back", e.Seq)
			}
		}
		if items > 0 && ingests == 0 {
			problem("the case holds %d evidence items and its custody log no ingest entry: the log was emptied or cut short", items)
		}
		return r, nil
	}
	r.Anchored = true
	if r.Anchor, err = readAnchor(ctx, c.db); err != nil {
		return nil, err
	}
	head := custodyGenesis
	if n := len(entries); n > 0 {
		head = entries[n-1].Hash
	}
	if p := r.Anchor.mismatch(int64(len(entries)), head); p != "" {
		r.Problems = append(r.Problems, p)
	}
	after := r.Anchor.After
	if after > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("entries 1-%d and the evidence items recorded with them predate the custody anchor "+
			"(the case was made by an earlier version): those items are not linked to the entry that recorded them", after))
	}

	// Every item names the ingest entry that claimed it.
	rows, err := c.db.QueryContext(ctx, "SELECT custody_seq, count(*), max(id) FROM evidence GROUP BY custody_seq")
	if err != nil {
		return nil, fmt.Errorf("read evidence claims: %w", err)
	}
	named := map[int64]int64{}
	for rows.Next() {
		var seq sql.NullInt64
		var n, maxID int64
		if err := rows.Scan(&seq, &n, &maxID); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case !seq.Valid:
			problem("%d evidence items are named by no custody entry: an ingest recorded them and never wrote its entry "+
				"(it was killed, ran out of disk space, or is still running); run the same ingest again to claim them", n)
		case seq.Int64 == 0:
			if maxID > r.Anchor.Evidence {
				problem("evidence items up to id %d are marked as recorded before the custody anchor, which was made when the last id was %d",
					maxID, r.Anchor.Evidence)
			}
		default:
			named[seq.Int64] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	seqs := make([]int64, 0, len(named))
	for s := range named {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, s := range seqs {
		e := bySeq[s]
		switch {
		case e == nil:
			problem("%d evidence items name custody entry %d, which is not in the log", named[s], s)
		case !claims(e.Command):
			problem("%d evidence items name custody entry %d, which is a %q entry, not an ingest", named[s], s, e.Command)
		case s <= after:
			problem("%d evidence items name custody entry %d, which predates the custody anchor", named[s], s)
		}
	}
	// Every ingest entry made since the anchor has exactly the items it claimed.
	for i := range entries {
		e := &entries[i]
		if !claims(e.Command) || e.Seq <= after {
			continue
		}
		o, ok := outputs(e)
		if !ok || o.Claimed == nil {
			problem("ingest entry %d does not record how many items it claimed", e.Seq)
			continue
		}
		if int64(*o.Claimed) != named[e.Seq] {
			problem("ingest entry %d claimed %d evidence items; %d name it (items removed from the case, or moved to another entry)",
				e.Seq, *o.Claimed, named[e.Seq])
		}
		if o.Added != nil && o.Recovered != nil && *o.Added+*o.Recovered != *o.Claimed {
			problem("ingest entry %d records %d added and %d recovered items, but %d claimed", e.Seq, *o.Added, *o.Recovered, *o.Claimed)
		}
		if o.ClaimedEvents != nil {
			got, err := claimedEventsHash(ctx, c.db, e.Seq)
			if err != nil {
				return nil, err
			}
			if got != *o.ClaimedEvents {
				problem("ingest entry %d recorded claimed_events_sha256 %q; the per-file event hashes of the items that name it give %s "+
					"(evidence.events_sha256 or event_count changed after ingest)", e.Seq, *o.ClaimedEvents, got)
			}
		}
	}
	if err := c.checkWidenings(ctx, entries, bySeq, func(e *CustodyEntry) (ingestOutputs, bool) { return outputs(e) }, problem); err != nil {
		return nil, err
	}
	return r, nil
}
