package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forensic-dev/forensic/internal/hashing"
	"github.com/forensic-dev/forensic/internal/shard"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// Limits. Every buffer is bounded by one of these, never by input size.
const (
	// maxListed bounds the duplicate names a Summary lists (the case has
	// them all; verify reports each).
	maxListed = 1000
	// DefaultMaxBuffered: items up to this many bytes (as received) are
	// read into memory and parsed by the worker pool; larger ones are
	// streamed by the walking goroutine.
	DefaultMaxBuffered = 64 << 20
	// DefaultInFlight caps the bytes held by queued and running jobs.
	DefaultInFlight = 96 << 20
	// DefaultRowsInFlight caps the memory of parsed rows handed to the
	// writer and not yet written, in KiB (a row holds its raw bytes and, for
	// access logs, its encoded fields).
	DefaultRowsInFlight = 32 << 10
	// DefaultMaxParse is the largest decompressed content held in memory
	// to be parsed as one document: digests, public keys and metadata
	// exports (CloudTrail logs, access logs and inventory data files are
	// parsed as they stream). Larger content is hashed, recorded and
	// reported as not parsed. The content held counts against a budget of
	// the same size, so two items of that size are not held at once.
	DefaultMaxParse = 64 << 20
	// DefaultMaxRecords caps the records indexed from one CloudTrail log
	// file: CloudTrail delivers thousands of records to a file, exports of
	// events (a JSON array, one event per line) may hold hundreds of
	// thousands, and 11 KiB of gzip can hold millions of empty ones. The
	// cap bounds the case rows one small file can make; memory is bounded
	// anyway (records are streamed to the writer).
	DefaultMaxRecords = 1_000_000
	// DefaultMaxRecordBytes caps the bytes of one CloudTrail record (real
	// records are at most a few hundred KiB); a log is split a window at
	// a time, so this bounds the memory its parse takes.
	DefaultMaxRecordBytes = 1 << 20
	// DefaultMaxContent caps the bytes one compressed item may inflate to
	// (decompression-bomb guard).
	DefaultMaxContent = hashing.DefaultMaxContent
	// DefaultMaxRatio caps inflated:compressed once the output passes
	// hashing.RatioFloor. Real CloudTrail gzip runs at 5–20:1.
	DefaultMaxRatio = hashing.DefaultMaxRatio
)

// Options tune a run.
type Options struct {
	Workers     int   // parse workers; default GOMAXPROCS
	MaxBuffered int64 // see DefaultMaxBuffered
	InFlight    int64
	MaxParse    int64
	MaxContent  int64
	MaxRatio    int64
	// Events selects which CloudTrail records are indexed into ct_events
	// (zero value: every record). Every item is inventoried and hashed and
	// every digest parsed whatever it says (see events.go).
	Events store.EventFilter
	// EventsFor, when set, gives the filter of one item instead of Events
	// (ok false: Events): report verify re-ingests each item with the
	// filter its case recorded.
	EventsFor func(ev *store.Evidence) (f store.EventFilter, ok bool)
	// MaxRecords and MaxRecordBytes cap what is indexed of one CloudTrail
	// log (DefaultMaxRecords, DefaultMaxRecordBytes): past a cap the item
	// gets an error naming it; it is hashed and inventoried all the same.
	MaxRecords     int
	MaxRecordBytes int64
	// LakeRows indexes the rows of CloudTrail Lake result files (lake_rows)
	// besides their header and row count, up to DefaultMaxLakeRowBytes of
	// rows per file.
	LakeRows bool
	Source   source.Options
	Writer   store.WriterOptions
	// OnError, when set, is called with each item error as it is found
	// (one call at a time); MaxErrors bounds how many the Summary keeps
	// (DefaultMaxErrors).
	OnError   func(ItemError)
	MaxErrors int
	// Progress, when set, is called about every Interval with running
	// totals (the CLI prints it on a terminal).
	Progress func(Progress)
	Interval time.Duration
	// Shards, when set, takes only the items of these shards (ids as
	// internal/shard gives them): the others are not recorded, though the
	// files of a folder source are still hashed, so that the source's own
	// hash is that of the whole folder, as an ingest of all of it gives.
	Shards map[string]bool
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = DefaultMaxBuffered
	}
	if o.InFlight <= 0 {
		o.InFlight = DefaultInFlight
	}
	if o.InFlight < o.MaxBuffered {
		o.InFlight = o.MaxBuffered
	}
	if o.MaxParse <= 0 {
		o.MaxParse = DefaultMaxParse
	}
	if o.MaxContent <= 0 {
		o.MaxContent = DefaultMaxContent
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = DefaultMaxErrors
	}
}

