package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/forensic-dev/forensic/ingest/accesslog"
	"github.com/forensic-dev/forensic/ingest/cloudtrail"
	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/ingest/source"
	"github.com/forensic-dev/forensic/store"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// inflated is an item's content after decompression.
type inflated struct {
	data        []byte // content to parse; nil when larger than MaxParse
	compression string
	sha         string // hex SHA-256 of the (first member's) content
	size        int64
	trailing    bool // bytes after the first gzip member
	err         error
}

// errTooLarge marks content that was hashed but is too large to parse.
var errTooLarge = errors.New("content too large to parse")

// inflate decompresses data when it is gzip or zstd. For gzip only the
// first member counts (CloudTrail's hashValue covers it, and awscli reads
// only it); bytes after it set trailing.
func (r *run) inflate(data []byte) inflated {
	switch {
	case bytes.HasPrefix(data, gzipMagic):
		br := bytes.NewReader(data)
		zr, err := gzip.NewReader(br)
		if err != nil {
			return inflated{compression: "gzip", err: fmt.Errorf("gzip header: %w", err)}
		}
		zr.Multistream(false)
		var isize int64 // the size the trailer claims (mod 2^32)
		if len(data) >= 18 {
			isize = int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
		}
		out := r.copyCapped(zr, int64(len(data)), isize)
		out.compression = "gzip"
		if out.err == nil || errors.Is(out.err, errTooLarge) {
			out.trailing = br.Len() > 0
		}
		if out.err != nil && !errors.Is(out.err, errTooLarge) {
			out.err = fmt.Errorf("gzip: %w", out.err)
		}
		return out
	case bytes.HasPrefix(data, zstdMagic):
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return inflated{compression: "zstd", err: fmt.Errorf("zstd: %w", err)}
		}
		defer zr.Close()
		out := r.copyCapped(zr, int64(len(data)), 0)
		out.compression = "zstd"
		if out.err != nil && !errors.Is(out.err, errTooLarge) {
			out.err = fmt.Errorf("zstd: %w", out.err)
		}
		return out
	}
	return inflated{data: data}
}

// copyCapped reads a decompressor into memory up to MaxParse and hashes
// everything up to MaxContent, enforcing the ratio cap. hint is the
// content size the item claims (gzip's ISIZE), 0 when unknown: the buffer
// starts at that size, within bounds, instead of doubling its way there
// (copying and clearing as it goes: 4 % of an ingest's CPU).
func (r *run) copyCapped(zr io.Reader, compressed, hint int64) inflated {
	h := sha256.New()
	hint = min(hint, r.opt.MaxParse, max(compressed*32, 1<<20))
	buf := make([]byte, 0, max(hint+512, 64<<10))
	var scratch []byte // reads past MaxParse, hashed only
	var n int64
	var out inflated
	for {
		var p []byte
		room := r.opt.MaxParse + 1 - int64(len(buf))
		if room > 0 {
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, int(min(int64(cap(buf)), room)))
			}
			p = buf[len(buf):cap(buf)]
			if int64(len(p)) > room {
				p = p[:room]
			}
		} else {
			if scratch == nil {
				scratch = make([]byte, 256<<10)
			}
			p = scratch
		}
		k, err := zr.Read(p)
		if k > 0 {
			h.Write(p[:k])
			if room > 0 {
				buf = buf[:len(buf)+k]
			}
			n += int64(k)
			if n > r.opt.MaxContent {
				return inflated{size: n, err: fmt.Errorf("decompressed output exceeds cap of %s (decompression bomb guard)", humanBytes(r.opt.MaxContent))}
			}
			if n > ratioFloor && compressed > 0 && n/compressed > r.opt.MaxRatio {
				return inflated{size: n, err: fmt.Errorf("compression ratio exceeds cap of %d:1 after %s (decompression bomb guard)", r.opt.MaxRatio, humanBytes(n))}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("truncated: unexpected end of data after %d decompressed bytes", n)
			}
			return inflated{size: n, err: err}
		}
	}
	out.sha = hex.EncodeToString(h.Sum(nil))
	out.size = n
	if n > r.opt.MaxParse {
		out.err = fmt.Errorf("%w: %s decompressed, parse cap %s", errTooLarge, humanBytes(n), humanBytes(r.opt.MaxParse))
		return out
	}
	out.data = buf
	return out
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// process hashes, classifies and parses one buffered item.
func (r *run) process(j *job) *store.Item {
	e := &j.e
	ev := r.base(e, store.KindUnknown)
	ev.SHA256 = j.sha
	ev.Size = int64(len(j.data))
	it := &store.Item{Evidence: ev}
	if seen := r.check.lookup(&it.Evidence); seen != nil {
		// Already in the case: count it as the case has it, parse nothing.
		it.Evidence.Kind, it.Evidence.Error, it.RecordCount = seen.kind, seen.err, seen.records
		return it
	}
	in := r.inflate(j.data)
	it.Evidence.Compression = in.compression
	if in.compression != "" {
		it.Evidence.ContentSHA256 = in.sha
		it.Evidence.ContentSize = in.size
		it.Evidence.GzipTrailing = in.trailing
	}
	r.classifyAndParse(j.root, e, it, in)
	return it
}

