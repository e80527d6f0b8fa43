package location

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithin(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	require.NoError(t, os.MkdirAll(filepath.Join(ev, "sub"), 0o755))
	require.NoError(t, os.Symlink(ev, filepath.Join(dir, "link")))
	for _, tt := range []struct {
		p, dir string
		want   bool
	}{
		{ev, ev, true},
		{filepath.Join(ev, "sub", "new.db"), ev, true},               // not there yet
		{filepath.Join(dir, "link", "case.db"), ev, true},            // through a link
		{filepath.Join(ev, "sub"), filepath.Join(dir, "link"), true}, // the folder named through a link
		{filepath.Join(ev, "..", "elsewhere.db"), ev, false},         // .. resolved
		{filepath.Join(dir, "ev2", "case.db"), ev, false},            // a name that starts alike
		{filepath.Join(dir, "case.db"), ev, false},
	} {
		assert.Equal(t, tt.want, Within(tt.p, tt.dir), "%s in %s", tt.p, tt.dir)
	}
}
