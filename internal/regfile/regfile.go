// Package regfile opens files that must be regular files — key files,
// report files, the case file — without ever blocking on what is not one.
//
// Opening a named pipe for reading blocks until a writer appears, and
// reading a device (a symbolic link to /dev/zero, say) never ends; neither
// honours a cancelled context. So every file the analyst names, or that a
// report folder holds, is opened here: the path is stat'ed and refused
// unless it is a regular file, then opened with O_NONBLOCK (opening a FIFO
// cannot block) and fstat'ed, and refused unless the opened file is still
// that regular file (so a path swapped for a FIFO or a device between the
// two steps cannot hang or race). The *NoFollow variants also refuse a
// symbolic link at the path itself (O_NOFOLLOW), for folders that never
// hold one, such as a report folder. Every refusal is a *NotRegularError
// naming the file and what it is.
package regfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// NotRegularError is a path that is not a regular file (or, for the
// NoFollow variants, is a symbolic link).
type NotRegularError struct {
	Path string
	Type string // "named pipe", "character device", "symbolic link to /dev/zero", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is a %s, not a regular file", e.Path, e.Type)
}

// TooLargeError is a file longer than the most a ReadFile caller reads.
type TooLargeError struct {
	Path string
	Max  int64
}

func (e *TooLargeError) Error() string { return fmt.Sprintf("%s: larger than %d bytes", e.Path, e.Max) }

// Open opens the regular file at path for reading, following a symbolic
// link at path to its target (which must be a regular file).
func Open(path string) (*os.File, error) { return open(path, false) }

// OpenNoFollow is Open, but a symbolic link at path is refused too.
func OpenNoFollow(path string) (*os.File, error) { return open(path, true) }

// ReadFile reads the regular file at path (see Open). max > 0 bounds what
// is read: a longer file is a *TooLargeError.
func ReadFile(path string, max int64) ([]byte, error) { return readFile(path, max, false) }

// ReadFileNoFollow is ReadFile, but a symbolic link at path is refused
// too.
func ReadFileNoFollow(path string, max int64) ([]byte, error) { return readFile(path, max, true) }

// Check reports whether path, if it exists, is a regular file (following
// a symbolic link), without opening it: for files another library opens
// (SQLite opens the case file itself). A path that does not exist gives
// the *fs.PathError of os.Stat.
func Check(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode(), false)
	}
	return fi, nil
}

func open(path string, noFollow bool) (*os.File, error) {
	stat := os.Stat
	if noFollow {
		stat = os.Lstat
	}
	before, err := stat(path)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		// Never opened: a device may have effects on open.
		return nil, notRegular(path, before.Mode(), noFollow)
	}
	flags := os.O_RDONLY | nonBlock
	if noFollow {
		flags |= noFollowFlag
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !after.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, after.Mode(), false)
	}
	if !os.SameFile(before, after) {
		f.Close()
		return nil, fmt.Errorf("%s was replaced while being opened", path)
	}
	return f, nil
}

func readFile(path string, max int64, noFollow bool) ([]byte, error) {
	f, err := open(path, noFollow)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if max > 0 {
		r = io.LimitReader(f, max+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if max > 0 && int64(len(b)) > max {
		return nil, &TooLargeError{Path: path, Max: max}
	}
	return b, nil
}

func notRegular(path string, m fs.FileMode, lstat bool) error {
	t := TypeName(m)
	if lstat && m&fs.ModeSymlink != 0 {
		if target, err := os.Readlink(path); err == nil {
			t += " to " + target
		}
	}
	return &NotRegularError{Path: path, Type: t}
}

// TypeName describes the type bits of a file mode for messages: "named
// pipe", "socket", "character device", "block device", "symbolic link",
// "folder", "irregular file".
func TypeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsDir():
		return "folder"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return m.Type().String()
}

// SHA256NoFollow is the hex SHA-256 and size of the regular file at path,
// opened as OpenNoFollow does (a link, pipe or device is refused, never
// read).
func SHA256NoFollow(path string) (string, int64, error) {
	f, err := OpenNoFollow(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
