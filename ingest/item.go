package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/forensic-dev/forensic/ingest/accesslog"
	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/hashing"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// errTooManyRecords stops a CloudTrail log at the records-per-file cap.
var errTooManyRecords = errors.New("too many records")

// reader reads items one at a time: one per parse worker, one for the
// items the walker streams. Its hasher keeps its buffers and decompressors
// from item to item.
type reader struct {
	h *hashing.Hasher
}

func (r *run) newReader() *reader {
	return &reader{h: hashing.New(hashing.Limits{MaxContent: r.opt.MaxContent, MaxRatio: r.opt.MaxRatio})}
}

func (rd *reader) close() { rd.h.Close() }

// process hashes, classifies and parses one buffered item.
func (r *run) process(rd *reader, j *job) {
	e := &j.e
	probe := r.entryEvidence(e, j.sha)
	seen, err := r.check.Lookup(&probe)
	if err != nil && r.widenable {
		// Parsed as new (the writer drops it if it is in the case), so
		// its records are not widened: say so.
		r.recordError(displayName(e), fmt.Sprintf("cannot tell whether the case holds it (%v): if it does, its indexed records are not widened", err))
	}
	plan, already := r.planFor(&probe, seen)
	if already {
		// Already in the case, with every record the run would index:
		// count it as the case has it, parse nothing.
		ev := r.base(e, seen.Kind)
		ev.SHA256, ev.Size, ev.Error = j.sha, int64(len(j.data)), seen.Error
		r.add(&store.Item{Evidence: ev, RecordCount: seen.Records}, 0)
		return
	}
	r.item(rd, j.root, e, bytes.NewReader(j.data), j.sha, contentHint(j.data), plan)
}

// stream handles an item too large to buffer, in the walking goroutine, as
// process does a buffered one; only its bytes are not held in memory. It
// returns the item's SHA-256.
func (r *run) stream(root string, e *source.Entry, raw io.Reader) (string, error) {
	if r.streamer == nil {
		r.streamer = r.newReader()
	}
	probe := r.entryEvidence(e, "")
	return r.item(r.streamer, root, e, raw, "", 0, r.streamPlan(&probe)), nil
}

// contentHint is the content size a buffered item claims (gzip's ISIZE,
// else its length), bounded: windows and buffers start at that size, within
// bounds, instead of growing their way there.
func contentHint(data []byte) int64 {
	n := int64(len(data))
	if len(data) >= 18 && data[0] == 0x1f && data[1] == 0x8b {
		isize := int64(binary.LittleEndian.Uint32(data[len(data)-4:])) // mod 2^32, and only claimed
		n = min(isize, max(n*32, headSize))
	}
	return min(n, cloudtrail.DefaultWindow*4)
}

