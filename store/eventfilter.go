package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// EventFilter says which CloudTrail records of a log file ingest indexes
// into ct_events. Every log file is inventoried and hashed whatever the
// filter, so verification never depends on it; only the events a query, a
// timeline or verify's gap explanations can see do.
//
// The zero value indexes every record ("all"). A restricted filter indexes
// the records that match at least one of its clauses; with no clause it
// indexes none ("none").
//
// The case keeps each log file's filter in evidence.events_filter as
// Encode writes it: NULL for all, else a JSON array of clauses, each an
// object with the members that restrict it (absent: any),
//
//	[{"accounts":["111122223333"],"from":"2024-03-04T00:00:00Z","regions":["us-east-1"],"to":"2024-03-05T00:00:00Z"}]
//
// (members sorted, times RFC 3339 UTC, accounts and regions sorted), and
// "[]" for none.
type EventFilter struct {
	Restricted bool
	Clauses    []EventClause // when Restricted; kept normal (see Normalize)
}

// EventClause selects records by time, account and region; a zero member
// does not restrict.
type EventClause struct {
	// From and To bound eventTime: From <= eventTime < To (From
	// inclusive, To exclusive, as `forensic timeline` reads them). A
	// record whose eventTime is absent or not a time matches no clause
	// with a bound.
	From, To time.Time
	// Accounts: the record's recipientAccountId, else its
	// userIdentity.accountId (the account verify's coverage uses).
	Accounts []string
	// Regions: the record's awsRegion.
	Regions []string
}

// AllEvents and NoEvents are the two unrestricted choices of `--events`.
var (
	AllEvents = EventFilter{}
	NoEvents  = EventFilter{Restricted: true}
)

// All reports whether f indexes every record.
func (f EventFilter) All() bool { return !f.Restricted }

// None reports whether f indexes no record.
func (f EventFilter) None() bool { return f.Restricted && len(f.Clauses) == 0 }

// Match reports whether f indexes e.
func (f EventFilter) Match(e *Event) bool {
	if !f.Restricted {
		return true
	}
	if len(f.Clauses) == 0 {
		return false
	}
	var t time.Time
	timeOK, timeDone := false, false
	for i := range f.Clauses {
		c := &f.Clauses[i]
		if (!c.From.IsZero() || !c.To.IsZero()) && !timeDone {
			t, timeOK = eventTimeOf(e.EventTime)
			timeDone = true
		}
		if c.match(e, t, timeOK) {
			return true
		}
	}
	return false
}

func (c *EventClause) match(e *Event, t time.Time, timeOK bool) bool {
	if !c.From.IsZero() || !c.To.IsZero() {
		if !timeOK || !c.From.IsZero() && t.Before(c.From) || !c.To.IsZero() && !t.Before(c.To) {
			return false
		}
	}
	if len(c.Accounts) > 0 && !slices.Contains(c.Accounts, EventAccount(e)) {
		return false
	}
	if len(c.Regions) > 0 && !slices.Contains(c.Regions, e.AWSRegion) {
		return false
	}
	return true
}

// EventAccount is the account a record belongs to for filters and
// coverage: recipientAccountId, else userIdentity.accountId (as
// NewestEventAfter's coalesce(recipient_account_id, account_id)).
func EventAccount(e *Event) string {
	if e.RecipientAccountID != "" {
		return e.RecipientAccountID
	}
	return e.AccountID
}

