package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

func gunzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestForgedNewestDigestDoesNotHideTheTail: the newest three digests of a
// chain and their log files are deleted, and one forged digest without
// metadata takes the newest one's place, naming the last real digest as
// its predecessor (with that digest's real hash and signature). The hours
// between are missing, whatever the forged digest claims.
func TestForgedNewestDigestDoesNotHideTheTail(t *testing.T) {
	opt := small()
	opt.Hours = 8
	c, m := setWith(t, opt, func(m *fixtures.Manifest) {
		last, realLast := m.Digests[7], m.Digests[4]
		var doc map[string]any
		require.NoError(t, json.Unmarshal(gunzipBytes(t, slurp(t, last.Path)), &doc))
		for _, d := range m.Digests[5:] {
			require.NoError(t, os.Remove(d.Path))
			require.NoError(t, os.Remove(d.MetadataPath))
			for _, l := range m.Logs {
				for _, k := range d.Logs {
					if l.Key == k {
						require.NoError(t, os.Remove(l.Path))
					}
				}
			}
		}
		doc["previousDigestS3Object"] = realLast.Key
		doc["previousDigestHashValue"] = realLast.SHA256
		doc["previousDigestSignature"] = realLast.Signature
		doc["logFiles"] = []any{}
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(last.Path, gzipBytes(t, b), 0o644)) // no sidecar: its signature is "unavailable"
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	want := map[string]string{"digest " + m.Digests[7].Key: StatusSignatureUnavailable}
	for _, d := range m.Digests[5:7] {
		want["digest "+d.Key] = StatusMissing
	}
	assert.Equal(t, want, notValid(rep))
	assert.True(t, rep.Failed())
	for _, it := range rep.Items {
		if it.S3Key == m.Digests[7].Key {
			assert.NotNil(t, det(it.Detail)["gap_after_predecessor"], "the forged digest's claim is named")
		}
	}
}

// TestRepeatedListingsAreBounded: a digest that lists one log file twice
// is format_invalid; a log file listed by many digests names at most
// maxListedBy of them in its detail, and counts them all.
func TestRepeatedListingsAreBounded(t *testing.T) {
	const copies = 30
	var target fixtures.DigestInfo
	c, m := setWith(t, small(), func(m *fixtures.Manifest) {
		target = m.Digests[2]
		var doc map[string]any
		require.NoError(t, json.Unmarshal(gunzipBytes(t, slurp(t, target.Path)), &doc))
		// Copies of the digest (the same content, other file names), each
		// listing the same log file.
		for i := 0; i < copies; i++ {
			p := fmt.Sprintf("%s/forged-%02d.json.gz", filepath.Dir(target.Path), i)
			require.NoError(t, os.WriteFile(p, slurp(t, target.Path), 0o644))
		}
		files := doc["logFiles"].([]any)
		doc["logFiles"] = append(files, files[0])
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(target.Path), "repeated.json.gz"), gzipBytes(t, b), 0o644))
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	formatInvalid := 0
	for _, it := range rep.Items {
		if it.Kind == KindDigest && it.Status == StatusFormatInvalid {
			formatInvalid++
			assert.Contains(t, det(it.Detail)["reason"], "more than once")
		}
		if it.Kind == KindLog && it.S3Key == target.Logs[0] {
			assert.LessOrEqual(t, len(logDetail(it).ListedBy), maxListedBy)
			assert.Equal(t, copies+2, logDetail(it).ListedByCount, "the original, its copies and the repeating digest")
		}
	}
	assert.Equal(t, 1, formatInvalid)
}
