package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/forensic-dev/forensic/store"
)

// VerifyRecord is what a `verify` custody entry recorded: its results —
// whether everything was valid ("ok"), item counts by kind and status, and
// findings by type (its outputs "digests", "logs" and "objects", each with
// "by_status", and "findings") — and its inputs: the trust-anchor files
// by content, whether it re-read the evidence, whether weak keys were
// allowed.
type VerifyRecord struct {
	Seq      int64
	Time     string
	OK       bool
	ByKind   statusCounts
	Findings map[string]int64
	Inputs   VerifyInputs
}

// VerifyInputs are the inputs a verify entry records.
type VerifyInputs struct {
	PublicKeys []struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
		Keys   int64  `json:"keys"`
	} `json:"public_keys"`
	Rehash    bool `json:"rehash"`
	AllowWeak bool `json:"allow_weak_keys"`
}

// verifyOutputKinds maps the outputs of a verify entry to item_status
// kinds.
var verifyOutputKinds = map[string]string{"digests": "digest", "logs": "log", "objects": "object",
	"lake_sign_files": "lake_sign_file", "lake_results": "lake_result"}

// LastVerify reads the last verify entry of entries (nil when there is
// none).
func LastVerify(entries []store.CustodyEntry) (*VerifyRecord, error) {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Command != "verify" {
			continue
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(e.Outputs, &out); err != nil {
			return nil, fmt.Errorf("custody entry %d (verify): outputs are not a JSON object: %v", e.Seq, err)
		}
		rec := &VerifyRecord{Seq: e.Seq, Time: e.Time, ByKind: statusCounts{}, Findings: map[string]int64{}}
		if raw, ok := out["ok"]; ok {
			if err := json.Unmarshal(raw, &rec.OK); err != nil {
				return nil, fmt.Errorf("custody entry %d (verify): outputs ok: %v", e.Seq, err)
			}
		}
		if len(e.Inputs) > 0 {
			if err := json.Unmarshal(e.Inputs, &rec.Inputs); err != nil {
				return nil, fmt.Errorf("custody entry %d (verify): inputs: %v", e.Seq, err)
			}
		}
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

// Counts are the items of kind the verify recorded, in all and valid.
func (v *VerifyRecord) Counts(kind string) (total, valid int64) {
	for st, n := range v.ByKind[kind] {
		total += n
		if st == "valid" {
			valid += n
		}
	}
	return total, valid
}

// FindingCount is how many findings the verify recorded.
func (v *VerifyRecord) FindingCount() int64 {
	n := int64(0)
	for _, k := range v.Findings {
		n += k
	}
	return n
}

// compareVerifyRecord lists every count of statuses and findings in which
// the verification results (counts by kind and status, findings by type)
// differ from what the last verify entry of the custody log recorded: item
// statuses or findings edited, added or removed after the verify ran.
func compareVerifyRecord(entries []store.CustodyEntry, counts statusCounts, findings map[string]int64) []string {
	rec, err := LastVerify(entries)
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