// Progress is a snapshot of a running ingest.
type Progress struct {
	Items      int64
	Bytes      int64 // bytes as received, read so far
	Events     int64
	TotalBytes int64 // bytes on disk of all inputs, when known (0 otherwise)
	DiskBytes  int64 // bytes of on-disk inputs finished so far
	Elapsed    time.Duration
	// Phase names the work after every input was read, when there is
	// some ("building indexes"); empty while inputs are read.
	Phase string
}

// PhaseIndexes is the Progress phase after every input was read: the
// case's indexes are built and archive members paired with their
// sidecars.
const PhaseIndexes = "building indexes"

// ItemError is an item that could not be read or parsed.
type ItemError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Summary is what a run saw. Counts describe the evidence read in this
// run (also when an item was already in the case); Added and
// AlreadyInCase say how many items were new.
type Summary struct {
	Items            int            `json:"items"`
	Bytes            int64          `json:"bytes"`           // the files read, an archive's members rather than the archive
	ContainerBytes   int64          `json:"container_bytes"` // the archives read (sources and archives inside them), as stored
	Events           int            `json:"events"`
	Digests          int            `json:"digests"`
	LogFiles         int            `json:"log_files"`
	PublicKeys       int            `json:"public_keys"`
	ObjectMetadata   int            `json:"object_metadata"`
	Objects          int            `json:"objects"`
	AccessLogFiles   int            `json:"access_log_files"`
	AccessLogRecords int            `json:"access_log_records"`
	Unknown          int            `json:"unknown"`
	Errors           []ItemError    `json:"errors"` // at most Options.MaxErrors: see ErrorCount
	Kinds            map[string]int `json:"kinds"`
	Added            int            `json:"added"`
	AlreadyInCase    int            `json:"already_in_case"`
	Sources          []SourceInfo   `json:"sources"`
	// DuplicateNames lists every name that occurs more than once in one
	// source of the case ("PATH!/MEMBER (N times)"): each copy is an item
	// of its own, and verify reports them as duplicate_name findings.
	DuplicateNames  []string `json:"duplicate_names"`
	Seconds         float64  `json:"seconds"`
	EventsPerSecond float64  `json:"events_per_second"`

	// Recovered is set by whoever records the run in the custody log
	// (store.AppendIngestCustody): items an earlier ingest recorded and
	// never wrote its custody entry for (killed, out of disk space), which
	// this run's entry claims. Those read again by this run are also in
	// AlreadyInCase.
	Recovered int `json:"recovered"`

	// ErrorCount is how many items could not be read or parsed: each is
	// on its evidence row (evidence.error) and went to Options.OnError as
	// it was found; Errors keeps the first Options.MaxErrors by path.
	ErrorCount int `json:"error_count"`
	// DuplicateNameCount counts the duplicate names; DuplicateNames lists
	// the first maxListed.
	DuplicateNameCount int `json:"duplicate_name_count"`
	// SourceShards, when Options.Shards is set, are every shard the
	// sources hold, taken or not (sorted): a case of shards covers its
	// sources whole when the shards of its ingests are all of these.
	SourceShards []string `json:"source_shards,omitempty"`

	// EventsFilter describes which CloudTrail records the run indexes
	// (store.EventFilter.String: "all", "none", or its clauses).
	EventsFilter string `json:"events_filter"`
	// RecordsNotIndexed: records of the log files read that the filter
	// left out (they were split, hashed with their file, and not
	// indexed). LogsNotSplit: log files whose records were not even split
	// (no record indexed: --events none, or bytes that changed since a
	// filtered ingest).
	RecordsNotIndexed int `json:"records_not_indexed"`
	LogsNotSplit      int `json:"log_files_not_split"`
	// Widened: log files already in the case whose indexed records this
	// run widened (read again, their bytes matched the recorded SHA-256);
	// WidenedEvents: the records it added to them.
	Widened       int `json:"widened"`
	WidenedEvents int `json:"widened_events"`
}