// classifyAndParse decides the kind — by S3 key shape first, then by
// content — and fills the item's rows.
func (r *run) classifyAndParse(root string, e *source.Entry, it *store.Item, in inflated) {
	ev := &it.Evidence
	name := fullName(e)
	content := in.data
	fail := func(err error) {
		if ev.Error == "" {
			ev.Error = err.Error()
		}
	}
	if in.err != nil {
		fail(in.err)
	}

	// 1. A metadata export beside an object: K.metadata.json, K.attributes.json.
	// The object path is in the item's own terms: the file path on disk, or
	// the member name inside its archive (as evidence.member spells it).
	sideName := e.Path
	if e.Member != "" {
		sideName = e.Member
	}
	if objPath, _, _, ok := s3meta.Sidecar(sideName); ok && content != nil {
		ev.Kind = store.KindObjectMetadata
		r.parseMetadata(root, name, objPath, e, it, content)
		return
	}
	// 2. The AWSLogs/... key shape.
	if ki, ok := cloudtrail.ParseKey(name); ok {
		r.setKeyInfo(ev, ki)
		switch ki.Type {
		case "CloudTrail-Digest":
			ev.Kind = store.KindCloudTrailDig
			if content != nil {
				r.parseDigest(it, content)
			}
			return
		case "CloudTrail", "CloudTrail-Insight":
			if !ki.FileNameOnly || content == nil || cloudtrail.LooksLikeRecords(head(content)) {
				ev.Kind = store.KindCloudTrailLog
				if content != nil {
					r.parseRecords(it, content)
				}
				return
			}
		}
	}
	if content == nil {
		return
	}
	h := head(content)
	// 3. By content, so flattened or renamed copies are still recognised.
	switch {
	case cloudtrail.LooksLikeDigest(h):
		ev.Kind = store.KindCloudTrailDig
		r.parseDigest(it, content)
	case cloudtrail.LooksLikeRecords(h):
		ev.Kind = store.KindCloudTrailLog
		r.parseRecords(it, content)
	case cloudtrail.LooksLikePublicKeys(h) || looksLikeDERKey(name, content):
		ev.Kind = store.KindPublicKeys
		keys, err := cloudtrail.ParsePublicKeys(name, content)
		if err != nil {
			fail(fmt.Errorf("public keys: %w", err))
		}
		for i := range keys {
			if keys[i].Error != "" {
				fail(fmt.Errorf("public key %s: %s", keys[i].Fingerprint, keys[i].Error))
			}
		}
		it.Keys = keys
		it.RecordCount = len(keys)
	case s3meta.Detect(content) != "":
		ev.Kind = store.KindObjectMetadata
		r.parseMetadata(root, name, "", e, it, content)
	case isInventoryCSV(name):
		ev.Kind = store.KindObjectMetadata
		r.parseInventoryCSV(name, it, content)
	case accesslog.Looks(h):
		ev.Kind = store.KindAccessLog
		r.parseAccessLog(it, bytes.NewReader(content), len(content))
	case hasSidecar(e):
		ev.Kind = store.KindObject
		r.setObjectKey(root, e, ev)
	}
}

func head(b []byte) []byte {
	if len(b) > 4096 {
		return b[:4096]
	}
	return b
}

func (r *run) setKeyInfo(ev *store.Evidence, ki cloudtrail.KeyInfo) {
	ev.S3Key = ki.Key
	ev.Account = ki.Account
	ev.OrgID = ki.OrgID
	ev.Region = ki.Region
	ev.Trail = ki.Trail
	ev.Backfill = ki.Backfill
}

