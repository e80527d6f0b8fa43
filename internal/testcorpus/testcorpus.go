// Package testcorpus locates ../shared/corpus, the real third-party data
// every parser test must pass on. The corpus sits beside the repository
// checkout (DEVELOPERS' layout and CI's clone alike); FORENSIC_CORPUS
// overrides the location.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpus folder, or fails the test: a missing corpus is a
// broken test set-up, never a reason to skip.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FORENSIC_CORPUS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			c := filepath.Join(filepath.Dir(d), "shared", "corpus")
			if _, err := os.Stat(c); err != nil {
				t.Fatalf("corpus not found at %s (set FORENSIC_CORPUS): %v", c, err)
			}
			return c
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Path joins elem onto the corpus folder.
func Path(t testing.TB, elem ...string) string {
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}