// SourceInfo is one command-line argument and its hash.
type SourceInfo struct {
	Arg    string `json:"arg"`
	Path   string `json:"path"`
	Format string `json:"format"` // dir, file, tar, tar.gz, tar.zst, zip
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// HashMethod says how SHA256 was computed: "bytes" for files and
	// archives, "manifest" for folders (see README: the SHA-256 of the
	// `sha256sum` listing of every regular file, sorted by path).
	HashMethod string `json:"hash_method"`
}

type run struct {
	ctx   context.Context
	opt   Options
	c     *store.Case
	w     *store.Writer
	check *store.ItemLookup // items of the case, looked up before they are parsed

	mu      sync.Mutex
	sum     Summary
	errs    errList
	budget  *byteBudget
	rows    *byteBudget // rows handed to the writer, not yet written
	content *byteBudget // decompressed content held for parsing
	// streams holds the one store.Stream a run has open at a time (see
	// sink.flush).
	streams  chan struct{}
	streamer *reader // the walker's, for the items it streams
	jobs     chan job
	wg       sync.WaitGroup
	items    atomic.Int64
	bytes    atomic.Int64
	events   atomic.Int64
	disk     atomic.Int64
	streamed atomic.Int64 // bytes read of the archive being walked, until it is counted in disk
	inv      *inventorySchemas
	started  time.Time
	// seenShards are the shards of every entry walked (Options.Shards set).
	seenShards map[string]bool
	// streamedFailure names the last item stream() recorded after its
	// container failed mid-read; the walker's repeat of it is skipped.
	streamedFailure string
	// widenable: the case holds log files indexed in part and the run may
	// index records of them (see events.go).
	widenable bool
}

type job struct {
	e    source.Entry
	data []byte
	held int64 // bytes of the in-flight budget this job holds
	sha  string
	root string
}

// Run ingests every argument into the case and returns what it saw. An
// item that cannot be read is recorded with its error and the run goes
// on; Run returns an error only when the case itself cannot be written or
// ctx is cancelled. Unusable arguments (a path that does not exist) are
// reported in Summary.Errors too.
func Run(ctx context.Context, c *store.Case, args []string, opt Options) (*Summary, error) {
	opt.defaults()
	r := &run{
		ctx: ctx, opt: opt, c: c,
		w:       c.NewWriter(opt.Writer),
		budget:  newByteBudget(opt.InFlight),
		rows:    newByteBudget(DefaultRowsInFlight),
		content: newByteBudget(opt.MaxParse),
		streams: make(chan struct{}, 1),
		jobs:    make(chan job, opt.Workers*2),
		inv:     newInventorySchemas(),
		started: time.Now(),
	}
	if opt.Shards != nil {
		r.seenShards = map[string]bool{}
	}
	r.sum.Kinds = map[string]int{}
	r.errs.max = opt.MaxErrors
	r.sum.Sources = []SourceInfo{}
	r.sum.DuplicateNames = []string{}
	check, err := c.NewItemLookup(ctx)
	if err != nil {
		r.w.Close()
		return nil, err
	}
	r.check = check
	defer check.Close() // on early returns; closed before the writer below
	r.sum.EventsFilter = opt.Events.String()
	if opt.EventsFor != nil || !opt.Events.None() {
		partial, err := check.AnyPartial()
		if err != nil {
			r.w.Close()
			return nil, fmt.Errorf("read case %s: %w", c.Path, err)
		}
		r.widenable = partial
		// What the case holds decides what is parsed: wait for the
		// writer's lock rather than take "not known".
		check.SetWait(partial)
	}

	var total int64
	for _, a := range args {
		total += diskSize(a)
	}
	stopProgress := r.startProgress(total)

	for i := 0; i < opt.Workers; i++ {
		r.wg.Add(1)
		go r.worker()
	}
	var walkErr error
	for _, a := range args {
		if err := r.walkSource(a); err != nil {
			walkErr = err
			break
		}
	}
	close(r.jobs)
	r.wg.Wait()
	if r.streamer != nil {
		r.streamer.close()
	}
	stopProgress()
	if r.opt.Progress != nil {
		p := r.progress(total)
		p.Phase = PhaseIndexes
		r.opt.Progress(p)
	}
	// The writer's Close switches the case back to WAL, which needs every
	// other connection closed.
	check.Close()
	ws, werr := r.w.Close()
	if werr == nil {
		// Archive members become objects once their sidecars are known.
		n, err := pairObjects(ctx, c)
		if err != nil {
			werr = err
		}
		r.sum.Objects += n
		r.sum.Unknown -= n
		r.sum.Kinds[store.KindObject] += n
		r.sum.Kinds[store.KindUnknown] -= n
		if n, err = markLakeResults(ctx, c); err != nil && werr == nil {
			werr = err
		}
		r.sum.Unknown -= n
		r.sum.Kinds[store.KindLakeResult] += n
		r.sum.Kinds[store.KindUnknown] -= n
		if r.sum.Kinds[store.KindLakeResult] == 0 {
			delete(r.sum.Kinds, store.KindLakeResult)
		}
		dups, ndups, err := c.DuplicateNamesFirst(ctx, maxListed)
		r.sum.DuplicateNameCount = ndups
		if err != nil && werr == nil {
			werr = err
		}
		for _, d := range dups {
			where := d.Path
			if d.Name != d.Path {
				where += "!/" + d.Name
			}
			r.sum.DuplicateNames = append(r.sum.DuplicateNames, fmt.Sprintf("%s (%d times)", where, d.Count))
		}
		if r.sum.Kinds[store.KindUnknown] <= 0 {
			delete(r.sum.Kinds, store.KindUnknown)
		}
	}
	r.sum.Added = ws.Items
	r.sum.AlreadyInCase = r.sum.Items - ws.Items
	r.sum.Widened, r.sum.WidenedEvents = ws.Widened, ws.WidenedAdd
	r.sum.Seconds = time.Since(r.started).Seconds()
	if r.sum.Seconds > 0 {
		r.sum.EventsPerSecond = float64(r.sum.Events) / r.sum.Seconds
	}
	r.sum.Errors, r.sum.ErrorCount = r.errs.sorted(), r.errs.total
	for id := range r.seenShards {
		r.sum.SourceShards = append(r.sum.SourceShards, id)
	}
	sort.Strings(r.sum.SourceShards)
	if werr != nil {
		return &r.sum, fmt.Errorf("write case %s: %w", c.Path, werr)
	}
	if walkErr != nil {
		return &r.sum, walkErr
	}
	return &r.sum, ctx.Err()
}

