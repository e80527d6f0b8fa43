package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/store"
)

// MergedCase is one of the cases a report over several cases was made
// from (forensic report --case A --case B ...): the case the report
// describes is their merge (store.MergeCase), verified again as a whole.
// Each keeps its own custody log, carried here and checked as the merged
// case's is.
type MergedCase struct {
	CaseID  string         `json:"case_id"`
	Custody CustodySection `json:"custody"`
	Path    string         `json:"path"`   // as named on the command line, made absolute
	SHA256  string         `json:"sha256"` // of the case file when it was merged
	Shards  []string       `json:"shards"` // the shards it holds ([]: every shard of its sources)
	Size    int64          `json:"size"`
	// Objects says the merged case's object verdicts were carried from
	// this case's last verification (verify.Options.CarryObjects).
	Objects bool `json:"objects"`
}

// custodySection is report.json's record of a custody log: the entries,
// their head and count, the case's anchor, and what CheckCustody (and the
// caller) found wrong.
func custodySection(cc *store.CustodyCheck, entries []store.CustodyEntry, problems, notes []string) CustodySection {
	out := []CustodyEntry{}
	for _, e := range entries {
		out = append(out, custodyEntry(e))
	}
	var head *string
	if n := len(entries); n > 0 {
		head = &entries[n-1].Hash
	}
	var anchor *CustodyAnchor
	if cc != nil && cc.Anchored {
		a := cc.Anchor
		anchor = &CustodyAnchor{Present: a.Present, Count: a.Count, Head: a.Head, AnchoredAfter: a.After}
	}
	if problems == nil {
		problems = []string{}
	}
	count, intact := int64(len(entries)), len(problems) == 0
	return CustodySection{Entries: out, HeadHash: head, Count: &count, Anchor: anchor, Intact: &intact,
		Problems: problems, Notes: notes}
}

// DescribeCase is what a report over several cases records of one of
// them: its id, the SHA-256 and size of its file, its shards and its
// custody log, with every problem CheckCustody and CheckCase find in the
// case (the caller refuses a case that has any), and what its last
// verify recorded (nil when none did). It reads the case only.
func DescribeCase(ctx context.Context, c *store.Case) (MergedCase, *VerifyRecord, error) {
	m := MergedCase{Path: c.Path, Shards: []string{}}
	var err error
	if m.CaseID, err = c.CaseID(ctx); err != nil {
		return m, nil, err
	}
	if m.SHA256, m.Size, err = regfile.SHA256NoFollow(c.Path); err != nil {
		return m, nil, fmt.Errorf("case %s: %w", c.Path, err)
	}
	shards, err := c.IngestShards(ctx)
	if err != nil {
		return m, nil, err
	}
	if shards != nil {
		m.Shards = shards
	}
	cc, err := c.CheckCustody(ctx)
	if err != nil {
		return m, nil, err
	}
	// As a report of the case alone checks it: its events as ingest
	// recorded them, its statuses and findings as its last verify did.
	ck, err := CheckCase(ctx, c, cc.Entries)
	if err != nil {
		return m, nil, err
	}
	m.Custody = custodySection(cc, cc.Entries, append(append([]string{}, cc.Problems...), ck.Problems...),
		append(append([]string{}, cc.Notes...), ck.Notes...))
	m.Custody.Note = "this case's own custody log, as it was when the cases were merged; the merged case's log records the merge of each case with its custody head"
	v, err := LastVerify(cc.Entries)
	return m, v, err
}

// mergedText is what the verdict and limitations say of a report over
// several cases.
func mergedText(cases []MergedCase) string {
	var parts []string
	carried := ""
	for _, c := range cases {
		sh := "every shard"
		if len(c.Shards) > 0 {
			sh = "shard"
			if len(c.Shards) > 1 {
				sh += "s"
			}
			sh += " " + strings.Join(c.Shards, ", ")
		}
		parts = append(parts, fmt.Sprintf("%s (case %s, %s)", c.Path, c.CaseID, sh))
		if c.Objects {
			carried = c.Path
		}
	}
	s := fmt.Sprintf("This report covers %d cases merged into one: %s. Their evidence was verified again as one case, with the trust anchors they share, so that findings spanning them (unreferenced log files, access-log correlation, tail coverage, gap explanations from other regions' events) are made over all of it.",
		len(cases), strings.Join(parts, "; "))
	if carried != "" {
		s += " The verdicts of object copies were carried from the verification of " + carried + ", which read their bytes."
	}
	return s
}
