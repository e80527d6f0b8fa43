package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/internal/export"
)

// ExportSection is the Parquet export a report covers (report --export):
// its manifest's hash and every file's, so that the report's signature
// covers the dataset.
type ExportSection struct {
	CaseID         string        `json:"case_id"`
	CreatedAt      string        `json:"created_at"`
	Files          []ExportFile  `json:"files"`
	Filters        ExportFilters `json:"filters"`
	Folder         string        `json:"folder"` // as given to report --export
	Format         string        `json:"format"`
	Manifest       string        `json:"manifest"`
	ManifestSHA256 string        `json:"manifest_sha256"`
	Tables         []ExportTable `json:"tables"`
}

// ExportFilters are the export's filters.
type ExportFilters struct {
	From         *string `json:"from"`
	To           *string `json:"to"`
	VerifiedOnly bool    `json:"verified_only"`
}

// ExportTable is one table of the export.
type ExportTable struct {
	Files int64  `json:"files"`
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
}

// ExportFile is one data file of the export.
type ExportFile struct {
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Table  string `json:"table"`
}

// exportSection reads the export at dir, checks that it is an export of
// the case caseID whose every file is as its manifest lists it (no file
// changed, missing or added), and returns the report's section for it.
func exportSection(dir, caseID string, merged []MergedCase) (*ExportSection, error) {
	m, name, sum, err := export.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := exportOfCase(m, caseID, merged); err != nil {
		return nil, fmt.Errorf("export %s %w", dir, err)
	}
	states, err := export.CheckFolder(dir, name, sum, m.Files)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, s := range states {
		if s.Status != export.FileUnchanged {
			bad = append(bad, s.Path+" "+s.Status)
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return nil, fmt.Errorf("export %s is not as its manifest lists it: %s", dir, strings.Join(bad, ", "))
	}
	s := &ExportSection{CaseID: m.CaseID, CreatedAt: m.CreatedAt, Folder: dir, Format: m.Format,
		Manifest: name, ManifestSHA256: sum, Files: []ExportFile{}, Tables: []ExportTable{},
		Filters: ExportFilters{VerifiedOnly: m.Filters.VerifiedOnly, From: emptyNil(m.Filters.From), To: emptyNil(m.Filters.To)}}
	for _, t := range m.Tables {
		s.Tables = append(s.Tables, ExportTable{Name: t.Name, Rows: t.Rows, Files: int64(t.Files)})
	}
	for _, f := range m.Files {
		s.Files = append(s.Files, ExportFile{Path: f.Path, Table: f.Table, SHA256: f.SHA256, Size: f.Size, Rows: f.Rows})
	}
	return s, nil
}

// exportOfCase refuses an export of another case than the report's: the
// export of the case itself, or, for a report over several cases, the
// merge (forensic export merge) of the exports of exactly those cases.
func exportOfCase(m *export.Manifest, caseID string, merged []MergedCase) error {
	if m.CaseID == caseID {
		return nil
	}
	if len(merged) == 0 || m.CaseID != "" || len(m.MergedFrom) == 0 {
		return fmt.Errorf("is of case %s, not of this case (%s)", m.CaseID, caseID)
	}
	want, got := map[string]bool{}, map[string]bool{}
	for _, c := range merged {
		want[c.CaseID] = true
	}
	for _, f := range m.MergedFrom {
		got[f.CaseID] = true
	}
	var missing, extra []string
	for id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		return fmt.Errorf("merges the exports of other cases than this report's: cases %v are not in it, cases %v are not in the report",
			missing, extra)
	}
	return nil
}

// checkExport re-hashes the export at dir against the report's section
// (report verify --export): every file unchanged, changed, missing or
// added.
func (r *VerifyResult) checkExport(s *ExportSection, dir string) error {
	if s == nil {
		r.add("export", false, "a report that covers an export (report --export)", "none",
			"this report covers no export: it cannot vouch for "+dir)
		return nil
	}
	files := make([]export.File, len(s.Files))
	for i, f := range s.Files {
		files[i] = export.File{Path: f.Path, Table: f.Table, SHA256: f.SHA256, Size: f.Size, Rows: f.Rows}
	}
	states, err := export.CheckFolder(dir, s.Manifest, s.ManifestSHA256, files)
	if err != nil {
		return err
	}
	r.Export = states
	counts := map[string]int{}
	for _, st := range states {
		counts[st.Status]++
	}
	ok := export.Unchanged(states)
	got := fmt.Sprintf("%d unchanged, %d changed, %d missing, %d added", counts[export.FileUnchanged],
		counts[export.FileChanged], counts[export.FileMissing], counts[export.FileAdded])
	r.add("export files", ok, fmt.Sprintf("%d files as the signed report lists them (manifest and data)", len(files)+1), got, "")
	return nil
}
