package store

import (
	"context"
	"fmt"
)

// Widening: a later ingest with a wider filter indexes more records of a
// log file already in the case (see Widen). The file's bytes were read
// again and hash to the recorded SHA-256; only the records the earlier
// filter left out are inserted, after the item's other rows (so an item's
// rows are then not in record order by rowid, which eventSums sorts out),
// and the evidence row moves to the new state: the union filter, the new
// count and per-file event hash of all its records. ct_index_widenings
// keeps the state before and after, for the custody log (see
// AppendIngestCustody and CheckCustody).

type streamWiden struct {
	w    Widen
	mark int64 // ct_events rows above this id are the stream's
}

// widenState reads what the case holds for the widened row: whether it is
// still the state the producer saw.
func (w *Writer) widenCurrent(ctx context.Context, st *txState, wd *Widen) (bool, error) {
	s, err := st.x.queryText(ctx, `SELECT sha256 || char(0) || coalesce(events_filter, '') || char(0) ||
		coalesce(event_count, 0) || char(0) || coalesce(events_sha256, '') FROM evidence WHERE id = ?`, wd.ID)
	if err != nil {
		return false, err
	}
	want := fmt.Sprintf("%s\x00%s\x00%d\x00%s", wd.SHA256, wd.Before.Filter, wd.Count, wd.Events)
	return s == want, nil
}

// widen applies a whole widening item.
func (w *Writer) widen(ctx context.Context, st *txState, it *Item) (int, error) {
	wd := it.Widen
	ok, err := w.widenCurrent(ctx, st, wd)
	if err != nil {
		return 0, fmt.Errorf("widen evidence %d: %w", wd.ID, err)
	}
	if !ok {
		// Widened already in this run (the same item read twice), or the
		// row changed: nothing to add on what the producer saw.
		w.stats.Duplicates++
		return 0, nil
	}
	n, err := w.insertRows(ctx, st, wd.ID, &Item{Events: it.Events})
	if err != nil {
		return n, err
	}
	return n, w.finishWiden(ctx, st, wd, it, int64(len(it.Events)))
}

// endWiden ends a widening stream: the widening is applied, or its rows
// are taken out again and the final item recorded as an item of its own.
func (w *Writer) endWiden(ctx context.Context, st *txState, sw streamWiden, final *Item) (int, error) {
	wd := sw.w
	ok := false
	if !final.Widen.Discard {
		var err error
		if ok, err = w.widenCurrent(ctx, st, &wd); err != nil {
			return 0, fmt.Errorf("widen evidence %d: %w", wd.ID, err)
		}
	}
	if ok {
		added, _, err := st.x.queryInt(ctx, "SELECT count(*) FROM ct_events WHERE evidence_id = ? AND id > ?", wd.ID, sw.mark)
		if err != nil {
			return 0, err
		}
		return 0, w.finishWiden(ctx, st, &wd, final, added)
	}
	if _, err := st.x.exec(ctx, "DELETE FROM ct_events WHERE evidence_id = ? AND id > ?", wd.ID, sw.mark); err != nil {
		return 0, err
	}
	it := *final
	it.Widen = nil
	if !final.Widen.Discard {
		w.stats.Duplicates++
		return 0, nil
	}
	dup, err := w.exists(ctx, st, &it.Evidence)
	if err != nil || dup {
		if dup {
			w.stats.Duplicates++
		}
		return 0, err
	}
	_, err = w.insertEvidence(ctx, st, &it)
	return 0, err
}

// finishWiden moves the evidence row to the state after the widening and
// records the widening.
func (w *Writer) finishWiden(ctx context.Context, st *txState, wd *Widen, it *Item, added int64) error {
	ix := it.Index
	if ix == nil {
		return fmt.Errorf("widen evidence %d: no index state", wd.ID)
	}
	ev := &it.Evidence
	if _, err := st.x.exec(ctx, `UPDATE evidence SET events_filter = ?, records_seen = ?, records_indexed = ?, record_count = ?,
		event_count = ?, events_sha256 = ?, format = CASE WHEN ? <> '' THEN ? ELSE format END,
		error = coalesce(error, ?) WHERE id = ?`,
		ix.filter(), ix.seen(), ix.Indexed, it.RecordCount, nullInt(it.EventCount, it.EventsSHA256 != ""), nullStr(it.EventsSHA256),
		ev.Format, ev.Format, nullStr(ev.Error), wd.ID); err != nil {
		return fmt.Errorf("widen evidence %d: %w", wd.ID, err)
	}
	if _, err := st.x.exec(ctx, `INSERT INTO ct_index_widenings(evidence_id, filter_before, event_count_before,
		events_sha256_before, filter, records_seen, event_count, events_sha256, added) VALUES (?,?,?,?,?,?,?,?,?)`,
		wd.ID, nullStr(wd.Before.Filter), nullInt(wd.Count, wd.Events != ""), nullStr(wd.Events), ix.filter(), ix.seen(),
		nullInt(it.EventCount, it.EventsSHA256 != ""), nullStr(it.EventsSHA256), added); err != nil {
		return fmt.Errorf("record the widening of evidence %d: %w", wd.ID, err)
	}
	w.stats.Widened++
	w.stats.WidenedAdd += int(added)
	return nil
}

// recordIndex records which records of evidence row id are indexed (the
// end of a stream, whose evidence row was inserted at its beginning).
func (w *Writer) recordIndex(ctx context.Context, st *txState, id int64, ix *EventIndex) error {
	_, err := st.x.exec(ctx, "UPDATE evidence SET events_filter = ?, records_seen = ?, records_indexed = ? WHERE id = ?",
		ix.filter(), ix.seen(), ix.indexed(), id)
	return err
}
