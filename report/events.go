package report

import "github.com/forensic-dev/forensic/store"

// eventsIndexing is report.json's evidence_summary.events_indexing: which
// CloudTrail records the case indexed (store.EventIndexing). Every log
// file is verified whatever was indexed; the evidence items indexed by a
// filter carry events_filter, records_seen and records_indexed.
func eventsIndexing(x *store.EventIndexing) EventsIndexing {
	groups := []EventsFilterGroup{}
	for _, g := range x.Filters {
		groups = append(groups, EventsFilterGroup{Filter: emptyNil(g.Filter), Description: g.Description, LogFiles: g.LogFiles,
			NotSplit: g.NotSplit, RecordsSeen: g.RecordsSeen, RecordsIndexed: g.RecordsIndexed})
	}
	return EventsIndexing{LogFiles: x.LogFiles, IndexedInFull: x.InFull, IndexedByFilter: x.ByFilter,
		NotIndexed: x.NotIndexed, NotSplit: x.NotSplit, RecordsSeen: x.RecordsSeen,
		RecordsIndexed: x.RecordsIndexed, Filters: groups, FiltersOmitted: x.FiltersOmitted, Partial: x.Partial()}
}
