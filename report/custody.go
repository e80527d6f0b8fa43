package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/forensic-dev/forensic/store"
)

// verifyRecord is what the last `verify` custody entry recorded of its
// results: item counts by kind and status, and findings by type (its
// outputs "digests", "logs" and "objects", each with "by_status", and
// "findings").
type verifyRecord struct {
	Seq      int64
	ByKind   statusCounts
	Findings map[string]int64
}

// verifyOutputKinds maps the outputs of a verify entry to item_status
// kinds.
var verifyOutputKinds = map[string]string{"digests": "digest", "logs": "log", "objects": "object"}

// lastVerifyRecord reads the last verify entry of entries (nil when there
// is none).
func lastVerifyRecord(entries []store.CustodyEntry) (*verifyRecord, error) {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Command != "verify" {
			continue
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(e.Outputs, &out); err != nil {
			return nil, fmt.Errorf("custody entry %d (verify): outputs are not a JSON object: %v", e.Seq, err)
		}
		rec := &verifyRecord{Seq: e.Seq, ByKind: statusCounts{}, Findings: map[string]int64{}}
		for name, kind := range verifyOutputKinds {
			var c struct {
				ByStatus map[string]int64 `json:"by_status"`
			}
			if raw, ok := out[name]; ok {
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("custody entry %d (verify): outputs %s: %v", e.Seq, name, err)
				}
			}
			for s, n := range c.ByStatus {
				if n != 0 {
					if rec.ByKind[kind] == nil {
						rec.ByKind[kind] = map[string]int64{}
					}
					rec.ByKind[kind][s] = n
				}
			}
		}
		if raw, ok := out["findings"]; ok {
			if err := json.Unmarshal(raw, &rec.Findings); err != nil {
				return nil, fmt.Errorf("custody entry %d (verify): outputs findings: %v", e.Seq, err)
			}
		}
		return rec, nil
	}
	return nil, nil
}

// compareVerifyRecord lists every count of statuses and findings in which
// the verification results (counts by kind and status, findings by type)
// differ from what the last verify entry of the custody log recorded: item
// statuses or findings edited, added or removed after the verify ran.
func compareVerifyRecord(entries []store.CustodyEntry, counts statusCounts, findings map[string]int64) []string {
	rec, err := lastVerifyRecord(entries)
	if err != nil {
		return []string{err.Error()}
	}
	total := int64(0)
	for _, m := range counts {
		for _, n := range m {
			total += n
		}
	}
	for _, n := range findings {
		total += n
	}
	if rec == nil {
		if total == 0 {
			return nil
		}
		return []string{fmt.Sprintf("the case holds verification results (%d statuses and findings) but its custody log has no verify entry: they were not written by forensic verify", total)}
	}
	var out []string
	type key struct{ kind, status string }
	seen := map[key]bool{}
	var keys []key
	for _, m := range []statusCounts{counts, rec.ByKind} {
		for k, by := range m {
			for s := range by {
				if !seen[key{k, s}] {
					seen[key{k, s}] = true
					keys = append(keys, key{k, s})
				}
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].status < keys[j].status
	})
	for _, k := range keys {
		if got, want := counts[k.kind][k.status], rec.ByKind[k.kind][k.status]; got != want {
			out = append(out, fmt.Sprintf("%d %s items are %q; the verify of custody entry %d recorded %d (item statuses changed after verification)",
				got, k.kind, k.status, rec.Seq, want))
		}
	}
	var types []string
	for _, m := range []map[string]int64{findings, rec.Findings} {
		for t := range m {
			types = append(types, t)
		}
	}
	sort.Strings(types)
	for i, t := range types {
		if i > 0 && types[i-1] == t {
			continue
		}
		if got, want := findings[t], rec.Findings[t]; got != want {
			out = append(out, fmt.Sprintf("%d findings of type %q; the verify of custody entry %d recorded %d (findings changed after verification)",
				got, t, rec.Seq, want))
		}
	}
	return out
}

// findingCounts counts findings by type.
func findingCounts(fs []Finding) map[string]int64 {
	m := map[string]int64{}
	for _, f := range fs {
		m[f.Type]++
	}
	return m
}

// CaseCheck is what the report checks of a case besides its custody
// chain: that its events are those ingest recorded (store.CheckEvents)
// and that its verification results are those the last verify recorded
// in the custody log.
type CaseCheck struct {
	Problems []string
	Notes    []string
	Events   map[int64]store.EventsSum
}

// CheckCase runs those checks on the case c, whose custody log is entries.
func CheckCase(ctx context.Context, c *store.Case, entries []store.CustodyEntry) (*CaseCheck, error) {
	ev, err := c.CheckEvents(ctx)
	if err != nil {
		return nil, err
	}
	r := &CaseCheck{Problems: ev.Problems, Notes: ev.Notes, Events: ev.ByEvidence}
	counts, err := c.StatusCounts(ctx)
	if err != nil {
		return nil, err
	}
	types, err := c.FindingTypeCounts(ctx)
	if err != nil {
		return nil, err
	}
	r.Problems = append(r.Problems, compareVerifyRecord(entries, counts, types)...)
	return r, nil
}
