package report

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSSHSIGRoundTrip(t *testing.T) {
	k := testKey()
	pub := k.Public().(ed25519.PublicKey)
	msg := []byte("abc  report.json\n")
	sig, err := SignSSH(k, Namespace, bytes.NewReader(msg))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(sig), "\n"), "\n")
	assert.Equal(t, armorBegin, lines[0])
	assert.Equal(t, armorEnd, lines[len(lines)-1])
	for _, l := range lines[1 : len(lines)-1] {
		assert.LessOrEqual(t, len(l), armorWidth)
	}
	require.NoError(t, VerifySSH(pub, Namespace, bytes.NewReader(msg), sig))

	other := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	for name, err := range map[string]error{
		"other message":   VerifySSH(pub, Namespace, bytes.NewReader([]byte("abd  report.json\n")), sig),
		"other namespace": VerifySSH(pub, "file", bytes.NewReader(msg), sig),
		"other key":       VerifySSH(other, Namespace, bytes.NewReader(msg), sig),
		"not armored":     VerifySSH(pub, Namespace, bytes.NewReader(msg), sig[1:]),
	} {
		assert.Error(t, err, name)
	}
	// Ed25519 is deterministic: the same key and message give the same
	// signature.
	sig2, err := SignSSH(k, Namespace, bytes.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, string(sig), string(sig2))
}

// TestSSHSIGWithSSHKeygen: ssh-keygen accepts our signatures and we
// accept its.
func TestSSHSIGWithSSHKeygen(t *testing.T) {
	needTool(t, "ssh-keygen")
	dir := t.TempDir()
	msgPath := filepath.Join(dir, "msg")
	msg := []byte("0123456789abcdef  report.json\n")
	require.NoError(t, os.WriteFile(msgPath, msg, 0o644))

	// Ours, verified by ssh-keygen.
	k := testKey()
	pub := k.Public().(ed25519.PublicKey)
	sig, err := SignSSH(k, Namespace, bytes.NewReader(msg))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ours.sig"), sig, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "allowed"), []byte(AllowedSigners("jane@lab.example", pub)), 0o644))
	verify := func(sigFile string, message []byte) (string, error) {
		cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", filepath.Join(dir, "allowed"), "-I", "jane@lab.example",
			"-n", Namespace, "-s", sigFile)
		cmd.Stdin = bytes.NewReader(message)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := verify(filepath.Join(dir, "ours.sig"), msg)
	require.NoError(t, err, out)
	assert.Contains(t, out, `Good "forensic-report" signature for jane@lab.example`)
	_, err = verify(filepath.Join(dir, "ours.sig"), append([]byte{'1'}, msg[1:]...))
	assert.Error(t, err, "ssh-keygen accepted a changed message")

	// Theirs, verified by us.
	keyPath := filepath.Join(dir, "id")
	out2, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", keyPath).CombinedOutput()
	require.NoError(t, err, "%s", out2)
	out2, err = exec.Command("ssh-keygen", "-Y", "sign", "-f", keyPath, "-n", Namespace, msgPath).CombinedOutput()
	require.NoError(t, err, "%s", out2)
	theirs, err := os.ReadFile(msgPath + ".sig")
	require.NoError(t, err)
	theirPub, err := LoadPublicKey(keyPath + ".pub")
	require.NoError(t, err)
	require.NoError(t, VerifySSH(theirPub, Namespace, bytes.NewReader(msg), theirs))
	assert.Error(t, VerifySSH(theirPub, Namespace, bytes.NewReader(msg[1:]), theirs))
}

func FuzzParseSSH(f *testing.F) {
	sig, _ := SignSSH(testKey(), Namespace, bytes.NewReader([]byte("x")))
	f.Add(sig)
	f.Add([]byte(armorBegin + "\nU1NIU0lH\n" + armorEnd))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkArmor(b) // must not panic
		s, err := ParseSSH(b)
		if err != nil {
			return
		}
		if len(s.Signature) != ed25519.SignatureSize || len(s.PublicKey) != ed25519.PublicKeySize {
			t.Fatalf("parsed a signature of %d bytes with a key of %d", len(s.Signature), len(s.PublicKey))
		}
	})
}
