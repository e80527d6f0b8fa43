package source

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWalkCorpus walks the real third-party corpus: every file's bytes as
// received must match SHA256SUMS, and its two real zips must be walked with
// the member contents unzip gives.
func TestWalkCorpus(t *testing.T) {
	dir := testcorpus.Dir(t)
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "SHA256SUMS line %q", sc.Text())
		sums[filepath.Join(dir, filepath.FromSlash(name))] = sum
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, sums)

	gs := walkAll(t, dir, Options{})
	checked := 0
	members := map[string]string{}
	for _, g := range gs {
		require.NoError(t, g.Err, "%s", g.Name())
		switch {
		case g.Container && g.Format == "dir":
			assert.Equal(t, dir, g.Path)
		case g.Container:
			assert.Equal(t, "zip", g.Format, g.Name())
			assert.Equal(t, sums[g.Path], g.SHA256, "container hash of %s", g.Path)
			checked++
		case g.Member != "":
			members[filepath.Base(g.Path)+"!/"+g.Member] = sha(g.Body)
		default:
			if want, ok := sums[g.Path]; ok {
				assert.Equal(t, want, sha(g.Body), "content of %s", g.Path)
				checked++
			}
		}
	}
	assert.Equal(t, len(sums), checked, "every file in SHA256SUMS was seen")
	// Hashes of `unzip -p` output.
	assert.Equal(t, map[string]string{
		"aws_s3_honeybucketlogs.zip!/AWS_S3_HoneyBucketLogs.csv":                         "193fbd2fd13ae35f32ac9dfe3f79bc42166b734adf63f827addf872c8352229e",
		"ec2_proxy_s3_exfiltration.zip!/ec2_proxy_s3_exfiltration_2020-09-14011940.json": "9cfc6675f59b666cee6e6f0bcb72b1034ea4bbcdaf19c0f02b3092317128289b",
	}, members)
}
