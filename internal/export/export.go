// Package export writes a case as a Parquet dataset that Athena, Trino,
// Spark and DuckDB read: one folder per table, Hive-style partitions for
// the large ones (events by event_date, access_log by request_date), zstd
// compression, dictionary encoding for the low-cardinality columns, and a
// manifest (MANIFEST.json) that lists every file with its SHA-256, size,
// row count and partition values.
//
// The case is read in order and row groups are written as they fill, so
// memory holds one row group of one file, whatever the case's size.
package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Format names the layout of an export; readers check it.
const Format = "forensic-export/1"

// ManifestName is the manifest of an export of one case of a whole
// export, or of shards merged.
const ManifestName = "MANIFEST.json"

// ShardName is the name of a set of shards in file names.
func ShardName(shards []string) string { return strings.Join(shards, "+") }

// ManifestFor is the manifest's name for an export of shards (none:
// ManifestName).
func ManifestFor(shards []string) string {
	if len(shards) == 0 {
		return ManifestName
	}
	return "MANIFEST-" + ShardName(shards) + ".json"
}

// MergedManifest is one shard manifest of a merged export.
type MergedManifest struct {
	Manifest string   `json:"manifest"`
	SHA256   string   `json:"sha256"`
	CaseID   string   `json:"case_id"`
	Shards   []string `json:"shards"`
}

// Default sizes: row groups of about 128 MiB of values, files rolled at
// about 512 MiB of values.
const (
	DefaultRowGroupBytes = 128 << 20
	DefaultFileBytes     = 512 << 20
)

// Options say what to export and where.
type Options struct {
	Out          string // the export folder: created, must not exist or be empty
	VerifiedOnly bool   // events: only the records of log files whose status is valid
	From, To     string // RFC 3339 UTC bounds on event and request times ("" for none); To exclusive
	// RowGroupBytes and FileBytes bound row groups and files by the size
	// of their values (0: the defaults).
	RowGroupBytes, FileBytes int64
	// Workers is how many workers read and write the events (0: one per
	// core).
	Workers int
	// minRangeRows is the fewest records a worker's range holds (tests; 0:
	// 65,536).
	minRangeRows int64
	// Location is where the analyst will put the folder, for the DDL
	// (an s3:// prefix for Athena and Trino); "" means the folder's
	// absolute path.
	Location string
	Tool     string    // the tool that wrote it, for the manifest
	Now      time.Time // the export's time, for the manifest
}

// Manifest lists an export's files.
type Manifest struct {
	Format    string `json:"format"`
	CaseID    string `json:"case_id"`
	CreatedAt string `json:"created_at"`
	Tool      string `json:"tool"`
	Location  string `json:"location"` // where the DDL expects the folder
	// Shards are the shards of the export's case (ingest --shard); empty
	// for a case of a whole export. A shard's manifest is
	// MANIFEST-<shards>.json (ManifestFor).
	Shards []string `json:"shards,omitempty"`
	// MergedFrom lists the shard manifests export merge combined (its
	// CaseID is then empty: the shards are cases of their own).
	MergedFrom []MergedManifest `json:"merged_from,omitempty"`
	Filters    Filters          `json:"filters"`
	Tables     []TableSummary   `json:"tables"`
	Files      []File           `json:"files"`
}

// Filters are the options that chose the rows.
type Filters struct {
	VerifiedOnly bool   `json:"verified_only"`
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
}

// TableSummary is one table of an export.
type TableSummary struct {
	Name        string   `json:"name"`
	Rows        int64    `json:"rows"`
	Files       int      `json:"files"`
	PartitionBy []string `json:"partition_by"`
	// Partitions are the partition values met, in order (for the
	// engines' partition projection ranges).
	Partitions []string `json:"partitions,omitempty"`
}