func (r *run) startProgress(total int64) func() {
	if r.opt.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.opt.Interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.opt.Progress(r.progress(total))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		r.opt.Progress(r.progress(total))
	}
}

func (r *run) progress(total int64) Progress {
	return Progress{Items: r.items.Load(), Bytes: r.bytes.Load(), Events: r.events.Load(),
		TotalBytes: total, DiskBytes: r.disk.Load() + r.streamed.Load(), Elapsed: time.Since(r.started)}
}

// diskSize is the size on disk of a path (folders: every regular file
// below it, symlinks not followed); 0 when it cannot be told.
func diskSize(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func (r *run) walkSource(arg string) error {
	abs, err := filepath.Abs(arg)
	if err != nil {
		abs = arg
	}
	fi, statErr := os.Lstat(abs)
	if statErr != nil {
		r.recordError(abs, fmt.Sprintf("cannot read source: %v", unwrapPathError(statErr)))
		return nil
	}
	// The "sha256  ./rel" lines of a folder source, held in bounded memory.
	listing := newManifest(r.runDir())
	defer listing.close()
	isDir := fi.IsDir()
	sawContainer := false
	var fileSHA string
	sopt := r.opt.Source
	if sopt.Read == nil {
		// Progress counts the compressed bytes of an archive as they are
		// read, not only once it is done.
		sopt.Read = func(n int64) { r.streamed.Add(n) }
	}
	err = source.Walk(r.ctx, abs, sopt, func(e *source.Entry, rd io.Reader) error {
		if e.Container {
			if e.Member == "" && e.Path == abs {
				sawContainer = true
			}
			r.container(abs, e, isDir, listing)
			return nil
		}
		if r.opt.Shards != nil {
			id := shardOf(abs, e)
			r.mu.Lock()
			r.seenShards[id] = true
			r.mu.Unlock()
			if !r.opt.Shards[id] {
				return r.otherShard(abs, e, rd, isDir, listing, &fileSHA)
			}
		}
		// The walker repeats a failed member right after it (and only
		// then): a repeat of the item stream() already recorded with its
		// error is skipped, and the mark never outlives the next entry.
		repeat := e.Err != nil && r.streamedFailure != "" && failureKey(e) == r.streamedFailure
		r.streamedFailure = ""
		if e.Err != nil {
			if repeat {
				return nil // already recorded, with its error, by stream()
			}
			r.submitError(e)
			return nil
		}
		if t := source.SpecialType(e.Mode); t != "" {
			ev := r.base(e, store.KindSpecial)
			ev.Format, ev.Size = t, 0
			r.add(&store.Item{Evidence: ev}, 0)
			return nil
		}
		switch {
		case e.Mode&os.ModeSymlink != 0:
			r.add(&store.Item{Evidence: r.base(e, store.KindSymlink)}, 0)
			return nil
		case e.LinkTarget != "":
			r.add(&store.Item{Evidence: r.base(e, store.KindHardlink)}, 0)
			return nil
		}
		sha, err := r.read(abs, e, rd)
		if err != nil {
			return err
		}
		if isDir && e.Member == "" && sha != "" {
			rel, rerr := filepath.Rel(abs, e.Path)
			if rerr == nil {
				listing.add(sha + "  ./" + filepath.ToSlash(rel) + "\n")
			}
		}
		if e.Member == "" {
			r.disk.Add(e.Size)
			if e.Path == abs {
				fileSHA = sha
			}
		}
		return nil
	})
	if !sawContainer && fileSHA != "" {
		// A single file named on the command line is its own item.
		r.mu.Lock()
		r.sum.Sources = append(r.sum.Sources, SourceInfo{Arg: abs, Path: abs, Format: "file", Size: fi.Size(), SHA256: fileSHA, HashMethod: "bytes"})
		r.mu.Unlock()
	}
	if err != nil && r.ctx.Err() == nil {
		// The argument itself is unusable (e.g. a symbolic link, which is
		// never followed): say so and go on with the other arguments.
		msg := err.Error()
		if ae, ok := errors.AsType[*source.ArgError](err); ok {
			msg = ae.Err.Error() // recorded under the path already
		}
		r.recordError(abs, msg)
		return nil
	}
	return err
}

// shardOf is the shard of entry e of the source at abs, from its name
// below the source.
func shardOf(abs string, e *source.Entry) string {
	id, _, _ := shard.Of(shard.EntryName(abs, e.Path, e.Member))
	return id
}

// otherShard passes over an entry of a shard this ingest does not take:
// nothing is recorded of it, but a file of a folder source (or the file
// named on the command line) is hashed, for the source's own hash.
func (r *run) otherShard(abs string, e *source.Entry, rd io.Reader, isDir bool, listing *manifest, fileSHA *string) error {
	if e.Err != nil || e.Member != "" || rd == nil || !e.Mode.IsRegular() {
		return nil
	}
	h := sha256.New()
	n, err := io.Copy(h, rd)
	if err != nil {
		return nil // as when the item itself cannot be read: not listed
	}
	r.disk.Add(n)
	sha := hex.EncodeToString(h.Sum(nil))
	if isDir {
		if rel, err := filepath.Rel(abs, e.Path); err == nil {
			listing.add(sha + "  ./" + filepath.ToSlash(rel) + "\n")
		}
	}
	if e.Path == abs {
		*fileSHA = sha
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// container records a folder or archive once its members were walked.
func (r *run) container(srcAbs string, e *source.Entry, isDirSource bool, listing *manifest) {
	kind := store.KindArchive
	if e.Member == "" && e.Path == srcAbs {
		kind = store.KindSource
	}
	ev := r.base(e, kind)
	ev.Format = e.Format
	ev.SHA256 = e.SHA256
	method := "bytes"
	if e.Format == "dir" {
		// A folder's hash is the SHA-256 of its sha256sum listing, sorted
		// by path: reproducible with find, sort and sha256sum.
		sum, n, err := listing.sum()
		if err != nil {
			ev.Error = err.Error()
		}
		ev.SHA256, ev.Size = sum, n
		method = "manifest"
	}
	if e.Err != nil {
		ev.Error = e.Err.Error()
	}
	if kind == store.KindArchive && e.Member == "" {
		r.disk.Add(e.Size)
		r.streamed.Store(0)
	}
	if isDirSource && kind == store.KindArchive && e.Member == "" && ev.SHA256 != "" {
		// An archive file directly in a folder source is one of its files.
		if rel, err := filepath.Rel(srcAbs, e.Path); err == nil {
			listing.add(ev.SHA256 + "  ./" + filepath.ToSlash(rel) + "\n")
		}
	}
	if kind == store.KindSource {
		format := e.Format
		r.mu.Lock()
		r.sum.Sources = append(r.sum.Sources, SourceInfo{Arg: srcAbs, Path: e.Path, Format: format, Size: e.Size, SHA256: ev.SHA256, HashMethod: method})
		r.mu.Unlock()
		if !isDirSource && e.Member == "" {
			r.disk.Add(e.Size)
			r.streamed.Store(0)
		}
	}
	r.add(&store.Item{Evidence: ev}, 0)
}

func manifestPath(line string) string {
	if i := strings.Index(line, "  "); i >= 0 {
		return line[i+2:]
	}
	return line
}

func (r *run) base(e *source.Entry, kind string) store.Evidence {
	ev := store.Evidence{
		Source: e.Source, Path: e.Path, Member: e.Member, MemberPath: e.MemberPath, MemberIndex: e.MemberIndex,
		Size: e.Size, Kind: kind, LinkTarget: e.LinkTarget, ModTime: e.ModTime,
	}
	if e.Mode != 0 {
		ev.Mode = e.Mode.String()
	}
	if ev.Size < 0 {
		ev.Size = 0
	}
	return ev
}

func (r *run) submitError(e *source.Entry) {
	ev := r.base(e, store.KindUnknown)
	ev.Error = e.Err.Error()
	r.add(&store.Item{Evidence: ev}, 0)
}

func (r *run) recordError(p, msg string) {
	r.mu.Lock()
	r.addError(ItemError{Path: p, Error: msg})
	r.mu.Unlock()
}

// addError keeps e (bounded) and hands it on; r.mu is held.
func (r *run) addError(e ItemError) {
	r.errs.add(e)
	if r.opt.OnError != nil {
		r.opt.OnError(e)
	}
}

// read takes one regular item: small ones are buffered and handed to the
// workers, large ones are streamed here. It returns the item's SHA-256.
func (r *run) read(root string, e *source.Entry, rd io.Reader) (string, error) {
	if e.Size >= 0 && e.Size <= r.opt.MaxBuffered || e.Size < 0 {
		limit := r.opt.MaxBuffered
		if e.Size >= 0 {
			limit = e.Size
		}
		r.budget.acquire(limit + 1)
		buf := bytes.NewBuffer(make([]byte, 0, limit+1))
		h := sha256.New()
		_, err := io.Copy(io.MultiWriter(buf, h), io.LimitReader(rd, r.opt.MaxBuffered+1))
		if err != nil {
			r.budget.release(limit + 1)
			var re *source.ReadError
			if errors.As(err, &re) {
				// The walker emits this entry again with the error; it is
				// recorded then, once.
				return "", nil
			}
			ev := r.base(e, store.KindUnknown)
			ev.Error = fmt.Sprintf("read: %v", err)
			r.add(&store.Item{Evidence: ev}, 0)
			return "", nil
		}
		if int64(buf.Len()) <= r.opt.MaxBuffered {
			sha := hex.EncodeToString(h.Sum(nil))
			r.bytes.Add(int64(buf.Len()))
			if path.Base(entryName(e)) == "manifest.json" {
				// An S3 Inventory manifest is parsed here, not by a
				// worker: its schema must be known before the data files
				// the walker hands on after it are parsed (workers would
				// race it).
				if r.streamer == nil {
					r.streamer = r.newReader()
				}
				j := job{e: *e, data: buf.Bytes(), held: limit + 1, sha: sha, root: root}
				r.process(r.streamer, &j)
				r.budget.release(limit + 1)
				return sha, nil
			}
			select {
			case r.jobs <- job{e: *e, data: buf.Bytes(), held: limit + 1, sha: sha, root: root}:
			case <-r.ctx.Done():
				r.budget.release(limit + 1)
				return "", r.ctx.Err()
			}
			return sha, nil
		}
		// Larger than announced or of unknown size: go on streaming with
		// what was read so far in front.
		r.budget.release(limit + 1)
		return r.stream(root, e, io.MultiReader(bytes.NewReader(buf.Bytes()), rd))
	}
	return r.stream(root, e, rd)
}

// failureKey identifies an entry exactly (path, member and positions), to
// tell the walker's repeat of a failed member from another entry of the
// same name.
func failureKey(e *source.Entry) string {
	return e.Path + "\x00" + e.Member + "\x00" + store.EncodeMemberIndex(e.MemberIndex)
}

func displayName(e *source.Entry) string {
	if e.Member != "" {
		return e.Path + "!/" + e.Member
	}
	return e.Path
}

func (r *run) worker() {
	defer r.wg.Done()
	rd := r.newReader()
	defer rd.close()
	for j := range r.jobs {
		r.process(rd, &j)
		j.data = nil
		r.budget.release(j.held)
	}
}

// add hands an item to the writer and counts it.
func (r *run) add(it *store.Item, events int) {
	r.count(it)
	r.items.Add(1)
	r.events.Add(int64(events))
	r.send(it)
}

// send hands rows to the writer within the in-flight row budget.
func (r *run) send(it *store.Item) {
	if n := rowsKiB(it); n > 0 {
		r.rows.acquire(n)
		it.Done = func() { r.rows.release(n) }
	}
	r.w.Add(it)
}

// rowsKiB estimates the memory an item's rows hold, in KiB.
func rowsKiB(it *store.Item) int64 {
	var b int64
	for i := range it.Events {
		b += eventBytes(&it.Events[i])
	}
	for i := range it.AccessRows {
		b += accessBytes(&it.AccessRows[i])
	}
	b += int64(len(it.Metas)) * metaBytes
	if it.Digest != nil {
		b += int64(len(it.Digest.Raw)) + int64(len(it.Digest.LogFiles))*metaBytes
	}
	return (b + 1023) / 1024
}

func (r *run) count(it *store.Item) {
	ev := &it.Evidence
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Items++
	switch {
	case ev.Kind == store.KindSource && ev.Format == "dir":
		// A folder's size is its sha256sum listing's: not evidence bytes.
	case ev.Kind == store.KindSource || ev.Kind == store.KindArchive:
		// A container's bytes are its members' (counted with them) as
		// stored: a folder and an archive of the same files read the same.
		r.sum.ContainerBytes += ev.Size
	default:
		r.sum.Bytes += ev.Size
	}
	r.sum.Kinds[ev.Kind]++
	n := it.RecordCount
	switch ev.Kind {
	case store.KindCloudTrailLog:
		r.sum.LogFiles++
		r.sum.Events += n
	case store.KindCloudTrailDig:
		r.sum.Digests++
	case store.KindPublicKeys:
		r.sum.PublicKeys += n
	case store.KindObjectMetadata:
		r.sum.ObjectMetadata += n
	case store.KindObject:
		r.sum.Objects++
	case store.KindAccessLog:
		r.sum.AccessLogFiles++
		r.sum.AccessLogRecords += n
	case store.KindUnknown:
		r.sum.Unknown++
	}
	if ev.Error != "" {
		p := ev.Path
		if ev.Member != "" {
			p += "!/" + ev.Member
		}
		r.addError(ItemError{Path: p, Error: ev.Error})
	}
}

// byteBudget is a counting semaphore over bytes held in memory.
type byteBudget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	avail int64
	max   int64
}

func newByteBudget(n int64) *byteBudget {
	b := &byteBudget{avail: n, max: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *byteBudget) acquire(n int64) {
	if n > b.max {
		n = b.max
	}
	b.mu.Lock()
	for b.avail < n {
		b.cond.Wait()
	}
	b.avail -= n
	b.mu.Unlock()
}

func (b *byteBudget) release(n int64) {
	if n > b.max {
		n = b.max
	}
	b.mu.Lock()
	b.avail += n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// entryName is the name classification looks at: the member's innermost
// name for archive members, else the path.
func entryName(e *source.Entry) string {
	if e.Member != "" {
		m := e.Member
		if i := strings.LastIndex(m, "!/"); i >= 0 {
			m = m[i+2:]
		}
		return m
	}
	return e.Path
}

// fullName is the name with archive members spelled in full; used to find
// sidecars and keys.
func fullName(e *source.Entry) string {
	if e.Member != "" {
		return path.Clean("/" + strings.ReplaceAll(e.Member, "!/", "/"))
	}
	return filepath.ToSlash(e.Path)
}

// runDir is where a run keeps its temporary files: the case's folder,
// which is never inside a source.
func (r *run) runDir() string {
	if r.c.Path != "" {
		return filepath.Dir(r.c.Path)
	}
	return os.TempDir()
}
