// Package testcorpus locates the real third-party data every parser test
// must pass on. The data lives in the repository, in
// internal/testcorpus/testdata/corpus, with its provenance and licence
// notices (PROVENANCE.md, and the LICENSE files of the sets that ship one):
// the tests need nothing beside the checkout, and read nothing outside it.
package testcorpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the corpus folder, or fails the test: a missing corpus is a
// broken test set-up, never a reason to skip.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testcorpus: cannot tell where the package source is")
	}
	c := filepath.Join(filepath.Dir(file), "testdata", "corpus")
	if _, err := os.Stat(filepath.Join(c, "PROVENANCE.md")); err != nil {
		t.Fatalf("corpus not found at %s (it is part of the repository): %v", c, err)
	}
	return c
}

// Path joins elem onto the corpus folder.
func Path(t testing.TB, elem ...string) string {
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}
