package source

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
)

// got is what a test keeps of one entry.
type got struct {
	Entry
	Body    []byte // content read by the visitor (nil when r was nil)
	HasBody bool
}

// line summarises an entry for exact comparisons:
// "member" / "member -> target" / "[format] container", with " ERR" when Err
// is set.
func (g got) line() string {
	s := g.Member
	if g.Member == "" {
		s = filepath.Base(g.Path)
	}
	if g.Container {
		s = "[" + g.Format + "] " + s
	}
	if g.LinkTarget != "" {
		s += " -> " + g.LinkTarget
	}
	if g.Err != nil {
		s += " ERR"
	}
	return s
}

func lines(gs []got) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.line()
	}
	return out
}

// walkAll walks arg and keeps every entry with its full content.
func walkAll(t testing.TB, arg string, opt Options) []got {
	t.Helper()
	var gs []got
	err := Walk(context.Background(), arg, opt, func(e *Entry, r io.Reader) error {
		g := got{Entry: *e}
		if r != nil {
			g.HasBody = true
			g.Body, _ = io.ReadAll(r) // a failing member is emitted again with Err
		}
		gs = append(gs, g)
		return nil
	})
	require.NoError(t, err)
	return gs
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSHA(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return sha(b)
}

// member describes one archive member to build.
type member struct {
	name     string
	body     []byte
	typeflag byte // tar only; 0 means regular file
	link     string
}

var testTime = time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)

// tarBytes builds a tar archive. GNU format keeps names byte for byte.
func tarBytes(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		typ := m.typeflag
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: m.name, Typeflag: typ, Linkname: m.link, Mode: 0o644, ModTime: testTime, Format: tar.FormatGNU}
		if typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if typ == tar.TypeDir {
			h.Mode = 0o755
		}
		require.NoError(t, tw.WriteHeader(h))
		if typ == tar.TypeReg {
			_, err := tw.Write(m.body)
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	require.NoError(t, err)
	_, err = zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func zipBytes(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: testTime}
		if m.link != "" {
			h.SetMode(os.ModeSymlink | 0o777)
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		body := m.body
		if m.link != "" {
			body = []byte(m.link)
		}
		_, err = w.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, p string, b []byte) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// snapshot records every file's bytes and modification time under root.
func snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %s", fi.Mode(), fi.ModTime().Format(time.RFC3339Nano))
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + sha(b)
		}
		snap[p] = v
		return nil
	})
	require.NoError(t, err)
	return snap
}