// item hashes, classifies and parses one item whose bytes as received are
// raw and hands it to the writer, with its rows. sha is their SHA-256 when
// the caller has it, hint the content size it expects (0: unknown). It
// returns the SHA-256, or "" when the bytes could not be read to their end:
// the walker emits the entry again with the error, which is recorded then.
func (r *run) item(rd *reader, root string, e *source.Entry, raw io.Reader, sha string, hint int64, plan *indexPlan) string {
	h := rd.h
	h.Open(raw, sha)
	ev := r.base(e, store.KindUnknown)
	ev.Compression = h.Compression()

	// The head of the content, for classification; it is the start of
	// the window or buffer the parse goes on in.
	// Sized from the hint when there is one: an item of a few hundred
	// bytes (an organization's log files) does not take a 64 KiB buffer
	// each; one larger than it claimed grows it.
	size := int64(headSize)
	if hint > 0 {
		size = max(hint+512, 4<<10)
	}
	buf := make([]byte, 0, size)
	var contentErr error // the Read error that ended the content, if any
	for len(buf) < headSize {
		if len(buf) == cap(buf) {
			buf = append(make([]byte, 0, min(2*cap(buf), headSize)), buf...)
		}
		n, err := h.Read(buf[len(buf):min(cap(buf), headSize)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err != io.EOF {
				contentErr = err
			}
			break
		}
	}
	complete := contentErr == nil && len(buf) < headSize
	c := classify(e, buf, complete)
	ev.Kind = c.kind
	if c.key != nil {
		setKeyInfo(&ev, *c.key)
	}
	k := r.newSink(ev)
	k.plan = plan
	var parseErr error
	records := 0
	var re *source.ReadError
	if !errors.As(contentErr, &re) {
		// Damaged content is parsed as far as it goes (the parser meets
		// the content error where the damage is); unreadable bytes are not.
		records, parseErr = r.parse(h, k, root, e, c, buf)
	}
	res, ioErr := h.Finish()
	if ioErr != nil {
		if errors.As(ioErr, &re) && k.s == nil {
			// Nothing was handed on: the walker emits the entry again
			// with the error, and that is recorded.
			return ""
		}
		// Rows were handed on already: the item is recorded with the
		// error, and the walker's repeat of it is skipped.
		r.streamedFailure = failureKey(e)
		k.it.Evidence.Error = fmt.Sprintf("read %s: %v", displayName(e), unwrapRead(ioErr))
		k.finish(k.it.Evidence, records)
		return ""
	}
	ev = k.it.Evidence // the parse may have filled key fields
	ev.SHA256, ev.Size = res.SHA256, res.Size
	if res.Compression != "" {
		ev.ContentSHA256, ev.ContentSize, ev.GzipTrailing = res.ContentSHA256, res.ContentSize, res.Trailing
	}
	if sha == "" {
		r.bytes.Add(res.Size)
	}
	switch {
	case res.ContentErr != nil:
		ev.Error = res.ContentErr.Error()
	case errors.Is(parseErr, errTooLarge):
		size := res.Size
		if res.Compression != "" {
			size = res.ContentSize
		}
		ev.Error = fmt.Sprintf("%v: %s decompressed, parse cap %s", errTooLarge, humanBytes(size), humanBytes(r.opt.MaxParse))
	case parseErr != nil:
		ev.Error = parseErr.Error()
	}
	if plan.changed != "" && plan.widen == nil {
		ev.Error = joinErr(plan.changed, ev.Error)
	}
	k.finish(ev, records)
	return ev.SHA256
}

func unwrapRead(err error) error {
	var re *source.ReadError
	if errors.As(err, &re) {
		return re.Err
	}
	return err
}

// errTooLarge marks content that was hashed but is too large to parse.
var errTooLarge = errors.New("content too large to parse")

// parse reads the rest of the content (after head, from h) as c says and
// hands the rows to k; it returns the record count and what was wrong.
func (r *run) parse(h *hashing.Hasher, k *sink, root string, e *source.Entry, c class, head []byte) (int, error) {
	it := k.it
	name := fullName(e)
	switch {
	case c.kind == store.KindCloudTrailLog:
		return r.parseRecords(h, k, head)
	case c.kind == store.KindAccessLog:
		return r.parseAccessLog(io.MultiReader(bytes.NewReader(head), h), k)
	case c.kind == store.KindLakeResult:
		return r.parseLakeResult(io.MultiReader(bytes.NewReader(head), h), e, k)
	case c.inventoryCSV:
		return r.parseInventoryCSV(io.MultiReader(bytes.NewReader(head), h), name, k)
	case c.kind == store.KindObject:
		r.setObjectKey(root, e, &it.Evidence)
		return 0, nil
	case c.kind == store.KindUnknown:
		return 0, nil
	}
	// The rest are read whole: digests, public keys, metadata exports.
	content, release, err := r.capture(h, head)
	defer release()
	if err != nil {
		return 0, err
	}
	switch c.kind {
	case store.KindObjectMetadata:
		objPath := ""
		if c.sidecar {
			objPath = c.objPath
		}
		r.parseMetadata(root, name, objPath, e, it, content)
	case store.KindCloudTrailDig:
		r.parseDigest(it, content)
	case store.KindLakeSign:
		r.parseLakeSign(e, it, content)
	case store.KindPublicKeys:
		keys, err := cloudtrail.ParsePublicKeys(name, content)
		if err != nil {
			setError(it, fmt.Errorf("public keys: %w", err))
		}
		for i := range keys {
			if keys[i].Error != "" {
				setError(it, fmt.Errorf("public key %s: %s", keys[i].Fingerprint, keys[i].Error))
			}
		}
		it.Keys = keys
		it.RecordCount = len(keys)
	}
	if it.Evidence.Error != "" {
		// The parsers record their errors on the item; hand it back.
		err = errors.New(it.Evidence.Error)
		it.Evidence.Error = ""
	}
	return it.RecordCount, err
}

func setError(it *store.Item, err error) {
	if it.Evidence.Error == "" {
		it.Evidence.Error = err.Error()
	}
}

// capture reads the whole content into memory, up to MaxParse, within the
// run's budget of content held for parsing; release gives the budget back
// once the parse is done with the content.
func (r *run) capture(h *hashing.Hasher, head []byte) (content []byte, release func(), err error) {
	var held int64
	reserve := func(n int64) { held = r.content.grow(held, n) }
	release = func() { r.content.release(held) }
	reserve(int64(cap(head)))
	content, complete, err := h.Capture(head, r.opt.MaxParse, reserve)
	switch {
	case err != nil:
		return nil, release, err
	case !complete:
		return nil, release, errTooLarge
	}
	return content, release, nil
}

// parseRecords splits a CloudTrail log as it streams (a window at a time:
// memory is bounded by the largest record, not by the file) and hands
// the records its plan indexes to k; a plan that indexes none leaves the
// content unsplit (only hashed, by Finish). It returns how many records
// of the file are indexed.
func (r *run) parseRecords(h *hashing.Hasher, k *sink, head []byte) (int, error) {
	p := k.plan
	if p.filter.None() {
		k.it.Evidence.Format = sniffFormat(head)
		return 0, nil
	}
	p.split = true
	var firstErr error
	format, err := cloudtrail.SplitStream(h, head, cloudtrail.StreamOptions{MaxRecord: int(r.opt.MaxRecordBytes)},
		func(format string, idx int, raw []byte) error {
			if idx >= r.opt.MaxRecords {
				return errTooManyRecords
			}
			e := store.Event{RecordIndex: idx, Raw: raw, Verifiable: cloudtrail.Verifiable(format)}
			if xerr := cloudtrail.Extract(raw, &e); xerr != nil && firstErr == nil {
				firstErr = fmt.Errorf("record %d: %w", idx, xerr)
			}
			p.seen++
			switch {
			case p.old != nil && p.old.Match(&e):
				// Indexed by an earlier run: hashed with the others, not sent again.
				k.hashOnly(&e)
				p.oldSeenOK++
				p.indexed++
			case p.filter.Match(&e):
				k.event(e)
				p.indexed++
				p.added++
			}
			return nil
		})
	k.it.Evidence.Format = format
	n := int(p.indexed)
	var tooLarge *cloudtrail.RecordTooLargeError
	switch {
	case errors.Is(err, errTooManyRecords):
		first := fmt.Sprintf("the first %d are indexed", n)
		if !p.filter.All() {
			first = fmt.Sprintf("of the first %d, the %d the filter selects are indexed", p.seen, n)
		}
		err = fmt.Errorf("cloudtrail log: more than %d records, the records-per-file cap: %s, the rest are not (the file is hashed whole)", r.opt.MaxRecords, first)
	case errors.As(err, &tooLarge):
		err = fmt.Errorf("cloudtrail log: %v, the record-size cap (%s): it and the records after it are not indexed (the file is hashed whole)", tooLarge, humanBytes(int64(tooLarge.Cap)))
	case err != nil:
		err = fmt.Errorf("cloudtrail log: %w", err)
	case firstErr != nil:
		err = fmt.Errorf("cloudtrail log: %w", firstErr)
	}
	return n, err
}

// parseAccessLog parses an access log line by line as it streams.
func (r *run) parseAccessLog(rd io.Reader, k *sink) (int, error) {
	bad := 0
	_, err := accesslog.Parse(rd, 0, func(a *store.AccessRecord) error {
		if a.ParseError != "" {
			bad++
		}
		k.access(a.Row()) // encoded here, not on the single writer
		return nil
	})
	n := k.count()
	switch {
	case err != nil:
		return n, fmt.Errorf("access log: %w", err)
	case bad > 0:
		return n, fmt.Errorf("access log: %d lines could not be parsed (kept raw with their reason)", bad)
	}
	return n, nil
}

// parseInventoryCSV parses an S3 Inventory data file row by row as it
// streams.
func (r *run) parseInventoryCSV(rd io.Reader, name string, k *sink) (int, error) {
	k.it.Evidence.Format = s3meta.FormatInventoryCSV
	schema, ok := r.inv.schemaFor(name)
	if !ok {
		return 0, errors.New("inventory data file: no manifest.json of its inventory was read before it, so its columns are unknown (ingest the manifest first, or the whole inventory folder)")
	}
	var lineErr error
	err := s3meta.ParseInventoryCSV(rd, schema, func(m *store.ObjectMeta) error {
		k.meta(*m)
		return nil
	}, func(line int, err error) {
		if lineErr == nil {
			lineErr = fmt.Errorf("line %d: %w", line, err)
		}
	})
	if err == nil {
		err = lineErr
	}
	n := k.count()
	if err != nil {
		return n, fmt.Errorf("inventory csv: %w", err)
	}
	return n, nil
}
