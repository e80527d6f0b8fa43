package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/store"
)

// hashes is what a path computed for one item.
type hashes struct {
	SHA256, ContentSHA256, Compression string
	Trailing, Failed                   bool
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestHashesAgreeOnEveryPath: the same bytes get the same hashes, trailing
// flag and verdict on the content whether ingest buffers the item, ingest
// streams it, or verify --rehash reads it again — and those are the hashes
// compress/gzip and crypto/sha256 give.
func TestHashesAgreeOnEveryPath(t *testing.T) {
	var content bytes.Buffer
	content.WriteString(`{"Records":[`)
	for i := 0; i < 2000; i++ {
		if i > 0 {
			content.WriteByte(',')
		}
		fmt.Fprintf(&content, `{"eventVersion":"1.08","eventTime":"2024-03-04T10:%02d:00Z","eventName":"GetObject","eventSource":"s3.amazonaws.com","eventID":"id-%d"}`, i%60, i)
	}
	content.WriteString(`]}`)
	body := content.Bytes()
	gzBytes := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	changed := bytes.Clone(body)
	changed[len(changed)/2] = 'X' // one byte of the content
	good := gzBytes(body)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40 // one byte of the compressed stream
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	files := map[string][]byte{
		"good.json.gz":      good,
		"changed.json.gz":   gzBytes(changed),
		"flipped.json.gz":   flipped,
		"truncated.json.gz": good[:len(good)*2/3],
		"trailing.json.gz":  append(bytes.Clone(good), gzBytes([]byte(`{"Records":[]}`))...),
		"zstd.json.zst":     enc.EncodeAll(body, nil),
		"plain.json":        body,
	}
	enc.Close()
	dir := t.TempDir()
	const prefix = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/111122223333_CloudTrail_us-east-1_20240304T1005Z_"
	for name, b := range files {
		p := filepath.Join(dir, "e", prefix+name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}

	// What compress/gzip and crypto/sha256 say.
	want := map[string]hashes{}
	for name, b := range files {
		h := hashes{SHA256: hexSum(b)}
		switch {
		case strings.HasSuffix(name, ".gz"):
			h.Compression = "gzip"
			br := bytes.NewReader(b)
			zr, err := gzip.NewReader(br)
			require.NoError(t, err)
			zr.Multistream(false)
			var c bytes.Buffer
			if _, err := c.ReadFrom(zr); err != nil {
				h.Failed = true
			} else {
				h.ContentSHA256, h.Trailing = hexSum(c.Bytes()), br.Len() > 0
			}
		case strings.HasSuffix(name, ".zst"):
			h.Compression, h.ContentSHA256 = "zstd", hexSum(body)
		}
		want[name] = h
	}
	assert.NotEqual(t, want["good.json.gz"].SHA256, want["changed.json.gz"].SHA256)
	assert.NotEqual(t, want["good.json.gz"].ContentSHA256, want["changed.json.gz"].ContentSHA256)
	assert.True(t, want["flipped.json.gz"].Failed && want["truncated.json.gz"].Failed)
	assert.True(t, want["trailing.json.gz"].Trailing)

	paths := map[string]ingest.Options{"buffered": {}, "streamed": {MaxBuffered: 1}}
	errs := map[string]map[string]string{} // path -> file -> evidence.error
	for pathName, opt := range paths {
		errs[pathName] = map[string]string{}
		ctx := context.Background()
		c, err := store.Open(ctx, filepath.Join(t.TempDir(), "case.db"))
		require.NoError(t, err)
		_, err = ingest.Run(ctx, c, []string{filepath.Join(dir, "e")}, opt)
		require.NoError(t, err)
		db := casetest.DB(t, c)
		for name := range files {
			var h hashes
			var csha sql.NullString
			var errText sql.NullString
			require.NoError(t, db.QueryRow(`SELECT sha256, content_sha256, compression, gzip_trailing, error FROM evidence WHERE path LIKE ?`,
				"%_"+name).Scan(&h.SHA256, &csha, &h.Compression, &h.Trailing, &errText), name)
			h.ContentSHA256 = csha.String
			h.Failed = h.Compression != "" && csha.String == ""
			if h.Failed {
				assert.NotEmpty(t, errText.String, "%s %s: a failed content has its reason", pathName, name)
			}
			errs[pathName][name] = errText.String
			assert.Equal(t, want[name], h, "ingest, %s: %s", pathName, name)
		}
		c.Close()
	}
	assert.Equal(t, errs["buffered"], errs["streamed"], "the same errors on both paths")
	for name, b := range files {
		res, err := hashStream(bytes.NewReader(b))
		require.NoError(t, err)
		h := hashes{SHA256: res.sha, ContentSHA256: res.contentSHA, Compression: res.compression, Trailing: res.trailing, Failed: res.err != ""}
		if h.Compression == "" {
			h.ContentSHA256 = "" // rehash reports the bytes' hash as the content's; ingest leaves it empty
		}
		if h.Failed {
			h.ContentSHA256 = ""
		}
		assert.Equal(t, want[name], h, "rehash: %s", name)
	}
}
