package report

import "github.com/forensic-dev/forensic/store"

// indexingObj is report.json's evidence_summary.events_indexing: which
// CloudTrail records the case indexed (store.EventIndexing). Every log
// file is verified whatever was indexed; the evidence items indexed by a
// filter carry events_filter, records_seen and records_indexed.
func indexingObj(x *store.EventIndexing) obj {
	groups := []obj{}
	for _, g := range x.Filters {
		groups = append(groups, obj{"filter": emptyNil(g.Filter), "description": g.Description, "log_files": g.LogFiles,
			"not_split": g.NotSplit, "records_seen": g.RecordsSeen, "records_indexed": g.RecordsIndexed})
	}
	return obj{"log_files": x.LogFiles, "indexed_in_full": x.InFull, "indexed_by_filter": x.ByFilter,
		"not_indexed": x.NotIndexed, "not_split": x.NotSplit, "records_seen": x.RecordsSeen,
		"records_indexed": x.RecordsIndexed, "filters": groups, "filters_omitted": x.FiltersOmitted, "partial": x.Partial()}
}
