package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every error is "PATH: what is wrong": the message recorded under a path
// never repeats it, and says what went wrong, exactly.
func TestErrorMessagesNameThePathOnce(t *testing.T) {
	dir := t.TempDir()
	tarBytes := writeTar(t, smallSet(t))
	tgz := gz(t, tarBytes)[:300]
	writeFile(t, filepath.Join(dir, "a-trunc.tar.gz"), tgz)
	writeFile(t, filepath.Join(dir, "b-trunc.tar"), tarBytes[:1500])
	zipBytes := writeZip(t, smallSet(t))
	writeFile(t, filepath.Join(dir, "c-trunc.zip"), zipBytes[:len(zipBytes)/2])
	writeFile(t, filepath.Join(dir, "d-obj.txt"), []byte("object\n"))
	writeFile(t, filepath.Join(dir, "d-obj.txt.metadata.json"), []byte(`{"ETag": "x", "ContentLength": 7`))
	good := gz(t, []byte(recordsA))
	writeFile(t, filepath.Join(dir, "e", logKey), good[:len(good)/2])
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(dir, link))

	c := newCase(t)
	sum, err := Run(context.Background(), c, []string{dir, link}, Options{})
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range sum.Errors {
		got[e.Path] = e.Error
		// The path once, then what is wrong.
		if e.Path != link { // its message names its target
			assert.NotContains(t, e.Error, dir, "error of %s", e.Path)
		}
		assert.False(t, e.Error == "" || strings.HasPrefix(e.Error, ":") || strings.Contains(e.Error, ": :"), "error of %s: %q", e.Path, e.Error)
	}
	p := func(rel string) string { return filepath.Join(dir, rel) }
	want := map[string]string{
		p("a-trunc.tar.gz"):           "read tar.gz archive: unexpected EOF in gzip stream after 300 bytes",
		p("b-trunc.tar"):              "read tar archive: unexpected EOF in tar stream after 1500 bytes",
		p("c-trunc.zip"):              "read zip archive: central directory: zip: not a valid zip file; 2 members recovered from local headers, then: member flat/111122223333_CloudTrail_us-east-1_20240304T1010Z_zzzzzzzzzzzzzzzz.json: unexpected EOF",
		p("d-obj.txt.metadata.json"):  "object metadata: offset 32: malformed JSON: unexpected end of input",
		p(filepath.Join("e", logKey)): "gzip: truncated: unexpected end of data after ",
		link:                          "a symbolic link to " + dir + ", which is not followed",
	}
	for path, msg := range want {
		if strings.HasSuffix(msg, " ") { // ends with a number
			assert.True(t, strings.HasPrefix(got[path], msg), "%s: %q, want %q...", path, got[path], msg)
			continue
		}
		assert.Equal(t, msg, got[path], path)
	}
	// A member cut short: "read: ..." under the member's own name.
	var member string
	for path, msg := range got {
		if strings.HasPrefix(path, p("a-trunc.tar.gz")+"!/") {
			member = msg
		}
	}
	assert.Equal(t, "read: unexpected EOF in gzip stream after 300 bytes", member)
}

// Items too large to buffer are streamed; their errors have the same
// shape.
func TestStreamedErrorMessagesNameThePathOnce(t *testing.T) {
	dir := t.TempDir()
	line := "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \"-\" \"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 - - us-east-1\n"
	logs := gz(t, []byte(strings.Repeat(line, 2000)))
	writeFile(t, filepath.Join(dir, "2019-02-06-00-00-38-5C2F7A1B9E0D4C3A"), logs[:len(logs)/2])
	tgz := gz(t, writeTar(t, map[string][]byte{"big": []byte(strings.Repeat(line, 2000))}))
	writeFile(t, filepath.Join(dir, "b.tar.gz"), tgz[:len(tgz)/2])
	c := newCase(t)
	sum, err := Run(context.Background(), c, []string{dir}, Options{MaxBuffered: 4 << 10})
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range sum.Errors {
		got[e.Path] = e.Error
		assert.NotContains(t, e.Error, dir, "error of %s", e.Path)
	}
	assert.Regexp(t, `^gzip: truncated: unexpected end of data after \d+ decompressed bytes$`, got[filepath.Join(dir, "2019-02-06-00-00-38-5C2F7A1B9E0D4C3A")])
	assert.Equal(t, "read: unexpected EOF in gzip stream after "+strconv.Itoa(len(tgz)/2)+" bytes", got[filepath.Join(dir, "b.tar.gz")+"!/big"])
	assert.Equal(t, "read tar.gz archive: unexpected EOF in gzip stream after "+strconv.Itoa(len(tgz)/2)+" bytes", got[filepath.Join(dir, "b.tar.gz")])
}
