package s3meta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDetectHead: a head that is the whole file is judged as Detect judges
// it; a head cut short is judged on the members it holds, so that an
// export is recognised from its first bytes whatever its size.
func TestDetectHead(t *testing.T) {
	for _, name := range []string{"head-object-b1.json", "attributes-composite.json", "list-object-versions.json", "list-objects-v2.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		want := Detect(b)
		require.NotEmpty(t, want, name)
		assert.Equal(t, want, DetectHead(b, true), name)
		// Cut anywhere after the member that decides it, the head still says
		// the same.
		for cut := len(b) - 1; cut > 0; cut-- {
			if got := DetectHead(b[:cut], false); got != want && got != "" {
				t.Errorf("%s cut at %d: %q, want %q or nothing", name, cut, got, want)
			}
		}
	}
	listing := `{"IsTruncated": false, "KeyMarker": "", "Versions": [{"ETag": "\"x\"", "Size": 1, "Key": "a"` + strings.Repeat(" ", 100)
	assert.Equal(t, FormatListVersions, DetectHead([]byte(listing), false))
	assert.Equal(t, FormatHeadObject, DetectHead([]byte(`{"AcceptRanges": "bytes", "LastModified": "2024-01-01T00:00:00Z", "ContentLength": 12, "ETag": "\"a`), false))
	assert.Equal(t, "", DetectHead([]byte(`{"Records": [{"eventVersion": "1.08"`), false))
	assert.Equal(t, "", DetectHead([]byte(`[{"Versions": []}`), false))
	assert.Equal(t, "", DetectHead([]byte(`{"ETag": "\"x\"", "ETag": "\"y\"", "Versions": [`), false), "a key given twice")
}

// FuzzDetectHead: DetectHead never panics, and on a whole file agrees
// with Detect.
func FuzzDetectHead(f *testing.F) {
	for _, name := range []string{"head-object-b1.json", "attributes-composite.json", "list-object-versions.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b, uint16(len(b)/2))
	}
	f.Add([]byte(`{"a":`), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		if DetectHead(data, true) != Detect(data) {
			t.Fatalf("DetectHead(%q, complete) differs from Detect", data)
		}
		DetectHead(data[:min(int(cut), len(data))], false)
	})
}
