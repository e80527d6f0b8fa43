package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
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
			assert.NotNil(t, it.Detail["gap_after_predecessor"], "the forged digest's claim is named")
		}
	}
}