// eventTimeOf parses a record's eventTime (RFC 3339; CloudTrail writes
// second precision in UTC).
func eventTimeOf(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Normalize returns f in its normal form, the one Encode writes: each
// clause's accounts and regions sorted and deduplicated, its times in
// UTC; clauses that match nothing (From not before To) dropped; a clause
// that restricts nothing makes f all; a clause that another contains
// dropped; two clauses that differ only in accounts, only in regions, or
// only in overlapping or adjacent time spans merged. The normal form
// selects exactly the records f selects.
func (f EventFilter) Normalize() EventFilter {
	if !f.Restricted {
		return AllEvents
	}
	var cs []EventClause
	for _, c := range f.Clauses {
		c = c.normal()
		if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
			continue
		}
		if c.unrestricted() {
			return AllEvents
		}
		cs = append(cs, c)
	}
	for changed := true; changed; {
		changed = false
	pairs:
		for i := 0; i < len(cs); i++ {
			for j := 0; j < len(cs); j++ {
				if i == j {
					continue
				}
				if cs[j].contains(&cs[i]) {
					cs = slices.Delete(cs, i, i+1)
					changed = true
					break pairs
				}
				if m, ok := merge(&cs[i], &cs[j]); ok {
					cs[i] = m
					cs = slices.Delete(cs, j, j+1)
					changed = true
					break pairs
				}
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].key() < cs[j].key() })
	if cs == nil {
		cs = []EventClause{}
	}
	return EventFilter{Restricted: true, Clauses: cs}
}

func (c EventClause) normal() EventClause {
	n := EventClause{Accounts: sortedSet(c.Accounts), Regions: sortedSet(c.Regions)}
	if !c.From.IsZero() {
		n.From = c.From.UTC()
	}
	if !c.To.IsZero() {
		n.To = c.To.UTC()
	}
	return n
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}

func (c *EventClause) unrestricted() bool {
	return c.From.IsZero() && c.To.IsZero() && len(c.Accounts) == 0 && len(c.Regions) == 0
}

// contains reports whether every record c2 selects, c selects.
func (c *EventClause) contains(c2 *EventClause) bool {
	fromOK := c.From.IsZero() || !c2.From.IsZero() && !c2.From.Before(c.From)
	toOK := c.To.IsZero() || !c2.To.IsZero() && !c2.To.After(c.To)
	return fromOK && toOK && subset(c2.Accounts, c.Accounts) && subset(c2.Regions, c.Regions)
}

