package main

import (
	"context"
	"os"

	"github.com/forensic-dev/forensic/internal/location"
	"github.com/forensic-dev/forensic/store"
)

// Evidence is never written to: a case file (and its journal beside it),
// a report folder or any other output must not lie inside a source.

// outputInSource returns a usage error when out (what is named by flag)
// would be written inside one of the sources.
func outputInSource(cmd, flag, out string, sources []string) error {
	for _, s := range sources {
		if location.Within(out, s) {
			return usagef("%s: %s %s lies inside the evidence %s; evidence is never written to: choose a path outside it", cmd, flag, out, s)
		}
	}
	return nil
}

// caseSources returns the sources recorded in a case (the arguments of
// its ingests), "" when the case does not exist yet.
func caseSources(ctx context.Context, casePath string) []string {
	if _, err := os.Stat(casePath); err != nil {
		return nil
	}
	c, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return nil
	}
	defer c.Close()
	srcs, err := c.Sources(ctx)
	if err != nil {
		return nil
	}
	return srcs
}
