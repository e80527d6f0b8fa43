package ingest

import (
	"bytes"
	"fmt"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// Which CloudTrail records are indexed (Options.Events): every log file is
// read, hashed and inventoried whatever the filter, and every digest
// parsed, so verification is complete; the filter decides only which of a
// log file's records go into ct_events. With a filter that indexes none
// (`--events none`) a log file is not even split into records: it is
// hashed as it is decompressed, nothing more.
//
// The case records, per log file, the filter its records were indexed by,
// how many records the file was split into and how many are indexed
// (store.EventIndex). A later run whose filter indexes records an earlier
// one left out widens the file: it reads it again, and if the bytes hash
// to the recorded SHA-256 it indexes the records the old filter left out
// (re-extracting those already indexed, only to hash them: the item's
// per-file event hash covers all its indexed records in record order),
// and records the union of the two filters. If the bytes at that place
// are not the recorded ones, the new bytes are an item of their own with
// an error, and none of their records is indexed.

// indexPlan says which records of one item are indexed, and counts them.
type indexPlan struct {
	filter store.EventFilter // the records the item ends up with (a widening: the union)
	enc    string            // filter.Encode()
	// A widening: old are the records indexed already (hashed, not sent
	// again), widen the row they are in.
	old   *store.EventFilter
	widen *store.Widen
	// changed, when set, says the bytes at this place are not those of
	// the partially indexed log file the case holds there: nothing is
	// indexed and the item gets this error.
	changed string

	split                           bool
	seen, indexed, added, oldSeenOK int64
}

func newPlan(f store.EventFilter) *indexPlan {
	f = f.Normalize()
	return &indexPlan{filter: f, enc: f.Encode()}
}

// filterFor is the filter for an item (Options.EventsFor, else Events).
func (r *run) filterFor(ev *store.Evidence) store.EventFilter {
	if r.opt.EventsFor != nil {
		if f, ok := r.opt.EventsFor(ev); ok {
			return f
		}
	}
	return r.opt.Events
}

// planFor decides how the records of an item already in the case (seen)
// or new at probe's place are indexed: nil plan with already true when
// the case has every record the run would index.
func (r *run) planFor(probe *store.Evidence, seen *store.RecordedItem) (p *indexPlan, already bool) {
	f := r.filterFor(probe).Normalize()
	if seen != nil {
		if seen.Kind != store.KindCloudTrailLog || !seen.Filter.Valid || f.None() {
			return nil, true
		}
		old, err := store.DecodeEventFilter(seen.Filter.String)
		if err != nil {
			r.recordError(displayEvidence(probe), fmt.Sprintf("not widened: the case records a filter this version cannot read: %v", err))
			return nil, true
		}
		if old.Covers(f) {
			return nil, true
		}
		p := newPlan(old.Union(f))
		p.old = &old
		p.widen = &store.Widen{ID: seen.ID, SHA256: seen.SHA256, Count: seen.Events, Events: seen.EventsSHA256,
			Before: store.EventIndex{Filter: seen.Filter.String, Seen: seen.Seen, Indexed: int64(seen.Records)}}
		return p, false
	}
	p = newPlan(f)
	if !r.widenable || f.None() {
		return p, false
	}
	// Not in the case: is a partially indexed log file recorded at this
	// place with other bytes?
	prev, err := r.check.PartialAt(probe)
	if err != nil {
		r.recordError(displayEvidence(probe), fmt.Sprintf("cannot tell whether the case holds other bytes at this place: %v", err))
		return p, false
	}
	for _, s := range prev {
		if s.SHA256 == probe.SHA256 {
			continue
		}
		old, err := store.DecodeEventFilter(s.Filter.String)
		if err != nil || old.Covers(f) {
			continue
		}
		p = newPlan(store.NoEvents)
		p.changed = changedText(probe.SHA256, s)
		break
	}
	return p, false
}

// streamPlan is planFor for an item the walker streams, whose SHA-256 is
// known only once it is read: a partially indexed log file recorded at
// its place is widened on trust, and finish takes the widening back if
// the bytes turn out to be others.
func (r *run) streamPlan(probe *store.Evidence) *indexPlan {
	f := r.filterFor(probe).Normalize()
	p := newPlan(f)
	if !r.widenable || f.None() {
		return p
	}
	prev, err := r.check.PartialAt(probe)
	if err != nil {
		r.recordError(displayEvidence(probe), fmt.Sprintf("cannot tell whether the case holds this item: %v", err))
		return p
	}
	for _, s := range prev {
		old, err := store.DecodeEventFilter(s.Filter.String)
		if err != nil || old.Covers(f) {
			continue
		}
		w := newPlan(old.Union(f))
		w.old = &old
		w.widen = &store.Widen{ID: s.ID, SHA256: s.SHA256, Count: s.Events, Events: s.EventsSHA256,
			Before: store.EventIndex{Filter: s.Filter.String, Seen: s.Seen, Indexed: int64(s.Records)}}
		w.changed = changedText("", s) // used only if the bytes differ
		return w
	}
	return p
}

func changedText(sha string, s *store.RecordedItem) string {
	these := "these bytes"
	if sha != "" {
		these = "these bytes (SHA-256 " + sha + ")"
	}
	return fmt.Sprintf("changed since an earlier ingest: %s are not those recorded at this place (evidence %d, SHA-256 %s, "+
		"whose records were indexed in part); none of their records is indexed, and the recorded file's are not widened",
		these, s.ID, s.SHA256)
}

func displayEvidence(ev *store.Evidence) string {
	if ev.Member != "" {
		return ev.Path + "!/" + ev.Member
	}
	return ev.Path
}

// index reports what finish records of the item's records, and settles
// a widening: it is dropped (Discard) when the item is not the log file
// recorded (other bytes, another kind) or the old filter no longer
// selects the records the case holds.
func (p *indexPlan) index(ev *store.Evidence, eventsSum string, eventCount int64) (*store.EventIndex, *store.Widen) {
	if ev.Kind != store.KindCloudTrailLog {
		if p.widen != nil {
			w := *p.widen
			w.Discard = true
			return nil, &w
		}
		return nil, nil
	}
	ix := &store.EventIndex{Filter: p.enc, Seen: -1, Indexed: p.indexed}
	if p.split {
		ix.Seen = p.seen
	}
	if p.widen == nil {
		return ix, nil
	}
	w := *p.widen
	switch {
	case ev.SHA256 == "":
		// Not read to its end: recorded with its read error, not widened.
		w.Discard = true
		return &store.EventIndex{Filter: store.NoEvents.Encode(), Seen: -1}, &w
	case ev.SHA256 != w.SHA256:
		w.Discard = true
		// The bytes are an item of their own: nothing of them indexed.
		ev.Error = joinErr(changedText(ev.SHA256, &store.RecordedItem{ID: w.ID, SHA256: w.SHA256}), ev.Error)
		return &store.EventIndex{Filter: store.NoEvents.Encode(), Seen: -1}, &w
	case p.oldSeenOK != w.Before.Indexed || eventCount-p.added != w.Count:
		w.Discard = true
		ev.Error = joinErr(fmt.Sprintf("not widened: the case records %d indexed records of this file (evidence %d), the filter it records "+
			"selects %d of them now (the case was edited, or indexed by another version)", w.Before.Indexed, w.ID, p.oldSeenOK), ev.Error)
		return nil, &w
	}
	return ix, &w
}

func joinErr(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// sniffFormat tells a CloudTrail log's format from the head of its
// content, for a file that is not split into records: "records" when it
// starts {"Records":[, "array" for a top-level array, else "" (not told).
func sniffFormat(head []byte) string {
	i := 0
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	for i < len(head) && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r') {
		i++
	}
	if i >= len(head) {
		return ""
	}
	if head[i] == '[' {
		return cloudtrail.FormatArray
	}
	rest := bytes.TrimLeft(head[i+1:], " \t\r\n")
	if head[i] == '{' && bytes.HasPrefix(rest, []byte(`"Records"`)) {
		rest = bytes.TrimLeft(rest[len(`"Records"`):], " \t\r\n")
		if bytes.HasPrefix(rest, []byte(":")) && bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte("[")) {
			return cloudtrail.FormatRecords
		}
	}
	return ""
}

// entryEvidence is the probe of an entry: its identity, for look-ups.
func (r *run) entryEvidence(e *source.Entry, sha string) store.Evidence {
	ev := r.base(e, store.KindUnknown)
	ev.SHA256 = sha
	return ev
}

// addIndexed hands a whole item to the writer (as add) and counts what
// its plan indexed; added is how many events it hands on.
func (r *run) addIndexed(it *store.Item, added int, p *indexPlan) {
	r.countIndex(it, p)
	r.add(it, added)
}

// countIndex counts in the summary what was indexed of a log file.
func (r *run) countIndex(it *store.Item, p *indexPlan) {
	if p == nil || it.Evidence.Kind != store.KindCloudTrailLog {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.sum
	if it.Widen != nil && it.Widen.Discard {
		if it.Evidence.SHA256 != it.Widen.SHA256 {
			s.LogsNotSplit++ // the new bytes are an item of their own, not indexed
		}
		return
	}
	if !p.split {
		s.LogsNotSplit++
		return
	}
	s.RecordsNotIndexed += int(p.seen - p.indexed)
	if it.Widen != nil {
		s.WidenedEvents += int(p.added)
	}
}