// subset reports whether the set a restricts at least as much as b: b
// empty (any), or every member of a (a non-empty) in b.
func subset(a, b []string) bool {
	if len(b) == 0 {
		return true
	}
	if len(a) == 0 {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// merge joins two clauses whose union is itself one clause.
func merge(a, b *EventClause) (EventClause, bool) {
	sameTime := a.From.Equal(b.From) && a.To.Equal(b.To)
	sameAcc := slices.Equal(a.Accounts, b.Accounts)
	sameReg := slices.Equal(a.Regions, b.Regions)
	switch {
	case sameTime && sameReg && len(a.Accounts) > 0 && len(b.Accounts) > 0:
		m := *a
		m.Accounts = sortedSet(append(slices.Clone(a.Accounts), b.Accounts...))
		return m, true
	case sameTime && sameAcc && len(a.Regions) > 0 && len(b.Regions) > 0:
		m := *a
		m.Regions = sortedSet(append(slices.Clone(a.Regions), b.Regions...))
		return m, true
	case sameAcc && sameReg && overlapOrTouch(a, b):
		m := *a
		if a.From.IsZero() || b.From.IsZero() {
			m.From = time.Time{}
		} else if b.From.Before(a.From) {
			m.From = b.From
		}
		if a.To.IsZero() || b.To.IsZero() {
			m.To = time.Time{}
		} else if b.To.After(a.To) {
			m.To = b.To
		}
		return m, true
	}
	return EventClause{}, false
}

// overlapOrTouch reports whether [a.From, a.To) and [b.From, b.To) (zero:
// unbounded) overlap or meet.
func overlapOrTouch(a, b *EventClause) bool {
	// a ends before b starts, or b ends before a starts.
	if !a.To.IsZero() && !b.From.IsZero() && a.To.Before(b.From) {
		return false
	}
	if !b.To.IsZero() && !a.From.IsZero() && b.To.Before(a.From) {
		return false
	}
	return true
}

func (c *EventClause) key() string {
	b, _ := json.Marshal(c.encoded())
	return string(b)
}

// Union is the filter that indexes what f or g indexes, normal.
func (f EventFilter) Union(g EventFilter) EventFilter {
	if !f.Restricted || !g.Restricted {
		return AllEvents
	}
	return EventFilter{Restricted: true, Clauses: append(slices.Clone(f.Clauses), g.Clauses...)}.Normalize()
}

// Covers reports whether every record g indexes, f indexes too (judged on
// the normal forms: a g that only a union of f's clauses covers is not
// seen as covered, which costs a re-read, never a record).
func (f EventFilter) Covers(g EventFilter) bool {
	return f.Union(g).Encode() == f.Normalize().Encode()
}

type clauseJSON struct {
	Accounts []string `json:"accounts,omitempty"`
	From     string   `json:"from,omitempty"`
	Regions  []string `json:"regions,omitempty"`
	To       string   `json:"to,omitempty"`
}

func (c *EventClause) encoded() clauseJSON {
	j := clauseJSON{Accounts: c.Accounts, Regions: c.Regions}
	if !c.From.IsZero() {
		j.From = c.From.UTC().Format(time.RFC3339Nano)
	}
	if !c.To.IsZero() {
		j.To = c.To.UTC().Format(time.RFC3339Nano)
	}
	return j
}

// Encode is f's normal form as evidence.events_filter stores it: "" (NULL)
// for all, "[]" for none, else the JSON array of its clauses.
func (f EventFilter) Encode() string {
	n := f.Normalize()
	if !n.Restricted {
		return ""
	}
	cs := make([]clauseJSON, len(n.Clauses))
	for i := range n.Clauses {
		cs[i] = n.Clauses[i].encoded()
	}
	b, _ := json.Marshal(cs)
	return string(b)
}

// DecodeEventFilter reads what Encode wrote ("" is all).
func DecodeEventFilter(s string) (EventFilter, error) {
	if s == "" {
		return AllEvents, nil
	}
	var cs []clauseJSON
	if err := json.Unmarshal([]byte(s), &cs); err != nil {
		return EventFilter{}, fmt.Errorf("events filter %q: %w", s, err)
	}
	if cs == nil {
		return EventFilter{}, fmt.Errorf("events filter %q: not a JSON array", s)
	}
	f := EventFilter{Restricted: true, Clauses: []EventClause{}}
	for _, j := range cs {
		c := EventClause{Accounts: j.Accounts, Regions: j.Regions}
		var err error
		if j.From != "" {
			if c.From, err = time.Parse(time.RFC3339Nano, j.From); err != nil {
				return EventFilter{}, fmt.Errorf("events filter %q: from: %w", s, err)
			}
		}
		if j.To != "" {
			if c.To, err = time.Parse(time.RFC3339Nano, j.To); err != nil {
				return EventFilter{}, fmt.Errorf("events filter %q: to: %w", s, err)
			}
		}
		if c.unrestricted() {
			return EventFilter{}, errors.New("events filter " + s + ": a clause that restricts nothing")
		}
		f.Clauses = append(f.Clauses, c)
	}
	return f.Normalize(), nil
}

// String describes f for people: "all", "none", or its clauses joined by
// " or ", each as "from T to T, accounts A,B, regions R" (the parts that
// restrict it).
func (f EventFilter) String() string {
	n := f.Normalize()
	switch {
	case !n.Restricted:
		return "all"
	case len(n.Clauses) == 0:
		return "none"
	}
	parts := make([]string, len(n.Clauses))
	for i, c := range n.Clauses {
		var p []string
		if !c.From.IsZero() {
			p = append(p, "from "+c.From.Format(time.RFC3339Nano))
		}
		if !c.To.IsZero() {
			p = append(p, "to "+c.To.Format(time.RFC3339Nano)+" (exclusive)")
		}
		if len(c.Accounts) > 0 {
			p = append(p, "accounts "+strings.Join(c.Accounts, ","))
		}
		if len(c.Regions) > 0 {
			p = append(p, "regions "+strings.Join(c.Regions, ","))
		}
		parts[i] = strings.Join(p, ", ")
	}
	return strings.Join(parts, " or ")
}
