package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/forensic-dev/forensic/internal/lake"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// DefaultMaxLakeRowBytes bounds the bytes of the rows of one CloudTrail
// Lake result file that --lake-rows indexes (they are held until the item
// is written); the rows past it are counted, not indexed, and the item
// says so.
const DefaultMaxLakeRowBytes = 16 << 20

// lakeFolder is the folder of a Lake file in the evidence: the query's
// folder. An archive member's is named with its archive
// (path!/dir), so that two archives' folders of the same name stay apart.
func lakeFolder(e *source.Entry) string { return lakeFolderOf(e.Path, e.Member) }

func lakeFolderOf(file, member string) string {
	if member != "" {
		dir := path.Dir(strings.ReplaceAll(member, "!/", "/"))
		return filepath.ToSlash(file) + "!/" + dir
	}
	return filepath.ToSlash(filepath.Dir(file))
}

// lakeKey is the S3 key a Lake file's name holds (from AWSLogs/ on), or "".
func lakeKey(name string) string {
	if i := strings.Index(name, "AWSLogs/"); i >= 0 && (i == 0 || name[i-1] == '/') {
		return name[i:]
	}
	return ""
}

// parseLakeSign keeps a sign file whole (verify parses it and checks its
// signature).
func (r *run) parseLakeSign(e *source.Entry, it *store.Item, content []byte) {
	it.Evidence.S3Key = lakeKey(fullName(e))
	it.Lake = &store.LakeItem{Folder: lakeFolder(e), Sign: append([]byte{}, content...)}
	it.RecordCount = 1
}

// parseLakeResult reads a Lake result file's CSV (rd: its content,
// decompressed) as it streams (lake.ReadResultCSV, bounded per record):
// its header and row count, and with --lake-rows its rows, up to
// DefaultMaxLakeRowBytes of them.
func (r *run) parseLakeResult(rd io.Reader, e *source.Entry, k *sink) (int, error) {
	it := k.it
	it.Evidence.S3Key = lakeKey(fullName(e))
	l := &store.LakeItem{Folder: lakeFolder(e)}
	it.Lake = l
	var held int64
	keep := func(rec []string) error {
		if held >= DefaultMaxLakeRowBytes {
			return nil
		}
		row := make([]string, len(rec))
		for i, f := range rec {
			row[i] = strings.Clone(f)
			held += int64(len(f)) + 16
		}
		l.Rows = append(l.Rows, row)
		return nil
	}
	if !r.opt.LakeRows {
		keep = nil
	}
	header, n, err := lake.ReadResultCSV(rd, keep)
	l.Header, l.Count = header, n
	if err == nil && r.opt.LakeRows && int64(len(l.Rows)) < l.Count {
		err = fmt.Errorf("%d of its %d rows indexed (--lake-rows keeps %d MiB of rows per file); all are counted",
			len(l.Rows), l.Count, DefaultMaxLakeRowBytes>>20)
	}
	if err != nil {
		err = fmt.Errorf("lake result: %w", err)
		l.Error = err.Error()
	}
	return int(l.Count), err
}

// classifyLake is the Lake part of classification: a sign file by its name
// and content; a result file by its name in a query folder, or (a local
// export, a flattened copy) by a result file's name in a folder on disk
// that holds a sign file, with content that is text. Archive members of
// the second kind are found after the walk (markLakeResults).
func classifyLake(e *source.Entry, name string, looks []byte) string {
	switch {
	case lake.LooksLikeSignFile(name, looks):
		return store.KindLakeSign
	case lake.LooksLikeResult(name):
		return store.KindLakeResult
	case e.Member == "" && lake.IsResultName(path.Base(name)) && !bytes.ContainsRune(looks, 0) && signBeside(e.Path):
		return store.KindLakeResult
	}
	return ""
}

// signBeside reports whether the folder of the file at p holds a regular
// file named like a sign file.
func signBeside(p string) bool {
	ents, err := os.ReadDir(filepath.Dir(p))
	if err != nil {
		return false
	}
	for _, d := range ents {
		n := d.Name()
		if d.Type().IsRegular() && strings.HasPrefix(n, "result_sign") && strings.HasSuffix(n, ".json") {
			return true
		}
	}
	return false
}

// markLakeResults finds, after the walk, the archive members named like
// Lake result files in a folder of the same archive that holds a sign
// file, and records them as result files (their CSV is not indexed: the
// walk had passed them; their hash, which verify checks, is recorded).
func markLakeResults(ctx context.Context, c *store.Case) (int, error) {
	signs, err := c.EvidenceOfKinds(ctx, store.KindLakeSign)
	if err != nil || len(signs) == 0 {
		return 0, err
	}
	dirs := map[string]bool{}
	for _, s := range signs {
		if s.Member != "" {
			dirs[lakeFolderOf(s.Path, s.Member)] = true
		}
	}
	if len(dirs) == 0 {
		return 0, nil
	}
	unknown, err := c.EvidenceOfKinds(ctx, store.KindUnknown)
	if err != nil {
		return 0, err
	}
	var found []store.LakeResultFound
	for _, u := range unknown {
		if u.Member == "" || !lake.IsResultName(path.Base(strings.ReplaceAll(u.Member, "!/", "/"))) {
			continue
		}
		if f := lakeFolderOf(u.Path, u.Member); dirs[f] {
			found = append(found, store.LakeResultFound{ID: u.ID, Folder: f,
				Note: "recognised after the archive was read (beside a sign file, not in a query folder): its CSV header and rows are not indexed; its hash is"})
		}
	}
	if len(found) == 0 {
		return 0, nil
	}
	return len(found), c.MarkLakeResults(ctx, found)
}