// File is one data file.
type File struct {
	Path      string            `json:"path"` // slash path below the export folder
	Table     string            `json:"table"`
	SHA256    string            `json:"sha256"`
	Size      int64             `json:"size"`
	Rows      int64             `json:"rows"`
	Partition map[string]string `json:"partition,omitempty"`
}

// HiveNull is the partition value of rows whose partition column is null
// (Hive's, which the engines read as NULL).
const HiveNull = "__HIVE_DEFAULT_PARTITION__"

// prepareOut makes the export folder; an existing one must be empty, so
// that an export never mixes with the files of another.
func prepareOut(dir string) error {
	if dir == "" {
		return errors.New("no export folder given (--out)")
	}
	ents, err := os.ReadDir(dir)
	switch {
	case err == nil && len(ents) > 0:
		return fmt.Errorf("export folder %s is not empty: export into a new folder", dir)
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	default:
		return fmt.Errorf("export folder %s: %w", dir, err)
	}
}

// countingHash is the file a data file is written to, hashed and counted
// as it is written.
type countingHash struct {
	f *os.File
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// shared is what the writers of an export share: the manifest, and each
// table's next file number.
type shared struct {
	mu  sync.Mutex
	m   *Manifest
	seq map[string]int
	// tag makes data file names unique across the exports of several
	// cases: the first 12 characters of the case id.
	tag string
}

func newShared(m *Manifest) *shared {
	return &shared{m: m, seq: map[string]int{}, tag: m.CaseID[:min(12, len(m.CaseID))]}
}

// summary is table name's summary, made on first use.
func (s *shared) summary(name, partBy string) *TableSummary {
	for i := range s.m.Tables {
		if s.m.Tables[i].Name == name {
			return &s.m.Tables[i]
		}
	}
	t := TableSummary{Name: name, PartitionBy: []string{}}
	if partBy != "" {
		t.PartitionBy = []string{partBy}
	}
	s.m.Tables = append(s.m.Tables, t)
	return &s.m.Tables[len(s.m.Tables)-1]
}

func (s *shared) nextSeq(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.seq[name]
	s.seq[name]++
	return n
}

func (s *shared) addFile(f File, partBy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Files = append(s.m.Files, f)
	t := s.summary(f.Table, partBy)
	t.Rows += f.Rows
	t.Files++
	if partBy != "" && !slices.Contains(t.Partitions, f.Partition[partBy]) {
		t.Partitions = append(t.Partitions, f.Partition[partBy])
	}
}

// finish sorts each table's partition values and gives a table without
// rows one empty file, so that its schema is there for the engines.
func finishTable[T any](s *shared, name, partBy string, opt *Options) error {
	s.mu.Lock()
	t := s.summary(name, partBy)
	slices.Sort(t.Partitions)
	empty := t.Files == 0
	s.mu.Unlock()
	if !empty {
		return nil
	}
	w := newTable[T](name, partBy, opt, s)
	part := ""
	if partBy != "" {
		part = HiveNull
	}
	if err := w.openFile(part); err != nil {
		return err
	}
	return w.closeFile()
}

// table writes one table's rows of type T: a file per partition value
// (rows arrive grouped by partition), rolled when it holds FileBytes of
// values, a row group every RowGroupBytes. Several may write one table
// at once, each its own files.
type table[T any] struct {
	name      string
	partBy    string // partition column, "" for none
	opt       *Options
	sh        *shared
	part      string // current partition value
	out       *countingHash
	path      string
	w         *parquet.GenericWriter[T]
	buf       []T
	rows      int64 // in the current file
	fileBytes int64 // values written to the current file
	groupSize int64 // values buffered in the current row group
}

func newTable[T any](name, partBy string, opt *Options, sh *shared) *table[T] {
	sh.mu.Lock()
	sh.summary(name, partBy)
	sh.mu.Unlock()
	return &table[T]{name: name, partBy: partBy, opt: opt, sh: sh}
}

// writerOptions are every file's: zstd, page statistics, the tool.
func writerOptions(tool string) []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.CreatedBy("forensic", tool, ""),
		parquet.DataPageStatistics(true),
	}
}

