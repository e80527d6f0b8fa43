package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/regfile"
)

// Entry is one item of a walk: a file on disk, an archive member, or (after
// its members) a container.
type Entry struct {
	Source string // the argument, made absolute (filepath.Abs)
	// Path is the file on disk: the file itself for folder members and
	// single files, the outermost archive for archive members.
	Path string
	// Member is the name inside the archive(s) exactly as stored, nested
	// archives joined with "!/" ("inner.tar.gz!/AWSLogs/x.json.gz"); empty
	// for files on disk. Never a file-system path.
	Member string
	// MemberPath is the same chain of member names, outermost first, each
	// exactly as stored, without Member's ambiguity: a member may itself
	// be named "inner.tar!/x". Empty for files on disk.
	MemberPath []string
	// MemberIndex is, for each level of MemberPath, the entry's position
	// in its archive: 0-based, counting every entry the archive stores
	// (directories too) in stored order. Two members of one archive that
	// bear the same name differ here; the same archive bytes always give
	// the same positions, so a member can be found again exactly.
	MemberIndex []int
	Size        int64 // size from the header or stat, -1 if unknown
	Mode        fs.FileMode
	ModTime     time.Time
	LinkTarget  string // symlinks (Mode has fs.ModeSymlink) and tar hard links (no type bits): the target, recorded, never followed
	// Container marks an archive whose members were walked, or the folder
	// itself; it is emitted after its members.
	Container bool
	Format    string // containers: "tar", "tar.gz", "tar.zst", "zip", "dir"; members: ""
	// SHA256 is the hex SHA-256 of an archive's bytes as received; empty
	// for folders and when the archive's bytes could not be read to the end.
	SHA256 string
	// Err says why the entry could not be (fully) read. It never repeats
	// the entry's own name (Name() gives it): "read tar.gz archive:
	// unexpected EOF in gzip stream after 1234 bytes".
	Err error
}

// Name is the entry's display name: Path, or Path!/Member for archive
// members. Member names that do not print as themselves are quoted
// (display.Quote).
func (e *Entry) Name() string {
	if e.Member == "" {
		return e.Path
	}
	return e.Path + "!/" + display.Quote(e.Member)
}

// Options bounds the walk. Zero values select the defaults.
type Options struct {
	// MaxArchiveBytes caps the decompressed bytes produced by one compressed
	// archive stream (decompression bomb guard); default 64 GiB.
	MaxArchiveBytes int64
	// MaxRatio caps the decompressed:compressed ratio once the output
	// exceeds 16 MiB; default 200.
	MaxRatio int64
	// MaxNestedBuffer is how much of the zips nested inside other archives
	// is buffered in memory for random access, in all: a zip inside a zip
	// inside a tar counts both zips (default 256 MiB). One that does not
	// fit in what is left is read in file order from its local headers.
	MaxNestedBuffer int64
	// MaxDepth is how many levels of archives are opened (default 4);
	// deeper archives are ordinary members. Negative: open no archive.
	MaxDepth int

	// Read, when set, is told how many bytes of a tar archive on disk
	// (tar, tar.gz, tar.zst, ...) the walk has read so far, as it reads
	// them (for progress: the compressed bytes of an archive read).
	Read func(n int64)

	// open replaces os.Open for files found in a folder; tests use it to
	// simulate unreadable files when running as root.
	open func(name string) (*os.File, error)
}

// Defaults.
const (
	DefaultMaxArchiveBytes = 64 << 30
	DefaultMaxRatio        = 200
	DefaultMaxNestedBuffer = 256 << 20
	DefaultMaxDepth        = 4
)

// ratioFloor is the output size below which the ratio cap does not apply:
// small, highly repetitive files (padding, zeros) legitimately compress far
// beyond 200:1.
const ratioFloor = 16 << 20

func (o Options) withDefaults() Options {
	if o.MaxArchiveBytes <= 0 {
		o.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	if o.MaxNestedBuffer <= 0 {
		o.MaxNestedBuffer = DefaultMaxNestedBuffer
	}
	switch {
	case o.MaxDepth == 0:
		o.MaxDepth = DefaultMaxDepth
	case o.MaxDepth < 0:
		o.MaxDepth = 0
	}
	if o.open == nil {
		o.open = os.Open
	}
	return o
}

// ReadError is the error a member's reader returns when its content cannot be
// read to the end. If visit returns an error that wraps the very *ReadError
// its reader returned, Walk does not stop: it emits the entry again with Err
// set and goes on. So a visitor may simply return what io.Copy gave it.
type ReadError struct {
	Name string // Entry.Name() of the member
	Err  error
}

// Error says what went wrong without the member's name (the entry that
// carries the error has it): "read: unexpected EOF".
func (e *ReadError) Error() string {
	if pe, ok := e.Err.(*fs.PathError); ok {
		return "read: " + pe.Err.Error()
	}
	return "read: " + e.Err.Error()
}
func (e *ReadError) Unwrap() error { return e.Err }

// ArgError is Walk's error for an argument it cannot walk: it does not
// exist, cannot be opened, is a symbolic link or is not a folder or
// regular file. Err says why, without the path.
type ArgError struct {
	Path string
	Err  error
}

func (e *ArgError) Error() string { return "evidence " + e.Path + ": " + e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

// pathless is err without the path an *fs.PathError repeats ("open
// /ev/x: permission denied" becomes "open: permission denied"): an entry
// carries its own name, so its error does not.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && err == error(pe) {
		return &opError{op: pe.Op, err: pe.Err}
	}
	return err
}

