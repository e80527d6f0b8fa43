package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/forensic-dev/forensic/internal/regfile"
)

// States of an export's file against a manifest. A public contract: add,
// never rename.
const (
	FileUnchanged = "unchanged"
	FileChanged   = "changed"
	FileMissing   = "missing"
	FileAdded     = "added"
)

// FileState is one file of an export folder checked against what a
// manifest (or a report) recorded of it.
type FileState struct {
	Path   string `json:"path"` // slash path below the folder
	Status string `json:"status"`
	Want   string `json:"want,omitempty"` // the SHA-256 recorded ("" for an added file)
	Got    string `json:"got,omitempty"`  // the SHA-256 now, or why it could not be read
}

// maxManifest bounds the manifest read into memory (about 4 million
// files).
const maxManifest = 1 << 30

// ReadManifest reads and decodes the manifest of the export folder dir —
// MANIFEST.json, else its one MANIFEST-<shards>.json — returning it, its
// file name and the SHA-256 of its bytes.
func ReadManifest(dir string) (*Manifest, string, string, error) {
	name := ManifestName
	if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
		ms, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*.json"))
		switch len(ms) {
		case 0:
			return nil, "", "", fmt.Errorf("export %s: no %s (or MANIFEST-<shards>.json): not a forensic export", dir, ManifestName)
		case 1:
			name = filepath.Base(ms[0])
		default:
			return nil, "", "", fmt.Errorf("export %s: %d shard manifests and no %s: run 'forensic export merge %s' first", dir, len(ms), ManifestName, dir)
		}
	}
	m, sum, err := readManifestFile(filepath.Join(dir, name))
	return m, name, sum, err
}

func readManifestFile(p string) (*Manifest, string, error) {
	b, err := regfile.ReadFileNoFollow(p, maxManifest)
	if err != nil {
		return nil, "", fmt.Errorf("export manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", fmt.Errorf("export manifest %s: %w", p, err)
	}
	if m.Format != Format {
		return nil, "", fmt.Errorf("export manifest %s: format %q, not %q", p, m.Format, Format)
	}
	sum := sha256.Sum256(b)
	return &m, hex.EncodeToString(sum[:]), nil
}

// CheckFolder re-hashes the export folder dir against what was recorded:
// the SHA-256 of the manifest (file name manifest; "" when it is among
// files) and every file's SHA-256 and size. Every file of
// the folder gets one state: unchanged, changed (other bytes, or no
// longer a regular file), missing, or added (in the folder, not
// recorded). States come in path order; the error is for a folder that
// cannot be walked.
func CheckFolder(dir, manifest, manifestSHA256 string, files []File) ([]FileState, error) {
	want := map[string]File{}
	if manifest != "" {
		want[manifest] = File{Path: manifest, SHA256: manifestSHA256, Size: -1}
	}
	for _, f := range files {
		want[f.Path] = f
	}
	seen := map[string]bool{}
	var out []FileState
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		f, listed := want[rel]
		if !listed {
			got := "not recorded"
			if !d.Type().IsRegular() {
				got = "not recorded; " + regfile.TypeName(d.Type())
			}
			out = append(out, FileState{Path: rel, Status: FileAdded, Got: got})
			return nil
		}
		seen[rel] = true
		sum, size, err := regfile.SHA256NoFollow(p)
		switch {
		case err != nil:
			out = append(out, FileState{Path: rel, Status: FileChanged, Want: f.SHA256, Got: err.Error()})
		case sum != f.SHA256 || f.Size >= 0 && size != f.Size:
			out = append(out, FileState{Path: rel, Status: FileChanged, Want: f.SHA256, Got: sum})
		default:
			out = append(out, FileState{Path: rel, Status: FileUnchanged, Want: f.SHA256, Got: sum})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export folder %s: %w", dir, err)
	}
	for p, f := range want {
		if !seen[p] {
			out = append(out, FileState{Path: p, Status: FileMissing, Want: f.SHA256})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Unchanged reports whether every state is unchanged.
func Unchanged(states []FileState) bool {
	for _, s := range states {
		if s.Status != FileUnchanged {
			return false
		}
	}
	return true
}