func (r *run) parseRecords(it *store.Item, content []byte) {
	ev := &it.Evidence
	var events []store.Event
	var firstErr error
	format, err := cloudtrail.Split(content, func(idx int, raw []byte) error {
		e := store.Event{RecordIndex: idx, Raw: raw}
		if xerr := cloudtrail.Extract(raw, &e); xerr != nil && firstErr == nil {
			firstErr = fmt.Errorf("record %d: %w", idx, xerr)
		}
		events = append(events, e)
		return nil
	})
	ev.Format = format
	verifiable := cloudtrail.Verifiable(format)
	for i := range events {
		events[i].Verifiable = verifiable
	}
	if err != nil {
		ev.Error = fmt.Sprintf("cloudtrail log: %v", err)
	} else if firstErr != nil {
		ev.Error = fmt.Sprintf("cloudtrail log: %v", firstErr)
	}
	it.Events = events
	it.RecordCount = len(events)
	// Hashed here, by the parse workers, rather than by the writer.
	it.EventsSHA256 = store.HashEvents(events)
}

func (r *run) parseDigest(it *store.Item, content []byte) {
	d, err := cloudtrail.ParseDigest(content)
	if err != nil {
		it.Evidence.Error = fmt.Sprintf("cloudtrail digest: %v", err)
	}
	if d != nil {
		it.Digest = d
		it.RecordCount = len(d.LogFiles)
		if it.Evidence.S3Key == "" {
			if ki, ok := cloudtrail.ParseKey(d.DigestS3Object); ok {
				// A flattened copy: the signed key says where it belongs.
				it.Evidence.Account, it.Evidence.Region, it.Evidence.Trail = ki.Account, ki.Region, ki.Trail
				it.Evidence.OrgID, it.Evidence.Backfill = ki.OrgID, ki.Backfill
			}
		}
		if it.Evidence.S3Bucket == "" {
			it.Evidence.S3Bucket = d.DigestS3Bucket
		}
	}
	it.Evidence.Format = "digest"
}

func (r *run) parseMetadata(root, name, objPath string, e *source.Entry, it *store.Item, content []byte) {
	metas, manifest, format, err := s3meta.Parse(name, content)
	it.Evidence.Format = format
	if err != nil {
		it.Evidence.Error = "object metadata: " + s3meta.Reason(err, name)
	}
	for i := range metas {
		m := &metas[i]
		if objPath == "" {
			continue
		}
		m.ObjectPath = objPath
		if ki, ok := cloudtrail.ParseKey(objPath); ok && !ki.FileNameOnly {
			// The sidecar of a CloudTrail file (a digest's signature).
			m.Bucket, m.Key = "", ki.Key
			continue
		}
		var bucket, key, version string
		if e.Member == "" {
			bucket, key, version = objectKey(root, objPath)
		} else {
			// The object's name inside its own archive: the sidecar's
			// innermost member name without the suffix (never split at
			// "!/", which a member's own name may hold).
			inner, _, _, _ := s3meta.Sidecar(e.MemberPath[len(e.MemberPath)-1])
			bucket, key, version = objectKey("", store.CleanName(inner))
		}
		if bucket != "" {
			m.Bucket, m.Key = bucket, key
		}
		if m.VersionID == "" {
			m.VersionID = version
		}
	}
	it.Metas = metas
	it.RecordCount = len(metas)
	if manifest != nil {
		it.Manifest = manifest
		it.RecordCount = 1
		r.inv.add(name, manifest)
	}
}

func (r *run) parseInventoryCSV(name string, it *store.Item, content []byte) {
	schema, ok := r.inv.schemaFor(name)
	it.Evidence.Format = "inventory-csv"
	if !ok {
		it.Evidence.Error = "inventory data file: no manifest.json of its inventory was read before it, so its columns are unknown (ingest the manifest first, or the whole inventory folder)"
		return
	}
	var lineErr error
	err := s3meta.ParseInventoryCSV(bytes.NewReader(content), schema, func(m *store.ObjectMeta) error {
		it.Metas = append(it.Metas, *m)
		return nil
	}, func(line int, err error) {
		if lineErr == nil {
			lineErr = fmt.Errorf("line %d: %w", line, err)
		}
	})
	if err == nil {
		err = lineErr
	}
	if err != nil {
		it.Evidence.Error = fmt.Sprintf("inventory csv: %v", err)
	}
	it.RecordCount = len(it.Metas)
}

