package sigma

import "github.com/forensic-dev/forensic/store"

// DetectRule is the compiled rule as store.Case.Detect runs it, with the
// rule's identity. verifiedOnly keeps the events of valid log files only
// (forensic detect --verified-only).
func (q *Query) DetectRule(r *Rule, verifiedOnly bool) store.DetectRule {
	d := store.DetectRule{ID: r.ID, Title: r.Title, Level: r.Level, Author: r.Author, Source: r.Source, SHA256: r.SHA256,
		Where: q.Where, Args: q.Args, Cond: q.Cond, CondArgs: q.CondArgs, Names: q.Names, NamesArgs: q.NamesArgs}
	if r.ID == "" {
		d.ID = r.Title
	}
	if verifiedOnly {
		d.Where = "e.verified = 1 AND " + d.Where
		d.Cond = "(e.verified = 1 AND " + d.Cond + ")"
	}
	if th := q.Threshold; th != nil {
		d.Count, d.Within, d.GroupBy, d.GroupArgs = th.Count, th.Within, q.GroupBy, q.GroupArgs
	}
	return d
}
