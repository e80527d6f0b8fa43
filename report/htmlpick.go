package report

import (
	"sort"
)

// report.html shows at most a few hundred rows of each list; report.json
// holds every row. Which rows are shown must not be up to the evidence:
// 600 junk files whose keys sort first would otherwise push the one
// hash_mismatch out of a table cut at 500 rows in key order. So each list
// is grouped — statuses by (kind, status), findings by (severity, type),
// the inventory by (status, kind) — every group is shown with at least
// one row, the rows are shared out so that only the largest groups are
// cut (each cut group says how many of its rows are in report.json only),
// and the groups are shown most serious first.

// statusOrder is the order of severity of item statuses in report.html,
// most serious first: the evidence contradicts its signed or exported
// record; it cannot be read as what it claims to be; it is signed by a
// key that does not prove it; it is not where it should be, or absent;
// its proof is unavailable; it is not covered by any proof. A status not
// listed here (from a newer version, or a case edited by hand) cannot be
// judged and comes first; valid comes last.
var statusOrder = []string{
	"hash_mismatch", "checksum_mismatch", "size_mismatch", "signature_invalid", "chain_mismatch",
	"changed_since_ingest", "format_invalid", "trailing_data",
	"key_unknown", "key_not_valid_at_time",
	"moved", "missing", "object_missing",
	"signature_unavailable", "metadata_missing",
	"unreferenced", "unverified", "unverifiable", "not_covered",
}

// severityOrder is the order of finding severities in report.html; a
// finding without a known severity comes first.
var severityOrder = []string{"error", "warning", "info"}

// inventoryError labels evidence items that have no verification status
// but could not be read or parsed at ingest; inventoryNone those with
// neither.
const (
	inventoryError = "ingest error"
	inventoryNone  = "no status"
)

func orderRank(order []string, s string) int {
	for i, o := range order {
		if o == s {
			return i + 1
		}
	}
	return 0
}

// statusRank ranks a status for report.html (lower first).
func statusRank(s string) int {
	switch s {
	case inventoryError:
		return len(statusOrder) + 1
	case inventoryNone:
		return len(statusOrder) + 2
	case "valid":
		return len(statusOrder) + 3
	}
	return orderRank(statusOrder, s)
}

// kindRank puts the item kinds of verify first, in their order.
func kindRank(k string) int { return orderRank([]string{"digest", "log", "object"}, k) - 1 }

// groupKey names a group: rank orders groups, lowest first; a and b are
// the group's two labels (and break ties).
type groupKey struct {
	rank [2]int
	a, b string
}

func statusGroup(kind, status string) groupKey {
	return groupKey{rank: [2]int{statusRank(status), kindRank(kind)}, a: kind, b: status}
}

func findingGroup(severity, typ string) groupKey {
	return groupKey{rank: [2]int{orderRank(severityOrder, severity)}, a: severity, b: typ}
}

// inventoryGroup groups an evidence item by its status (or whether it
// had an ingest error) and kind.
func inventoryGroup(kind string, status *string, ingestErr bool) groupKey {
	label := deref(status)
	switch {
	case label != "":
	case ingestErr:
		label = inventoryError
	default:
		label = inventoryNone
	}
	return groupKey{rank: [2]int{statusRank(label), 0}, a: label, b: kind}
}

func (k groupKey) less(o groupKey) bool {
	if k.rank != o.rank {
		return k.rank[0] < o.rank[0] || (k.rank[0] == o.rank[0] && k.rank[1] < o.rank[1])
	}
	if k.a != o.a {
		return k.a < o.a
	}
	return k.b < o.b
}

// quotas shares budget rows among groups of the given sizes: every
// non-empty group gets at least one row and no group more than it has;
// groups that fit in an equal share get all their rows, and what is left
// is shared equally among the larger ones. The total is at most budget,
// or the number of non-empty groups when that is larger.
func quotas(sizes []int64, budget int64) []int64 {
	idx := make([]int, len(sizes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return sizes[idx[a]] < sizes[idx[b]] })
	q := make([]int64, len(sizes))
	left := budget
	for n, i := range idx {
		share := max(left/int64(len(idx)-n), 1)
		q[i] = min(sizes[i], share)
		left -= q[i]
	}
	return q
}

// pickGroup is one group of a picked list.
type pickGroup[T any] struct {
	key   groupKey
	quota int64
	total int64 // rows seen
	rows  []T   // the first quota rows, in list order
}

// More is how many rows of the group report.html leaves out.
func (g *pickGroup[T]) More() int64 { return g.total - int64(len(g.rows)) }

// picker chooses the rows of one list for report.html as they stream by,
// from the size of each group known beforehand (counts). It keeps at most
// budget rows, plus one per group the counts missed.
type picker[T any] struct {
	groups map[groupKey]*pickGroup[T]
}

func newPicker[T any](counts map[groupKey]int64, budget int64) *picker[T] {
	p := &picker[T]{groups: map[groupKey]*pickGroup[T]{}}
	keys := make([]groupKey, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	sizes := make([]int64, len(keys))
	for i, k := range keys {
		sizes[i] = counts[k]
	}
	for i, q := range quotas(sizes, budget) {
		p.groups[keys[i]] = &pickGroup[T]{key: keys[i], quota: q}
	}
	return p
}

// add offers the next row of the list.
func (p *picker[T]) add(k groupKey, o T) {
	g := p.groups[k]
	if g == nil { // not counted beforehand: still shown
		g = &pickGroup[T]{key: k, quota: 1}
		p.groups[k] = g
	}
	g.total++
	if int64(len(g.rows)) < g.quota {
		g.rows = append(g.rows, o)
	}
}

// list returns the groups that received rows, most serious first, and
// the number of rows left out in all.
func (p *picker[T]) list() ([]*pickGroup[T], int64) {
	var out []*pickGroup[T]
	var more int64
	if p == nil {
		return nil, 0
	}
	for _, g := range p.groups {
		if g.total > 0 {
			out = append(out, g)
			more += g.More()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key.less(out[j].key) })
	return out, more
}

// statusPicker picks from the statuses that are not valid, by (kind,
// status), sized by the status counts.
func statusPicker(sc statusCounts) *picker[ItemStatus] {
	counts := map[groupKey]int64{}
	for kind, m := range sc {
		for status, n := range m {
			if status != "valid" {
				counts[statusGroup(kind, status)] = n
			}
		}
	}
	return newPicker[ItemStatus](counts, htmlMaxStatuses)
}

// pickFindings picks from findings by (severity, type).
func pickFindings(fs []Finding) ([]*pickGroup[Finding], int64) {
	counts := map[groupKey]int64{}
	for _, f := range fs {
		counts[findingGroup(f.Severity, f.Type)]++
	}
	p := newPicker[Finding](counts, htmlMaxFindings)
	for _, f := range fs {
		p.add(findingGroup(f.Severity, f.Type), f)
	}
	return p.list()
}
