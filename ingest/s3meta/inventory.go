package s3meta

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/store"
)

// maxInventoryLine bounds one physical line of an inventory CSV. A row is
// a few hundred bytes plus a key of at most 1,024 UTF-8 bytes, which URL
// encoding can triple; anything near 1 MiB is not inventory.
const maxInventoryLine = 1 << 20

// InventoryColumns splits a CSV fileSchema ("Bucket, Key, VersionId, ...",
// comma and space separated) into column names. Empty and repeated names
// are errors, and Bucket and Key must be present.
func InventoryColumns(fileSchema string) ([]string, error) {
	var cols []string
	seen := map[string]bool{}
	for _, c := range strings.Split(fileSchema, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, fmt.Errorf("fileSchema %q: empty column name", fileSchema)
		}
		if seen[c] {
			return nil, fmt.Errorf("fileSchema %q: column %s listed twice", fileSchema, c)
		}
		seen[c] = true
		cols = append(cols, c)
	}
	for _, need := range []string{"Bucket", "Key"} {
		if !seen[need] {
			return nil, fmt.Errorf("fileSchema %q: no %s column", fileSchema, need)
		}
	}
	return cols, nil
}

// ParseInventoryCSV streams an S3 Inventory CSV data file (already
// decompressed) whose columns are those of the manifest's fileSchema, in
// that order; a first row equal to the column names is taken as a header
// and skipped. Each good row is passed to emit as a new ObjectMeta with
// Source "inventory-csv":
//
//	Bucket -> Bucket           Key -> Key (url.QueryUnescape: '+' is space)
//	VersionId -> VersionID     IsLatest -> IsLatest      IsDeleteMarker -> DeleteMarker
//	Size -> Size               LastModifiedDate -> LastModified (awstime)
//	ETag -> ETag (quotes removed)   StorageClass -> StorageClass
//	IsMultipartUploaded -> Multipart   EncryptionStatus -> SSE
//	ChecksumAlgorithm -> Algorithms (split at commas)
//
// Other columns are read past. Empty fields leave the value unset. A row
// that does not parse (wrong field count, bad boolean, number, time or key
// encoding, CSV quoting) goes to emitErr with its 1-based line number and
// reading goes on. An error from emit, an unusable fileSchema, a read
// error, or a line over 1 MiB stops the parse and is returned.
func ParseInventoryCSV(r io.Reader, fileSchema string, emit func(*store.ObjectMeta) error, emitErr func(line int, err error)) error {
	cols, err := InventoryColumns(fileSchema)
	if err != nil {
		return err
	}
	ll := &lineLimiter{r: r, max: maxInventoryLine, line: 1}
	cr := csv.NewReader(ll)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errLineTooLong) {
			return fmt.Errorf("inventory csv: line %d: %w", ll.line, err)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			emitErr(pe.StartLine, pe)
			first = false
			continue
		}
		if err != nil {
			return fmt.Errorf("inventory csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if isHeader(rec, cols) {
				continue
			}
		}
		m, err := inventoryRow(rec, cols)
		if err != nil {
			emitErr(line, err)
			continue
		}
		if err := emit(m); err != nil {
			return fmt.Errorf("inventory csv: line %d: %w", line, err)
		}
	}
}

func isHeader(rec, cols []string) bool {
	if len(rec) != len(cols) {
		return false
	}
	for i := range rec {
		if !strings.EqualFold(strings.TrimSpace(rec[i]), cols[i]) {
			return false
		}
	}
	return true
}

func inventoryRow(rec, cols []string) (*store.ObjectMeta, error) {
	if len(rec) != len(cols) {
		return nil, fmt.Errorf("%d fields, fileSchema has %d", len(rec), len(cols))
	}
	m := &store.ObjectMeta{Source: FormatInventoryCSV}
	for i, col := range cols {
		v := rec[i]
		if v == "" {
			continue
		}
		var err error
		switch col {
		case "Bucket":
			m.Bucket = v
		case "Key":
			m.Key, err = url.QueryUnescape(v)
			if err == nil && !utf8.ValidString(m.Key) {
				err = errors.New("not UTF-8 once decoded")
			}
		case "VersionId":
			m.VersionID = v
		case "IsLatest":
			m.IsLatest, err = csvBool(v)
		case "IsDeleteMarker":
			var b *bool
			b, err = csvBool(v)
			m.DeleteMarker = b != nil && *b
		case "Size":
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n < 0 {
				err = errors.New("want a non-negative integer")
			}
			m.Size = &n
		case "LastModifiedDate":
			t, perr := awstime.Parse(v)
			m.LastModified, err = &t, perr
		case "ETag":
			m.ETag = unquoteETag(v)
		case "StorageClass":
			m.StorageClass = v
		case "IsMultipartUploaded":
			m.Multipart, err = csvBool(v)
		case "EncryptionStatus":
			m.SSE = v
		case "ChecksumAlgorithm":
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					m.Algorithms = append(m.Algorithms, a)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("column %s %q: %w", col, v, err)
		}
	}
	return m, nil
}

func csvBool(v string) (*bool, error) {
	var b bool
	switch strings.ToLower(v) {
	case "true":
		b = true
	case "false":
	default:
		return nil, errors.New("want true or false")
	}
	return &b, nil
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxInventoryLine)

// lineLimiter fails a read once a line runs past max bytes, so a file with
// no newlines cannot make the CSV reader buffer without bound. line counts
// the newlines read so far, from 1.
type lineLimiter struct {
	r    io.Reader
	max  int
	run  int
	line int
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		seg := i
		if i < 0 {
			seg = len(b)
		}
		if l.run+seg > l.max {
			return n - len(b) + (l.max - l.run), errLineTooLong
		}
		if i < 0 {
			l.run += seg
			break
		}
		l.run = 0
		l.line++
		b = b[i+1:]
	}
	return n, err
}
