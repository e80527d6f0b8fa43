package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// Evidence is never written to: a case file (and its journal beside it),
// a report folder or any other output must not lie inside a source.

// resolve makes p absolute with every symbolic link of its longest
// existing prefix resolved, so that a link cannot hide where it lands.
func resolve(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether p is src or lies below it (both resolved).
func within(p, src string) bool {
	p, src = resolve(p), resolve(src)
	if p == src {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(src, string(filepath.Separator))+string(filepath.Separator))
}

// outputInSource returns a usage error when out (what is named by flag)
// would be written inside one of the sources.
func outputInSource(cmd, flag, out string, sources []string) error {
	for _, s := range sources {
		if within(out, s) {
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