// opError is an *fs.PathError without its path.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// Walk calls visit for every entry of the evidence named by arg, in order.
//
// For a regular file or member, r yields its raw bytes as stored (for a
// .json.gz member, the gzip bytes); visit may read all, part or none of r.
// After visit returns, Walk drains the rest of an archive member (it must, to
// reach the next one); the rest of a file on disk is left unread. For
// containers, symlinks and error entries r is nil. The Entry and r are valid
// only during the call. A member whose content fails while being read (here
// or while draining) is emitted a second time right after, with Err set and
// r nil: the caller should discard what it made of the first.
//
// visit returning an error stops the walk and Walk returns it (except a
// *ReadError from r, see ReadError). Walk returns an error only for that,
// for ctx cancellation (checked between entries), or for an unusable
// argument: one that does not exist, cannot be opened, is a symbolic link
// (not followed; pass the target), or is neither a folder nor a regular file.
// Every other problem becomes an entry with Err set and the walk goes on.
func Walk(ctx context.Context, arg string, opt Options, visit func(e *Entry, r io.Reader) error) error {
	if arg == "" {
		return errors.New("evidence path is empty")
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return fmt.Errorf("evidence %s: %w", arg, err)
	}
	info, err := os.Lstat(abs)
	if err != nil {
		return &ArgError{Path: abs, Err: pathless(err)}
	}
	w := &walker{ctx: ctx, opt: opt.withDefaults(), source: abs, visit: visit}
	defer func() {
		if w.zstdSniff != nil {
			w.zstdSniff.Close()
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case info.IsDir():
		return w.walkDir(abs, info)
	case info.Mode().IsRegular():
		f, err := w.opt.open(abs)
		if err != nil {
			return &ArgError{Path: abs, Err: pathless(err)}
		}
		defer f.Close()
		return w.diskFile(abs, f, info)
	case info.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(abs)
		return &ArgError{Path: abs, Err: fmt.Errorf("a symbolic link to %s, which is not followed", target)}
	default:
		return &ArgError{Path: abs, Err: fmt.Errorf("not a folder or regular file (%s)", typeName(info.Mode()))}
	}
}

// walker carries the state of one Walk. Errors returned by its methods stop
// the walk (visitor error or cancellation); evidence problems are entries.
type walker struct {
	ctx    context.Context
	opt    Options
	source string
	visit  func(*Entry, io.Reader) error

	gzSniff   *gzip.Reader // reused by detect
	zstdSniff *zstd.Decoder
	buf       []byte // for drain
	nested    int64  // bytes of nested zips held in memory by the enclosing levels
}

// drain reads r to its end, checking for cancellation as it goes: a member
// can be large. It returns r's error or the context's.
func (w *walker) drain(r io.Reader) error {
	if w.buf == nil {
		w.buf = make([]byte, 32<<10)
	}
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		_, err := r.Read(w.buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// stopError carries a visitor or context error through filepath.WalkDir,
// so that a visitor returning fs.SkipDir or fs.SkipAll is not mistaken for
// a walk instruction.
type stopError struct{ err error }

func (s stopError) Error() string { return s.err.Error() }

func (w *walker) walkDir(root string, info fs.FileInfo) error {
	var rootErr error
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := w.ctx.Err(); cerr != nil {
			return stopError{cerr}
		}
		if err != nil {
			if p == root {
				rootErr = err
				return nil
			}
			e := Entry{Path: p, Size: -1, Err: fmt.Errorf("read folder: %w", pathless(err))}
			if d != nil {
				e.Mode = d.Type()
			}
			if serr := w.emit(&e); serr != nil {
				return stopError{serr}
			}
			return nil
		}
		if p == root || d.IsDir() {
			return nil
		}
		var serr error
		if fi, ierr := d.Info(); ierr != nil {
			serr = w.emit(&Entry{Path: p, Size: -1, Mode: d.Type(), Err: pathless(ierr)})
		} else {
			serr = w.folderMember(p, fi)
		}
		if serr != nil {
			return stopError{serr}
		}
		return nil
	})
	var stop stopError
	if errors.As(err, &stop) {
		return stop.err
	}
	if err != nil {
		return err // not reached: WalkDir errors reach the callback
	}
	e := Entry{Path: root, Size: -1, Mode: info.Mode(), ModTime: info.ModTime(), Container: true, Format: "dir"}
	if rootErr != nil {
		e.Err = fmt.Errorf("read folder: %w", pathless(rootErr))
	}
	return w.emit(&e)
}

// folderMember handles one non-directory found in a folder.
func (w *walker) folderMember(p string, fi fs.FileInfo) error {
	e := Entry{Path: p, Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime()}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		e.LinkTarget = target
		e.Err = pathless(err)
		return w.emit(&e)
	case !fi.Mode().IsRegular():
		// Never opened: opening a fifo blocks, a device may have effects.
		// A special file is an entry without content; anything else
		// irregular is an error.
		e.Size = -1
		if SpecialType(fi.Mode()) == "" {
			e.Err = fmt.Errorf("not a regular file (%s)", typeName(fi.Mode()))
		}
		return w.emit(&e)
	}
	f, err := w.opt.open(p)
	if err != nil {
		e.Err = pathless(err) // "open: permission denied"
		return w.emit(&e)
	}
	defer f.Close()
	return w.diskFile(p, f, fi)
}

