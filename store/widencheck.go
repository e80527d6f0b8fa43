package store

import (
	"context"
	"database/sql"
	"fmt"
)

// checkWidenings checks the widenings of the case (ct_index_widenings)
// against the custody log: each is claimed by an ingest entry made after
// the item's own, every ingest entry has exactly the widenings it
// recorded (their count and the hash of their lines, WidenedEventsSQL),
// and each item's widenings follow one another: the state before one is
// the state after the one before (or what the item's own entry claimed),
// and the state after the last is the evidence row's.
func (c *Case) checkWidenings(ctx context.Context, entries []CustodyEntry, bySeq map[int64]*CustodyEntry,
	outputs func(*CustodyEntry) (ingestOutputs, bool), problem func(string, ...any)) error {
	has, err := hasTable(ctx, c.db, "ct_index_widenings")
	if err != nil || !has {
		return err
	}
	named := map[int64]int{}
	rows, err := c.db.QueryContext(ctx, "SELECT custody_seq, count(*) FROM ct_index_widenings GROUP BY custody_seq")
	if err != nil {
		return fmt.Errorf("read widenings: %w", err)
	}
	for rows.Next() {
		var seq sql.NullInt64
		var n int
		if err := rows.Scan(&seq, &n); err != nil {
			rows.Close()
			return err
		}
		if !seq.Valid {
			problem("%d widenings of indexed records are named by no custody entry: an ingest made them and never wrote its entry "+
				"(it was killed or ran out of disk space); run the same ingest again to claim them", n)
			continue
		}
		named[seq.Int64] = n
		switch e := bySeq[seq.Int64]; {
		case e == nil:
			problem("%d widenings of indexed records name custody entry %d, which is not in the log", n, seq.Int64)
		case !claims(e.Command):
			problem("%d widenings of indexed records name custody entry %d, which is a %q entry, not an ingest", n, seq.Int64, e.Command)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range entries {
		e := &entries[i]
		if !claims(e.Command) {
			continue
		}
		o, ok := outputs(e)
		if !ok || o.Widened == nil {
			if named[e.Seq] > 0 {
				problem("%d widenings of indexed records name ingest entry %d, which records none", named[e.Seq], e.Seq)
			}
			continue
		}
		if *o.Widened != named[e.Seq] {
			problem("ingest entry %d widened the indexed records of %d log files; %d widenings name it (widenings removed, added or moved)",
				e.Seq, *o.Widened, named[e.Seq])
		}
		if o.WidenedEvents != nil {
			got, err := linesHash(ctx, c.db, WidenedEventsSQL, e.Seq)
			if err != nil {
				return err
			}
			if got != *o.WidenedEvents {
				problem("ingest entry %d recorded widened_events_sha256 %q; the widenings that name it give %s "+
					"(ct_index_widenings changed after ingest)", e.Seq, *o.WidenedEvents, got)
			}
		}
	}
	// Each item's widenings in order, with the evidence row's state.
	rows, err = c.db.QueryContext(ctx, `SELECT w.evidence_id, coalesce(w.custody_seq, -1), coalesce(e.custody_seq, -1),
		coalesce(w.filter_before, char(0)), coalesce(w.event_count_before, 0), coalesce(w.events_sha256_before, ''),
		coalesce(w.filter, char(0)), coalesce(w.event_count, 0), coalesce(w.events_sha256, ''),
		coalesce(e.events_filter, char(0)), coalesce(e.event_count, 0), coalesce(e.events_sha256, '')
		FROM ct_index_widenings w JOIN evidence e ON e.id = w.evidence_id ORDER BY w.evidence_id, w.id`)
	if err != nil {
		return fmt.Errorf("read widenings: %w", err)
	}
	defer rows.Close()
	type state struct {
		filter string
		count  int64
		sha    string
	}
	var (
		cur          int64 = -1
		prev, evNow  state
		prevSeq      int64
		checkCurrent = func(id int64, last, now state) {
			if last != now {
				problem("evidence %d: its indexed events (%d, events_sha256 %q, filter %s) are not those its last widening recorded "+
					"(%d, %q, filter %s): evidence.events_sha256, event_count or events_filter changed after ingest",
					id, now.count, now.sha, filterText(now.filter), last.count, last.sha, filterText(last.filter))
			}
		}
	)
	for rows.Next() {
		var id, seq, eseq int64
		var before, after, now state
		if err := rows.Scan(&id, &seq, &eseq, &before.filter, &before.count, &before.sha, &after.filter, &after.count, &after.sha,
			&now.filter, &now.count, &now.sha); err != nil {
			return err
		}
		if id != cur {
			if cur >= 0 {
				checkCurrent(cur, prev, evNow)
			}
			cur, prevSeq = id, eseq
		} else if before != prev {
			problem("evidence %d: a widening starts from indexed events (%d, %q, filter %s) that are not those the widening before it left (%d, %q, filter %s)",
				id, before.count, before.sha, filterText(before.filter), prev.count, prev.sha, filterText(prev.filter))
		}
		if seq >= 0 && prevSeq >= 0 && seq <= prevSeq {
			problem("evidence %d: widened by custody entry %d, which is not after entry %d (the item's ingest, or its previous widening)", id, seq, prevSeq)
		}
		prev, evNow = after, now
		if seq >= 0 {
			prevSeq = seq
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur >= 0 {
		checkCurrent(cur, prev, evNow)
	}
	return nil
}

func filterText(encoded string) string {
	if encoded == "\x00" {
		return "all"
	}
	return encoded
}

func hasTable(ctx context.Context, q querier, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = ?", name).Scan(&n)
	return n > 0, err
}
