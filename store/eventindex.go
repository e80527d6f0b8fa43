package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// EventIndexing says which CloudTrail records of the case's log files are
// indexed in ct_events (evidence.events_filter, records_seen,
// records_indexed). Verification covers every log file whatever was
// indexed; what a query, a timeline or verify's gap explanations see is
// the indexed records only.
type EventIndexing struct {
	LogFiles int64 `json:"log_files"`
	// InFull: every record indexed (no filter; up to the per-file caps).
	InFull int64 `json:"indexed_in_full"`
	// ByFilter: split, and the records a filter selects indexed.
	ByFilter int64 `json:"indexed_by_filter"`
	// NotIndexed: no record indexed (`--events none`); NotSplit of them
	// were not even split into records, so their records are not counted.
	NotIndexed int64 `json:"not_indexed"`
	NotSplit   int64 `json:"not_split"`
	// Records seen (split) and indexed, over every log file; the records
	// of files not split are in neither.
	RecordsSeen    int64 `json:"records_seen"`
	RecordsIndexed int64 `json:"records_indexed"`
	// Filters: each filter the case's log files were indexed by, with
	// their counts (at most maxFilterGroups; FiltersOmitted the rest).
	Filters        []FilterGroup `json:"filters"`
	FiltersOmitted int64         `json:"filters_omitted"`
}

// FilterGroup is the log files indexed by one filter.
type FilterGroup struct {
	Filter         string `json:"filter"`      // EventFilter.Encode ("" for all)
	Description    string `json:"description"` // EventFilter.String
	LogFiles       int64  `json:"log_files"`
	NotSplit       int64  `json:"not_split"`
	RecordsSeen    int64  `json:"records_seen"`
	RecordsIndexed int64  `json:"records_indexed"`
}

const maxFilterGroups = 100

// Partial reports whether some records of some log file are not indexed
// because of a filter.
func (x *EventIndexing) Partial() bool { return x.ByFilter+x.NotIndexed > 0 }

// Text is one sentence for people: how many log files were indexed in
// full, by which filters, and how many records that leaves out.
func (x *EventIndexing) Text() string {
	if !x.Partial() {
		return fmt.Sprintf("every record of the %d CloudTrail log files is indexed (%d events)", x.LogFiles, x.RecordsIndexed)
	}
	var parts []string
	for _, g := range x.Filters {
		if g.Filter == "" {
			parts = append(parts, fmt.Sprintf("%d in full (%d records)", g.LogFiles, g.RecordsIndexed))
			continue
		}
		if g.Filter == "[]" {
			parts = append(parts, fmt.Sprintf("%d not at all (--events none: %d of them not split into records)", g.LogFiles, g.NotSplit))
			continue
		}
		p := fmt.Sprintf("%d by filter %s (%d of their %d records indexed", g.LogFiles, g.Description, g.RecordsIndexed, g.RecordsSeen)
		if g.NotSplit > 0 {
			p += fmt.Sprintf("; %d files not split into records", g.NotSplit)
		}
		parts = append(parts, p+")")
	}
	if x.FiltersOmitted > 0 {
		parts = append(parts, fmt.Sprintf("%d more filters", x.FiltersOmitted))
	}
	return fmt.Sprintf("events are indexed in part: of %d CloudTrail log files, %s; %d of %d records seen are indexed. "+
		"Every log file is verified whatever was indexed; queries, timelines and gap explanations from events see the indexed records only",
		x.LogFiles, strings.Join(parts, ", "), x.RecordsIndexed, x.RecordsSeen)
}

// EventIndexing reads which records of the case's log files are indexed.
func (c *Case) EventIndexing(ctx context.Context) (*EventIndexing, error) {
	x := &EventIndexing{Filters: []FilterGroup{}}
	var v6 int
	if err := c.db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('evidence') WHERE name = 'events_filter'").Scan(&v6); err != nil {
		return nil, fmt.Errorf("read the case schema: %w", err)
	}
	q := `SELECT coalesce(events_filter, ''), count(*), count(*) - count(records_seen),
		coalesce(sum(coalesce(records_seen, records_indexed, record_count, 0)), 0), coalesce(sum(coalesce(records_indexed, record_count, 0)), 0)
		FROM evidence WHERE kind = 'cloudtrail_log' GROUP BY 1 ORDER BY 2 DESC, 1`
	if v6 == 0 {
		q = `SELECT '', count(*), 0, coalesce(sum(coalesce(record_count, 0)), 0), coalesce(sum(coalesce(record_count, 0)), 0)
			FROM evidence WHERE kind = 'cloudtrail_log' HAVING count(*) > 0`
	}
	rows, err := c.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read indexed events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g FilterGroup
		if err := rows.Scan(&g.Filter, &g.LogFiles, &g.NotSplit, &g.RecordsSeen, &g.RecordsIndexed); err != nil {
			return nil, fmt.Errorf("read indexed events: %w", err)
		}
		f, err := DecodeEventFilter(g.Filter)
		switch {
		case err != nil:
			g.Description = fmt.Sprintf("%q (not a filter this version reads)", g.Filter)
		default:
			g.Description = f.String()
		}
		x.LogFiles += g.LogFiles
		x.RecordsSeen += g.RecordsSeen
		x.RecordsIndexed += g.RecordsIndexed
		switch {
		case g.Filter == "":
			x.InFull += g.LogFiles
			g.NotSplit = 0 // rows from before version 6 have no records_seen
		case err == nil && f.None():
			x.NotIndexed += g.LogFiles
			x.NotSplit += g.NotSplit
		default:
			x.ByFilter += g.LogFiles
			x.NotSplit += g.NotSplit
		}
		if len(x.Filters) < maxFilterGroups {
			x.Filters = append(x.Filters, g)
		} else {
			x.FiltersOmitted++
		}
	}
	return x, rows.Err()
}

// IndexState is what the case holds about the records of one evidence
// row: ingest reads it for an item already in the case, to widen it.
type IndexState struct {
	ID     int64
	SHA256 string
	Kind   string
	Filter string // EventFilter.Encode; "" all
	Count  int64  // event_count (0 when none)
	Events string // events_sha256 ("" when none)
	Seen   sql.NullInt64
}