// add writes a row of partition value part (rows arrive grouped by
// partition) whose values take about size bytes.
func (t *table[T]) add(row T, part string, size int64) error {
	if t.w != nil && part != t.part {
		if err := t.closeFile(); err != nil {
			return err
		}
	}
	if t.w == nil {
		if err := t.openFile(part); err != nil {
			return err
		}
	}
	t.buf = append(t.buf, row)
	t.rows++
	t.groupSize += size
	t.fileBytes += size
	if len(t.buf) >= 1024 {
		if err := t.writeBuf(); err != nil {
			return err
		}
	}
	if t.groupSize >= t.opt.RowGroupBytes {
		if err := t.writeBuf(); err != nil {
			return err
		}
		if err := t.w.Flush(); err != nil {
			return fmt.Errorf("export %s: %w", t.path, err)
		}
		t.groupSize = 0
		if t.fileBytes >= t.opt.FileBytes {
			return t.closeFile()
		}
	}
	return nil
}

func (t *table[T]) writeBuf() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return fmt.Errorf("export %s: %w", t.path, err)
	}
	clear(t.buf)
	t.buf = t.buf[:0]
	return nil
}

func (t *table[T]) openFile(part string) error {
	dir := t.name
	if t.partBy != "" {
		dir += "/" + t.partBy + "=" + part
	}
	t.path = fmt.Sprintf("%s/part-%s-%05d.parquet", dir, t.sh.tag, t.sh.nextSeq(t.name))
	full := filepath.Join(t.opt.Out, filepath.FromSlash(t.path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	t.out = &countingHash{f: f, h: sha256.New()}
	t.w = parquet.NewGenericWriter[T](t.out, writerOptions(t.opt.Tool)...)
	t.part, t.rows, t.fileBytes, t.groupSize = part, 0, 0, 0
	return nil
}

// closeAndFinish ends the current file, and the table (see finishTable):
// for tables one writer writes.
func (t *table[T]) closeAndFinish() error {
	if err := t.closeFile(); err != nil {
		return err
	}
	return finishTable[T](t.sh, t.name, t.partBy, t.opt)
}

// closeFile ends the current file, if any, and lists it.
func (t *table[T]) closeFile() error {
	if t.w == nil {
		return nil
	}
	err := t.writeBuf()
	if err == nil {
		err = t.w.Close()
	}
	if err == nil {
		err = t.out.f.Sync()
	}
	if cerr := t.out.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", t.path, err)
	}
	f := File{Path: t.path, Table: t.name, SHA256: hex.EncodeToString(t.out.h.Sum(nil)), Size: t.out.n, Rows: t.rows}
	if t.partBy != "" {
		f.Partition = map[string]string{t.partBy: t.part}
	}
	t.sh.addFile(f, t.partBy)
	t.w, t.out = nil, nil
	return nil
}

// writeListed writes a file of the export that is not a table's (the
// DDL) and returns its manifest entry.
func writeListed(dir, rel string, data []byte) (File, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(data)
	return File{Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}, nil
}

// writeManifest writes the manifest (files in path order) and returns its
// SHA-256.
func writeManifest(dir, name string, m *Manifest) (string, error) {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	b = append(b, '\n')
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// text is s as a Parquet STRING: invalid UTF-8 bytes replaced by U+FFFD.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// textPtr is text of a nullable string (s itself when valid UTF-8).
func textPtr(s *string) *string {
	if s == nil || utf8.ValidString(*s) {
		return s
	}
	v := text(*s)
	return &v
}

// rawText is b as text (sharing b's bytes: b must not change) and the
// exact bytes when b is not valid UTF-8.
func rawText(b []byte) (string, []byte) {
	if len(b) == 0 {
		return "", nil
	}
	if utf8.Valid(b) {
		return unsafe.String(&b[0], len(b)), nil
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), b
}