// parseAccessLog parses an access log of size bytes (a hint: rows are
// allocated for about one line per 256 bytes up front).
func (r *run) parseAccessLog(it *store.Item, rd io.Reader, size int) {
	rows := make([]store.AccessRow, 0, size/256+1)
	bad := 0
	_, err := accesslog.Parse(rd, 0, func(a *store.AccessRecord) error {
		if a.ParseError != "" {
			bad++
		}
		rows = append(rows, a.Row()) // encoded here, not on the single writer
		return nil
	})
	if err != nil {
		it.Evidence.Error = fmt.Sprintf("access log: %v", err)
	} else if bad > 0 {
		it.Evidence.Error = fmt.Sprintf("access log: %d lines could not be parsed (kept raw with their reason)", bad)
	}
	it.AccessRows = rows
	it.RecordCount = len(rows)
}

func (r *run) setObjectKey(root string, e *source.Entry, ev *store.Evidence) {
	if e.Member == "" {
		ev.S3Bucket, ev.S3Key, _ = objectKey(root, e.Path)
		return
	}
	ev.S3Bucket, ev.S3Key, _ = objectKey("", strings.TrimPrefix(fullName(e), "/"))
}

// hasSidecar reports whether a metadata export sits beside an on-disk file.
// Archive members are paired after the walk (see pairObjects).
func hasSidecar(e *source.Entry) bool {
	if e.Member != "" {
		return false
	}
	for _, s := range []string{".metadata.json", ".attributes.json"} {
		if fi, err := os.Lstat(e.Path + s); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func isInventoryCSV(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "/data/") && (strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".csv.gz"))
}

// looksLikeDERKey accepts a small binary file named like a key that
// starts with an ASN.1 SEQUENCE.
func looksLikeDERKey(name string, b []byte) bool {
	n := strings.ToLower(name)
	if !(strings.HasSuffix(n, ".der") || strings.HasSuffix(n, ".pem") || strings.HasSuffix(n, ".pub") || strings.HasSuffix(n, ".key")) {
		return false
	}
	return len(b) < 16<<10 && (len(b) > 0 && b[0] == 0x30 || bytes.Contains(b, []byte("PUBLIC KEY-----")))
}

// inventorySchemas remembers the fileSchema of every manifest read in this
// run, keyed by the inventory's config folder.
type inventorySchemas struct {
	mu sync.Mutex
	m  map[string]string
}

func newInventorySchemas() *inventorySchemas { return &inventorySchemas{m: map[string]string{}} }

// A manifest sits at <config>/<timestamp>/manifest.json; data files at
// <config>/data/<uuid>.csv.gz.
func (s *inventorySchemas) add(name string, m *store.InventoryManifest) {
	cfg := path.Dir(path.Dir(name))
	s.mu.Lock()
	s.m[cfg] = m.FileSchema
	s.mu.Unlock()
}

func (s *inventorySchemas) schemaFor(name string) (string, bool) {
	i := strings.LastIndex(strings.ToLower(name), "/data/")
	if i < 0 {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name[:i]]
	return v, ok
}

// dupChecker looks items up in the case before they are parsed, so a
// re-ingest costs a read and a hash, not a parse. It uses its own
// read-only connection and no long-lived prepared statement (a statement
// left un-reset would hold a read lock, or pin a WAL snapshot). It never
// waits: while the writer holds the case locked (a commit, or a cache
// spill during a bulk load) the answer is "not known", the item is parsed,
// and the writer, which checks every item again, drops it if it is a
// duplicate. So a lookup only ever saves work, never decides.
type dupChecker struct {
	db   *sql.DB
	mu   sync.Mutex
	once sync.Once
}

type seenItem struct {
	kind, err string
	records   int
}

func newDupChecker(ctx context.Context, casePath string) (*dupChecker, error) {
	ro, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return nil, err
	}
	if _, err := ro.DB.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		ro.Close()
		return nil, err
	}
	return &dupChecker{db: ro.DB}, nil
}

func (d *dupChecker) lookup(ev *store.Evidence) *seenItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	var s seenItem
	where, args := store.SameItemQuery(ev)
	err := d.db.QueryRow("SELECT kind, coalesce(error, ''), coalesce(record_count, 0) FROM evidence WHERE "+where,
		args...).Scan(&s.kind, &s.err, &s.records)
	if err != nil {
		return nil
	}
	return &s
}

func (d *dupChecker) close() { d.once.Do(func() { d.db.Close() }) }
