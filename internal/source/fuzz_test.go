package source

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzWalkArchive writes the input to a file and walks it with small caps:
// Walk must not panic or fail, must end with one container (or be a single
// ordinary entry), and the top-level container must hash the exact input.
func FuzzWalkArchive(f *testing.F) {
	ms := []member{{name: "a.json.gz", body: gzipBytes(f, []byte(`{"Records":[]}`))}, {name: "../b", body: []byte("bee")}}
	tarB := tarBytes(f, ms...)
	zipB := zipBytes(f, ms...)
	for _, seed := range [][]byte{
		tarB,
		gzipBytes(f, tarB),
		zstdBytes(f, tarB),
		zipB,
		storedZip(f, ms...),
		storedZip(f, ms...)[:200],
		zipB[:len(zipB)/2],
		gzipBytes(f, tarBytes(f, member{name: "in.zip", body: zipB}, member{name: "in.tgz", body: gzipBytes(f, tarB)})),
		zipBytes(f, member{name: "in.tar.zst", body: zstdBytes(f, tarB)}),
		gzipBytes(f, []byte("plain")),
		[]byte("PK\x05\x06" + string(make([]byte, 18))),
		tarBytes(f, member{name: "h", typeflag: tar.TypeLink, link: "a"}, member{name: "p", typeflag: tar.TypeFifo},
			member{name: "c", typeflag: tar.TypeChar}, member{name: "b", typeflag: tar.TypeBlock}),
	} {
		f.Add(seed)
	}
	opt := Options{MaxArchiveBytes: 1 << 20, MaxRatio: 50, MaxNestedBuffer: 256 << 10, MaxDepth: 3}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "in")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var last Entry
		n := 0
		var single []byte
		// A walk of a small input must end quickly; a hang is a bug (an
		// unbounded expansion the caps miss).
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		watchdog := time.AfterFunc(30*time.Second, func() { panic("Walk did not return within 30s") })
		defer watchdog.Stop()
		err := Walk(ctx, p, opt, func(e *Entry, r io.Reader) error {
			if e.Source != p || e.Path != p {
				t.Errorf("entry %s: Source %q Path %q, want %q", e.Name(), e.Source, e.Path, p)
			}
			if SpecialType(e.Mode) != "" && (r != nil || e.Err != nil) {
				t.Errorf("special entry %s has a reader or an error (%v)", e.Name(), e.Err)
			}
			if e.Err != nil && strings.Contains(e.Err.Error(), p) {
				t.Errorf("entry %s: error %q repeats the path", e.Name(), e.Err)
			}
			if r != nil {
				b, _ := io.ReadAll(io.LimitReader(r, 64<<20))
				if e.Member == "" {
					single = b
				}
			}
			last = *e
			n++
			return nil
		})
		if err != nil {
			t.Fatalf("Walk: %v", err)
		}
		switch {
		case last.Container:
			if last.Member != "" || last.SHA256 != sha(data) || last.Size != int64(len(data)) {
				t.Errorf("top container %q: SHA256 %s size %d, want %s %d", last.Member, last.SHA256, last.Size, sha(data), len(data))
			}
		case n == 1:
			if string(single) != string(data) {
				t.Errorf("ordinary file content differs from input")
			}
		default:
			t.Errorf("walk of %d entries does not end with the container: %+v", n, last)
		}
	})
}
