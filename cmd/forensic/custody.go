package main

import (
	"context"
	"fmt"
	"io"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/store"
)

const custodyUsage = `Usage: forensic custody verify --case CASE.db

Checks the case's custody log: every command that touched the case left an
entry carrying the hash of the entry before it; an altered, removed or
reordered entry is reported. Exit 0 when the chain is intact, 1 otherwise.
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
	entries, err := c.Custody(ctx)
	if err != nil {
		return err
	}
	problems := store.VerifyCustody(entries)
	for _, e := range entries {
		q := display.Quote
		fmt.Fprintf(stdout, "%4d  %s  %-8s %s@%s  %s\n", e.Seq, q(e.Time), q(e.Command), q(e.Operator), q(e.Host), q(e.Hash))
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "BROKEN: %s\n", display.Quote(p))
	}
	if len(problems) > 0 {
		return failedError{fmt.Sprintf("custody log of %s is broken: %d problems", casePath, len(problems))}
	}
	fmt.Fprintf(stdout, "custody log intact: %d entries\n", len(entries))
	return nil
}