// diskFile walks a regular file opened as f; lstat is what the walk saw
// before opening it.
func (w *walker) diskFile(p string, f *os.File, lstat fs.FileInfo) error {
	fi, err := f.Stat()
	if err == nil && (!fi.Mode().IsRegular() || !os.SameFile(fi, lstat)) {
		err = errors.New("replaced while being walked")
	}
	if err != nil {
		return w.emit(&Entry{Path: p, Size: -1, Mode: lstat.Mode(), ModTime: lstat.ModTime(), Err: pathless(err)})
	}
	e := Entry{Path: p, Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime()}
	return w.item(e, f, f, 0)
}

// item walks one file or member whose content is r: as an archive when its
// content says so and depth allows, otherwise as one ordinary entry. f is
// the open file when the item is a file on disk (it is also r), else nil.
// depth is the number of archives that enclose the item.
func (w *walker) item(e Entry, r io.Reader, f *os.File, depth int) error {
	if depth >= w.opt.MaxDepth {
		return w.emitContent(&e, r, f == nil)
	}
	format, head := w.detect(r)
	src := io.MultiReader(bytes.NewReader(head), r)
	switch format {
	case "":
		return w.emitContent(&e, src, f == nil)
	case "zip":
		if f != nil {
			return w.walkZipFile(e, f, depth)
		}
		return w.walkZipNested(e, src, depth)
	default:
		if f != nil && w.opt.Read != nil {
			src = &countingReader{r: src, n: w.opt.Read}
		}
		return w.walkTar(e, src, format, depth)
	}
}

// countingReader tells n how many bytes each read returned.
type countingReader struct {
	r io.Reader
	n func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if k > 0 {
		c.n(int64(k))
	}
	return k, err
}

// emit hands an entry without content to the visitor.
func (w *walker) emit(e *Entry) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	e.Source = w.source
	return w.visit(e, nil)
}

// emitContent hands an ordinary entry and its content to the visitor, then
// drains the content if asked, and emits the entry again with Err set if
// the content could not be read to the end.
func (w *walker) emitContent(e *Entry, r io.Reader, drain bool) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	e.Source = w.source
	mr := &memberReader{r: r, name: e.Name()}
	if err := w.visit(e, mr); err != nil {
		if mr.err == nil || !errors.Is(err, error(mr.err)) {
			return err
		}
	}
	if drain && mr.err == nil {
		_ = w.drain(mr) // a read error is kept in mr.err
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	if mr.err == nil {
		return nil
	}
	failed := *e
	failed.Err = mr.err
	return w.emit(&failed)
}

// memberReader is the reader a visitor gets: it turns the first read error
// into a *ReadError naming the entry and keeps returning it.
type memberReader struct {
	r    io.Reader
	name string
	err  *ReadError
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		m.err = &ReadError{Name: m.name, Err: err}
		return n, m.err
	}
	return n, err
}

// joinMember names a member of the archive described by parent.
func joinMember(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "!/" + name
}

// memberOf is the entry for the member called name at position idx of the
// archive described by parent.
func memberOf(parent Entry, name string, idx int) Entry {
	return Entry{
		Path:        parent.Path,
		Member:      joinMember(parent.Member, name),
		MemberPath:  append(append(make([]string, 0, len(parent.MemberPath)+1), parent.MemberPath...), name),
		MemberIndex: append(append(make([]int, 0, len(parent.MemberIndex)+1), parent.MemberIndex...), idx),
	}
}

// container is the container entry of the archive e, emitted after its
// members.
func container(e Entry, format string) Entry {
	return Entry{Path: e.Path, Member: e.Member, MemberPath: e.MemberPath, MemberIndex: e.MemberIndex,
		Size: e.Size, Mode: e.Mode, ModTime: e.ModTime, Container: true, Format: format}
}

// SpecialType names a special file's type — "fifo", "character device",
// "block device" or "socket" — or is "" for any other mode. Walk emits
// special files (in folders, tars and zips) as entries without content
// or Err, their type in Mode; they are never opened.
func SpecialType(m fs.FileMode) string {
	if m&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice) == 0 {
		return ""
	}
	if m&fs.ModeNamedPipe != 0 {
		return "fifo"
	}
	return regfile.TypeName(m)
}

// typeName describes the type bits of a file mode for error messages (one
// wording for every reader: regfile's).
func typeName(m fs.FileMode) string { return regfile.TypeName(m) }

// formatBytes renders a cap for messages: "64 GiB", "256 MiB", "1000 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
