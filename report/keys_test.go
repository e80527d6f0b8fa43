package report

import (
	"crypto/ed25519"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateKeyFiles(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "analyst")
	require.NoError(t, GenerateKey(prefix, "jane@lab.example"))
	for _, tc := range []struct {
		suffix string
		mode   os.FileMode
		start  string
	}{
		{SuffixPrivate, 0o600, "-----BEGIN PRIVATE KEY-----\n"},
		{SuffixPublicPEM, 0o644, "-----BEGIN PUBLIC KEY-----\n"},
		{SuffixPublicSSH, 0o644, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"},
		{SuffixAllowedSigners, 0o644, `jane@lab.example namespaces="forensic-report" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA`},
	} {
		fi, err := os.Stat(prefix + tc.suffix)
		require.NoError(t, err)
		// The umask can only remove bits.
		assert.Equal(t, os.FileMode(0), fi.Mode().Perm()&^tc.mode, "%s mode %v, want at most %v", tc.suffix, fi.Mode().Perm(), tc.mode)
		b, err := os.ReadFile(prefix + tc.suffix)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), tc.start), "%s starts %q, want %q", tc.suffix, b, tc.start)
	}
	assert.Equal(t, os.FileMode(0o600), mustStat(t, prefix+SuffixPrivate).Mode().Perm())
	priv, err := LoadKey(prefix + SuffixPrivate)
	require.NoError(t, err)
	for _, s := range []string{SuffixPublicPEM, SuffixPublicSSH, SuffixAllowedSigners} {
		pub, err := LoadPublicKey(prefix + s)
		require.NoError(t, err, s)
		assert.True(t, pub.Equal(priv.Public()), "%s holds another key", s)
	}
	err = GenerateKey(prefix, "jane@lab.example")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already exists")
}

func mustStat(t *testing.T, p string) os.FileInfo {
	fi, err := os.Stat(p)
	require.NoError(t, err)
	return fi
}

func TestLoadKeyRefusesOpenPermissions(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "k")
	require.NoError(t, WriteKey(prefix, "a@b", testKey()))
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		require.NoError(t, os.Chmod(prefix+SuffixPrivate, mode))
		_, err := LoadKey(prefix + SuffixPrivate)
		assert.True(t, errors.Is(err, ErrKeyPermissions), "mode %04o: err %v, want ErrKeyPermissions", mode, err)
	}
	require.NoError(t, os.Chmod(prefix+SuffixPrivate, 0o400))
	k, err := LoadKey(prefix + SuffixPrivate)
	require.NoError(t, err)
	assert.True(t, k.Equal(testKey()))
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"empty":  "",
		"public": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=\n-----END PUBLIC KEY-----\n",
		"junk":   "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
		_, err := LoadKey(p)
		assert.Error(t, err, name)
		if err != nil {
			assert.Contains(t, err.Error(), p, "%s: error names the file", name)
		}
	}
}

func TestCheckIdentity(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"jane@lab.example", true},
		{"jane.doe+forensic@lab-1.example", true},
		{"", false},
		{"jane doe", false},
		{"a,b", false},
		{"*@lab", false},
		{`"x"`, false},
		{"a\nb", false},
	} {
		err := CheckIdentity(tc.id)
		assert.Equal(t, tc.ok, err == nil, "CheckIdentity(%q) = %v", tc.id, err)
	}
}

// TestKeysWithRealTools: openssl reads the private and public key files
// and ssh-keygen computes the same fingerprint.
func TestKeysWithRealTools(t *testing.T) {
	needTool(t, "openssl")
	needTool(t, "ssh-keygen")
	prefix := filepath.Join(t.TempDir(), "analyst")
	require.NoError(t, WriteKey(prefix, "jane@lab.example", testKey()))
	out, err := exec.Command("openssl", "pkey", "-in", prefix+SuffixPrivate, "-pubout").CombinedOutput()
	require.NoError(t, err, "%s", out)
	pem, err := os.ReadFile(prefix + SuffixPublicPEM)
	require.NoError(t, err)
	assert.Equal(t, string(pem), string(out), "openssl derives the public key in .pub.pem from .key")
	out, err = exec.Command("ssh-keygen", "-l", "-f", prefix+SuffixPublicSSH).CombinedOutput()
	require.NoError(t, err, "%s", out)
	want := "256 " + Fingerprint(testKey().Public().(ed25519.PublicKey)) + " jane@lab.example (ED25519)\n"
	assert.Equal(t, want, string(out))
}
