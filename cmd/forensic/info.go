package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/report"
	"github.com/forensic-dev/forensic/store"
)

const infoUsage = `Usage: forensic info --case CASE.db [--json]

What a case holds, in one screen: its id, its sources, its evidence by
kind, its CloudTrail events per account and region with their time span,
its last verify and what it found, its last detect, and its custody log.
The case is opened read-only.
`

// caseInfo is forensic info --json.
type caseInfo struct {
	Case       string            `json:"case"`
	ID         string            `json:"case_id"`
	Sources    []string          `json:"sources"`
	Kinds      map[string]int64  `json:"kinds"`
	Errors     int64             `json:"errors"`
	Events     []store.EventSpan `json:"events"`
	LastVerify *infoEntry        `json:"last_verify"`
	Covered    bool              `json:"verify_covers_case"`
	NotCovered string            `json:"not_covered,omitempty"`
	LastDetect *infoEntry        `json:"last_detect"`
	Custody    int               `json:"custody_entries"`
	Intact     bool              `json:"custody_intact"`
	verify     *report.VerifyRecord
}

type infoEntry struct {
	Seq     int64           `json:"seq"`
	Time    string          `json:"time"`
	Outputs json.RawMessage `json:"outputs"`
}

func cmdInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var casePath string
	var asJSON bool
	fs := newFlagSet("info", infoUsage, stderr)
	fs.StringVar(&casePath, "case", "", "case file (required)")
	fs.BoolVar(&asJSON, "json", false, "print it as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if casePath == "" {
		return usagef("info: --case is required")
	}
	c, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return usagef("info: %v", err)
	}
	defer c.Close()
	in := caseInfo{Case: casePath, Kinds: map[string]int64{}}
	if in.ID, err = c.CaseID(ctx); err != nil {
		return err
	}
	if in.Sources, err = c.Sources(ctx); err != nil {
		return err
	}
	kinds, err := c.EvidenceKindCounts(ctx)
	if err != nil {
		return err
	}
	for _, k := range kinds {
		in.Kinds[k.Kind] = k.Items
		in.Errors += k.Errors
	}
	if in.Events, err = c.EventSpans(ctx); err != nil {
		return err
	}
	cc, err := c.CheckCustody(ctx)
	if err != nil {
		return err
	}
	in.Custody, in.Intact = len(cc.Entries), len(cc.Problems) == 0
	if in.verify, err = report.LastVerify(cc.Entries); err != nil {
		return err
	}
	for i := len(cc.Entries) - 1; i >= 0; i-- {
		e := cc.Entries[i]
		switch {
		case e.Command == "verify" && in.LastVerify == nil:
			in.LastVerify = &infoEntry{e.Seq, e.Time, e.Outputs}
		case e.Command == "detect" && in.LastDetect == nil:
			in.LastDetect = &infoEntry{e.Seq, e.Time, e.Outputs}
		}
	}
	u, err := c.CheckVerified(ctx, 3)
	if err != nil {
		return err
	}
	in.Covered = !u.Any()
	if u.Any() {
		in.NotCovered = u.Reason()
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	printInfo(stdout, &in)
	return nil
}

func printInfo(w io.Writer, in *caseInfo) {
	q := display.Quote
	fmt.Fprintf(w, "case %s (id %s)\n", q(in.Case), q(in.ID))
	fmt.Fprintf(w, "sources: %d\n", len(in.Sources))
	for _, s := range in.Sources {
		fmt.Fprintf(w, "  %s\n", q(s))
	}
	fmt.Fprint(w, "evidence:")
	for _, k := range sortedKeys(in.Kinds) {
		fmt.Fprintf(w, " %s %d;", q(k), in.Kinds[k])
	}
	fmt.Fprintf(w, " %s\n", display.Plural(int(in.Errors), "item could not be read", "items could not be read"))
	total := int64(0)
	for _, e := range in.Events {
		total += e.Events
	}
	fmt.Fprintf(w, "CloudTrail events: %d\n", total)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range in.Events {
		fmt.Fprintf(tw, "  %s\t%s\t%d events\t%s to %s\n", q(orDash(e.Account)), q(orDash(e.Region)), e.Events, q(e.First), q(e.Last))
	}
	tw.Flush()
	if v := in.verify; v != nil {
		verdict := "NOT VERIFIED"
		if v.OK {
			verdict = "VERIFIED"
		}
		dt, dv := v.Counts("digest")
		lt, lv := v.Counts("log")
		ot, ov := v.Counts("object")
		fmt.Fprintf(w, "last verify: %s (custody entry %d): %s; digests %d/%d valid, log files %d/%d, objects %d/%d; %s\n", q(v.Time), v.Seq,
			verdict, dv, dt, lv, lt, ov, ot, display.Plural(int(v.FindingCount()), "finding", "findings"))
	} else {
		fmt.Fprintln(w, "last verify: never (forensic verify --case CASE.db --public-keys KEYS)")
	}
	if !in.Covered && in.LastVerify != nil {
		fmt.Fprintf(w, "  not covered: %s\n", q(in.NotCovered))
	}
	if d := in.LastDetect; d != nil {
		fmt.Fprintf(w, "last detect: %s (custody entry %d)\n", q(d.Time), d.Seq)
	}
	state := "intact"
	if !in.Intact {
		state = "BROKEN (forensic custody verify --case CASE.db lists the problems)"
	}
	fmt.Fprintf(w, "custody log: %s, %s\n", display.Plural(in.Custody, "entry", "entries"), state)
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
