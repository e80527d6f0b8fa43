package export

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzManifest: a manifest is outside data when report verify --export
// or report --export reads a folder. Reading any bytes as one, and
// checking a folder against it, must not panic, and every file gets
// exactly one known state.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"format":"forensic-export/1","case_id":"x","files":[{"path":"events/a.parquet","table":"events","sha256":"00","size":1,"rows":1}]}`))
	f.Add([]byte(`{"format":"forensic-export/1","files":[{"path":"../../etc/passwd","sha256":"","size":-1}]}`))
	f.Add([]byte(`{"format":"forensic-export/1","files":[{"path":"MANIFEST.json"},{"path":"MANIFEST.json"}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "events"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "events", "a.parquet"), []byte("PAR1"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, name, sum, err := ReadManifest(dir)
		if err != nil {
			return
		}
		states, err := CheckFolder(dir, name, sum, m.Files)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, s := range states {
			switch s.Status {
			case FileUnchanged, FileChanged, FileMissing, FileAdded:
			default:
				t.Fatalf("%s: unknown state %q", s.Path, s.Status)
			}
			if seen[s.Path] {
				t.Fatalf("%s has two states", s.Path)
			}
			seen[s.Path] = true
		}
		if !seen[ManifestName] || !seen["events/a.parquet"] {
			t.Fatalf("a file of the folder has no state: %v", states)
		}
	})
}
