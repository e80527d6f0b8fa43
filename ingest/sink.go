package ingest

import (
	"sync/atomic"
	"unsafe"

	"github.com/forensic-dev/forensic/store"
)

// itemRowsBytes is how much memory (estimated as rowBytes does) an item's
// rows may hold before they go to the writer: an item whose rows stay
// below it goes whole; a larger one is streamed, its rows handed on in
// parts of about this size (store.Writer's Begin/Add/End), so memory does
// not grow with the rows of one file. Ordinary CloudTrail files (1,000
// records, 2 MB of rows) and access logs go whole.
const itemRowsBytes = 8 << 20

// sink gathers the rows of one item as it is parsed and hands them to the
// writer: whole, or streamed once they outgrow itemRowsBytes. A streamed
// item is still recorded whole or not at all (the writer commits only
// between items, and drops a stream whose item is already in the case).
type sink struct {
	r     *run
	it    *store.Item
	s     *store.Stream
	bytes int64 // rows held in it, estimated
	rows  int   // rows handed on so far
	// events hashes the item's events as they are parsed (off the
	// writer's goroutine), across every part of a stream.
	events *store.EventsHash
	plan   *indexPlan // which records are indexed
}

func (r *run) newSink(ev store.Evidence) *sink {
	return &sink{r: r, it: &store.Item{Evidence: ev}}
}

// hashOnly hashes an event that is indexed already (a widening), in its
// place among the others, without handing it to the writer.
func (k *sink) hashOnly(e *store.Event) {
	if k.events == nil {
		k.events = store.NewEventsHash()
	}
	k.events.Add(e)
}

func (k *sink) event(e store.Event) {
	if k.events == nil {
		k.events = store.NewEventsHash()
	}
	k.events.Add(&e)
	k.it.Events = append(k.it.Events, e)
	k.hold(eventBytes(&e))
}

func (k *sink) access(a store.AccessRow) {
	k.it.AccessRows = append(k.it.AccessRows, a)
	k.hold(accessBytes(&a))
}

func (k *sink) meta(m store.ObjectMeta) {
	k.it.Metas = append(k.it.Metas, m)
	k.hold(metaBytes)
}

func (k *sink) hold(n int64) {
	k.bytes += n
	if k.bytes >= itemRowsBytes {
		k.flush()
	}
}

// count is the number of rows gathered so far.
func (k *sink) count() int {
	return k.rows + len(k.it.Events) + len(k.it.AccessRows) + len(k.it.Metas)
}

// flush hands the rows held to the writer as a part of the item's stream,
// which it opens first if need be. One stream is open at a time in a run:
// the writer commits only while no stream is open.
func (k *sink) flush() {
	if k.s == nil {
		k.r.streams <- struct{}{}
		if k.plan != nil && k.plan.widen != nil {
			k.s = k.r.w.BeginWiden(k.it.Evidence, *k.plan.widen)
		} else {
			k.s = k.r.w.Begin(k.it.Evidence)
		}
		streamsBegun.Add(1)
	}
	p := &store.Item{Events: k.it.Events, AccessRows: k.it.AccessRows, Metas: k.it.Metas}
	k.rows += len(p.Events) + len(p.AccessRows) + len(p.Metas)
	k.it.Events, k.it.AccessRows, k.it.Metas = nil, nil, nil
	k.bytes = 0
	if len(p.Events)+len(p.AccessRows)+len(p.Metas) > 0 {
		k.r.streamAdd(k.s, p)
	}
}

// finish hands the item over with its final evidence row; records is its
// record count.
func (k *sink) finish(ev store.Evidence, records int) {
	k.it.Evidence = ev
	k.it.RecordCount = records
	var sum string
	var n int64
	if k.events != nil {
		sum, n = k.events.Sum(), k.events.Count()
	}
	var ix *store.EventIndex
	var wd *store.Widen
	if k.plan != nil {
		ix, wd = k.plan.index(&ev, sum, n)
		if wd != nil && wd.Discard {
			// Nothing of these bytes is indexed (see indexPlan.index).
			sum, n, records = "", 0, 0
		}
	}
	if k.s == nil {
		k.it.Evidence = ev
		k.it.RecordCount = records
		k.it.EventsSHA256, k.it.EventCount = sum, n
		k.it.Index, k.it.Widen = ix, wd
		if wd != nil && wd.Discard {
			// Not widened (see indexPlan.index): a buffered item's bytes
			// are the recorded ones (it was found by them), so it counts
			// as the case has it, and the writer drops it.
			k.it.Events, k.it.Widen = nil, nil
			k.it.RecordCount = int(wd.Before.Indexed)
			k.r.add(k.it, 0)
			return
		}
		k.r.addIndexed(k.it, len(k.it.Events), k.plan)
		return
	}
	k.flush()
	final := &store.Item{Evidence: ev, RecordCount: records, EventsSHA256: sum, EventCount: n, Index: ix, Widen: wd}
	k.r.count(final)
	k.r.countIndex(final, k.plan)
	k.r.items.Add(1)
	if ev.Kind == store.KindCloudTrailLog && (wd == nil || !wd.Discard) {
		k.r.events.Add(int64(k.rows))
	}
	k.s.End(final)
	<-k.r.streams
	k.s = nil
}

// streamsBegun counts the items streamed to the writer (for tests).
var streamsBegun atomic.Int64

// Estimates of the memory rows hold, for the budgets.
var (
	eventSize  = int64(unsafe.Sizeof(store.Event{}))
	accessSize = int64(unsafe.Sizeof(store.AccessRow{}))
)

// metaBytes is the estimated memory of one object-metadata row.
const metaBytes = 1 << 10

// eventBytes is the memory an event holds: the struct, its extracted
// strings and its raw bytes.
func eventBytes(e *store.Event) int64 {
	n := eventSize + int64(len(e.Raw))
	for _, s := range []*string{&e.EventID, &e.EventTime, &e.EventVersion, &e.EventSource, &e.EventName,
		&e.EventType, &e.EventCategory, &e.AWSRegion, &e.SourceIP, &e.UserAgent, &e.Principal, &e.IdentityType,
		&e.AccessKeyID, &e.UserName, &e.AccountID, &e.RecipientAccountID, &e.ErrorCode, &e.ErrorMessage,
		&e.RequestID, &e.SharedEventID} {
		n += int64(len(*s))
	}
	return n
}

// accessBytes is the memory an encoded access-log line holds.
func accessBytes(a *store.AccessRow) int64 {
	return accessSize + int64(len(a.Raw)+len(a.Spans)+len(a.Fields)+len(a.Extra)+len(a.Time)+len(a.ParseError))
}
