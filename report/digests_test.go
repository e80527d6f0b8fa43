package report

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDigestOpensslCommands runs, with the real openssl, the commands
// report.json gives for every verified digest (key conversion from
// trust_anchors, then the digest's own commands): each prints
// "Verified OK"; with one byte of the string to sign changed it fails.
func TestDigestOpensslCommands(t *testing.T) {
	needTool(t, "openssl")
	needTool(t, "sh")
	opt := smallOptions()
	c, _, _ := fixtureCase(t, opt, fixtures.DigestSignatureInvalid)
	m := readReport(t, buildReport(t, c))
	work := t.TempDir()
	sh := func(cmd string) (string, error) {
		x := exec.Command("sh", "-c", cmd)
		x.Dir = work
		out, err := x.CombinedOutput()
		return string(out), err
	}
	for _, k := range m["trust_anchors"].(map[string]any)["keys"].([]any) {
		for _, cmd := range k.(map[string]any)["openssl_commands"].([]any) {
			out, err := sh(cmd.(string))
			require.NoError(t, err, "%s: %s", cmd, out)
		}
	}
	digests := m["verified_digests"].([]any)
	require.NotEmpty(t, digests)
	for _, d := range digests {
		d := d.(map[string]any)
		require.Equal(t, true, d["reproduced"], "%v", d["s3_key"])
		cmds := d["openssl_commands"].([]any)
		require.Len(t, cmds, 3)
		for i, cmd := range cmds {
			out, err := sh(cmd.(string))
			require.NoError(t, err, "%s: %s", cmd, out)
			if i == 2 {
				assert.Equal(t, "Verified OK\n", out)
			}
		}
		got, err := os.ReadFile(work + "/string.txt")
		require.NoError(t, err)
		assert.Equal(t, d["string_to_sign"], string(got))
		got[0] ^= 1
		require.NoError(t, os.WriteFile(work+"/string.txt", got, 0o644))
		out, err := sh(cmds[2].(string))
		assert.Error(t, err, "openssl accepted a changed string to sign: %s", out)
		assert.True(t, strings.Contains(out, "Verification failure"), "%s", out)
	}
	// The digest whose saved signature was tampered with is
	// signature_invalid: it vouches for nothing and is not listed, even
	// though its successor's copy of the signature verifies.
	sources := map[string]int{}
	for _, d := range digests {
		sources[d.(map[string]any)["signature_source"].(string)]++
		assert.Equal(t, "valid", d.(map[string]any)["status"])
	}
	assert.Greater(t, sources["metadata"], 0)
	assert.Zero(t, sources["successor"])
}

// TestDigestVerifiedThroughSuccessor: a middle digest whose metadata was
// not exported is verified with its successor's previousDigestSignature,
// and the report lists it with that source, re-checkable with openssl.
func TestDigestVerifiedThroughSuccessor(t *testing.T) {
	opt := smallOptions()
	c := fixtureCaseWith(t, opt, func(m *fixtures.Manifest) {
		for _, d := range m.Digests {
			if d.Index > 0 && !d.Final && !d.Backfill {
				require.NoError(t, os.Remove(d.MetadataPath))
				return
			}
		}
		t.Fatal("no middle digest")
	})
	m := readReport(t, buildReport(t, c))
	sources := map[string]int{}
	for _, d := range m["verified_digests"].([]any) {
		d := d.(map[string]any)
		assert.Equal(t, true, d["reproduced"])
		sources[d["signature_source"].(string)]++
	}
	assert.Equal(t, 1, sources["successor"])
	assert.Greater(t, sources["metadata"], 0)
}
