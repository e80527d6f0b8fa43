package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hard links, fifos and devices in a tar, and fifos, devices and sockets
// in a zip, are entries of what they are: no content, no error, the type
// in Mode.
func TestWalkSpecialMembers(t *testing.T) {
	t.Run("tar", func(t *testing.T) {
		p := writeFile(t, filepath.Join(t.TempDir(), "s.tar"), tarBytes(t,
			member{name: "f", body: []byte("f")},
			member{name: "hard", typeflag: tar.TypeLink, link: "f"},
			member{name: "fifo", typeflag: tar.TypeFifo},
			member{name: "chr", typeflag: tar.TypeChar},
			member{name: "blk", typeflag: tar.TypeBlock},
		))
		gs := walkAll(t, p, Options{})
		assert.Equal(t, []string{"f", "hard -> f", "fifo", "chr", "blk", "[tar] s.tar"}, lines(gs))
		for i, want := range []string{"", "", "fifo", "character device", "block device"} {
			assert.NoError(t, gs[i].Err, gs[i].Member)
			assert.Equal(t, want, SpecialType(gs[i].Mode), gs[i].Member)
		}
		for _, g := range gs[1:5] {
			assert.False(t, g.HasBody, "%s: no reader", g.Member)
		}
		assert.Equal(t, "f", gs[1].LinkTarget)
		assert.Zero(t, gs[1].Mode.Type())
		assert.NoError(t, gs[5].Err)
	})
	t.Run("zip", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, m := range []struct {
			name string
			mode fs.FileMode
		}{{"fifo", fs.ModeNamedPipe | 0o644}, {"chr", fs.ModeDevice | fs.ModeCharDevice | 0o644}, {"blk", fs.ModeDevice | 0o644},
			{"sock", fs.ModeSocket | 0o644}, {"f", 0o644}} {
			h := &zip.FileHeader{Name: m.name, Method: zip.Store, Modified: testTime}
			h.SetMode(m.mode)
			w, err := zw.CreateHeader(h)
			require.NoError(t, err)
			if m.name == "f" {
				_, err = w.Write([]byte("f"))
				require.NoError(t, err)
			}
		}
		require.NoError(t, zw.Close())
		p := writeFile(t, filepath.Join(t.TempDir(), "s.zip"), buf.Bytes())
		gs := walkAll(t, p, Options{})
		require.Equal(t, []string{"fifo", "chr", "blk", "sock", "f", "[zip] s.zip"}, lines(gs))
		for i, want := range []string{"fifo", "character device", "block device", "socket"} {
			assert.NoError(t, gs[i].Err, gs[i].Member)
			assert.False(t, gs[i].HasBody, gs[i].Member)
			assert.Equal(t, want, SpecialType(gs[i].Mode), gs[i].Member)
		}
		assert.NoError(t, gs[5].Err, "special members are not read failures")
	})
}
