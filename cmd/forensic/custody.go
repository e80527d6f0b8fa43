package main

import (
	"context"
	"fmt"
	"io"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/report"
	"github.com/forensic-dev/forensic/store"
)

const custodyUsage = `Usage: forensic custody verify --case CASE.db

Checks the case's custody log: every command that touched the case left an
entry carrying the hash of the entry before it, and the case keeps the
number of entries and the hash of the last one (its anchor), so an altered,
removed (the last one too) or reordered entry is reported. It also checks
that every evidence item names the ingest entry that recorded it and every
ingest entry has exactly the items it claimed, that the CloudTrail events
of every item are those ingest recorded (per-file event hashes), and that
the verification results are those the last verify recorded. Values from
the case are printed quoted when they hold control characters. Exit 0 when
all of it holds, 1 otherwise.
`

func cmdCustody(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(stderr, custodyUsage)
		return usagef("custody: expected 'custody verify'")
	}
	var casePath string
	fs := newFlagSet("custody verify", custodyUsage, stderr)
	fs.StringVar(&casePath, "case", "", "case file (required)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if casePath == "" {
		return usagef("custody verify: --case is required")
	}
	c, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return usagef("custody verify: %v", err)
	}
	defer c.Close()
	cc, err := c.CheckCustody(ctx)
	if err != nil {
		return err
	}
	ck, err := report.CheckCase(ctx, c, cc.Entries)
	if err != nil {
		return err
	}
	for _, e := range cc.Entries {
		// Every value comes from the case: quoted when it holds anything
		// that could start a line of its own or pass for another value.
		fmt.Fprintf(stdout, "%4d  %s  %-8s %s@%s  %s\n", e.Seq, display.Quote(e.Time), display.Quote(e.Command),
			display.Quote(e.Operator), display.Quote(e.Host), display.Quote(e.Hash))
	}
	if cc.Anchored {
		fmt.Fprintf(stdout, "anchor: %d entries, head %s\n", cc.Anchor.Count, display.Quote(cc.Anchor.Head))
	}
	problems := append(cc.Problems, ck.Problems...)
	for _, p := range problems {
		fmt.Fprintf(stdout, "BROKEN: %s\n", display.Quote(p))
	}
	for _, n := range append(cc.Notes, ck.Notes...) {
		fmt.Fprintf(stdout, "note: %s\n", display.Quote(n))
	}
	if len(problems) > 0 {
		return failedError{fmt.Sprintf("custody log of %s is broken: %s", casePath, display.Plural(len(problems), "problem", "problems"))}
	}
	fmt.Fprintf(stdout, "custody log intact: %d entries\n", len(cc.Entries))
	return nil
}
