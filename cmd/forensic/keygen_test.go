package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCmd(fn func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error, args ...string) (string, string, int) {
	var o, e bytes.Buffer
	err := fn(context.Background(), args, &o, &e)
	code := exitCode(err, &e)
	return o.String(), e.String(), code
}

func keygenCmd(ctx context.Context, args []string, o, e *bytes.Buffer) error {
	return cmdKeygen(ctx, args, o, e)
}
func reportCmd(ctx context.Context, args []string, o, e *bytes.Buffer) error {
	return cmdReport(ctx, args, o, e)
}

func TestKeygenCommand(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "analyst")
	out, errOut, code := runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	require.Equal(t, 0, code, errOut)
	pub, err := report.LoadPublicKey(prefix + report.SuffixPublicPEM)
	require.NoError(t, err)
	assert.Equal(t, "identity:    jane@lab.example\nfingerprint: "+report.Fingerprint(pub)+"\nwrote "+prefix+".key\nwrote "+prefix+
		".pub.pem\nwrote "+prefix+".pub\nwrote "+prefix+".allowed_signers\n", out)
	fi, err := os.Stat(prefix + ".key")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	_, errOut, code = runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "already exists")
	_, errOut, code = runCmd(keygenCmd)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--out is required")
	_, errOut, code = runCmd(keygenCmd, "--out", prefix+"2", "--identity", "jane doe")
	assert.Equal(t, 2, code)
	assert.True(t, strings.Contains(errOut, "white space"), errOut)
}
