package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Merge combines the exports of shards copied into one folder dir (each
// with its MANIFEST-<shards>.json; data file names never collide, as they
// carry their case's id) into one dataset: it checks every shard
// manifest's files, refuses two manifests that claim one shard or one
// file, and files no manifest lists, then writes the DDL of the whole
// (ddl/) and MANIFEST.json, which lists every file, the shard manifests
// among them, and what it merged. It returns the manifest and its
// SHA-256.
func Merge(dir, location, tool string, now time.Time) (*Manifest, string, error) {
	if _, err := os.Lstat(filepath.Join(dir, ManifestName)); err == nil {
		return nil, "", fmt.Errorf("export merge %s: it has a %s already", dir, ManifestName)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "MANIFEST-*.json"))
	if err != nil {
		return nil, "", err
	}
	if len(paths) == 0 {
		return nil, "", fmt.Errorf("export merge %s: no shard manifest (MANIFEST-<shards>.json)", dir)
	}
	sort.Strings(paths)
	if location == "" {
		if location, err = filepath.Abs(dir); err != nil {
			return nil, "", err
		}
	}
	m := &Manifest{Format: Format, CreatedAt: now.UTC().Format(time.RFC3339Nano), Tool: tool, Location: location,
		Files: []File{}}
	sh := newShared(m)
	for _, name := range Tables {
		sh.summary(name, partitionOf[name])
	}
	byShard := map[string]string{}
	byFile := map[string]string{}
	var problems []string
	var filters *Filters
	for _, p := range paths {
		name := filepath.Base(p)
		sm, sum, err := readManifestFile(p)
		if err != nil {
			return nil, "", err
		}
		if len(sm.Shards) == 0 || ManifestFor(sm.Shards) != name {
			problems = append(problems, fmt.Sprintf("%s does not name the shards its name says (%v)", name, sm.Shards))
			continue
		}
		if filters == nil {
			filters = &sm.Filters
		} else if *filters != sm.Filters {
			problems = append(problems, fmt.Sprintf("%s was exported with other filters (%+v, not %+v)", name, sm.Filters, *filters))
		}
		for _, s := range sm.Shards {
			if other, ok := byShard[s]; ok {
				problems = append(problems, fmt.Sprintf("shard %s is in both %s and %s", s, other, name))
			}
			byShard[s] = name
		}
		m.MergedFrom = append(m.MergedFrom, MergedManifest{Manifest: name, SHA256: sum, CaseID: sm.CaseID, Shards: sm.Shards})
		m.Files = append(m.Files, File{Path: name, Table: "manifest", SHA256: sum, Size: fileSize(p)})
		for _, f := range sm.Files {
			if other, ok := byFile[f.Path]; ok {
				problems = append(problems, fmt.Sprintf("%s is in both %s and %s", f.Path, other, name))
				continue
			}
			byFile[f.Path] = name
			m.Files = append(m.Files, f)
			if f.Table == "ddl" {
				continue
			}
			sh.addFileSummary(f, partitionOf[f.Table])
		}
	}
	if filters != nil {
		m.Filters = *filters
	}
	// Every file: as its manifest lists it; none that no manifest lists.
	states, err := CheckFolder(dir, "", "", m.Files)
	if err != nil {
		return nil, "", err
	}
	for _, s := range states {
		if s.Status != FileUnchanged {
			problems = append(problems, s.Path+" "+s.Status)
		}
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return nil, "", errors.New("export merge " + dir + ": " + strings.Join(problems, "; "))
	}
	for i := range m.Tables {
		slices.Sort(m.Tables[i].Partitions)
	}
	if err := writeDDL(dir, "ddl", location, m); err != nil {
		return nil, "", err
	}
	sum, err := writeManifest(dir, ManifestName, m)
	if err != nil {
		return nil, "", err
	}
	return m, sum, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// addFileSummary counts a file into its table's summary (no manifest
// entry: the caller lists it).
func (s *shared) addFileSummary(f File, partBy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.summary(f.Table, partBy)
	t.Rows += f.Rows
	t.Files++
	if partBy != "" && f.Partition != nil && !slices.Contains(t.Partitions, f.Partition[partBy]) {
		t.Partitions = append(t.Partitions, f.Partition[partBy])
	}
}
