package verify

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// Trust anchors under 2048 bits are refused, naming the file, the key and
// its size; with AllowWeakKeys they verify (never blaming the digests)
// and the report says they were weak.
func TestWeakTrustAnchors(t *testing.T) {
	for _, bits := range []int{512, 768, 1024, 2047} {
		t.Run(strconv.Itoa(bits), func(t *testing.T) {
			priv, err := rsa.GenerateKey(rand.Reader, bits)
			require.NoError(t, err)
			var fp string
			c, m := setWith(t, small(), func(m *fixtures.Manifest) {
				fp, err = fixtures.SignWithKey(m, priv)
				require.NoError(t, err)
			})

			_, err = LoadTrustAnchors(m.PublicKeyFiles)
			var ke *KeyFileError
			var we *WeakKeyError
			require.True(t, errors.As(err, &ke), "LoadTrustAnchors: %v, want a *KeyFileError", err)
			require.True(t, errors.As(err, &we), "LoadTrustAnchors: %v, want a *WeakKeyError", err)
			assert.Equal(t, m.PublicKeyFiles[0], ke.Path)
			assert.Equal(t, fp, we.Fingerprint)
			assert.Equal(t, bits, we.Bits)
			assert.Equal(t, MinKeyBits, we.Min)
			for _, s := range []string{m.PublicKeyFiles[0], fp, strconv.Itoa(bits) + "-bit", "2048"} {
				assert.Contains(t, err.Error(), s)
			}

			a, err := LoadTrustAnchorsWith(m.PublicKeyFiles, AnchorOptions{AllowWeakKeys: true})
			require.NoError(t, err)
			rep := runVerify(t, c, Options{Anchors: a})
			assert.Empty(t, notValid(rep), "a digest signed by an allowed weak key is valid, not signature_invalid")
			assert.False(t, rep.Failed())
			weak := 0
			for _, n := range rep.Summary.Notes {
				if strings.Contains(n, "weak trust anchor") && strings.Contains(n, fp) && strings.Contains(n, strconv.Itoa(bits)+"-bit") {
					weak++
				}
			}
			assert.Equal(t, 1, weak, "notes: %q", rep.Summary.Notes)
			for _, it := range rep.Items {
				if it.Kind == KindDigest {
					assert.Equal(t, bits, digestDetail(it).KeyBits)
					assert.Contains(t, digestDetail(it).KeyWeak, "--allow-weak-keys")
				}
			}
		})
	}
}

// The untouched set's 2048-bit keys load by default and give no weak-key
// note.
func TestStrongTrustAnchorsHaveNoWeakNote(t *testing.T) {
	c, m := set(t, small())
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.False(t, rep.Failed())
	for _, n := range rep.Summary.Notes {
		assert.NotContains(t, n, "weak")
	}
	for _, it := range rep.Items {
		if it.Kind == KindDigest {
			assert.Equal(t, 2048, digestDetail(it).KeyBits)
			assert.NotContains(t, det(it.Detail), "key_weak")
		}
	}
}

func writePEMKey(t *testing.T, path string, pub *rsa.PublicKey) {
	t.Helper()
	write(t, path, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}))
}

// Keys no digest signature can be checked with are refused at load time,
// even with AllowWeakKeys, so no digest is ever blamed for them: under
// 512 bits, and (GODEBUG overriding go.mod) keys Go's crypto/rsa refuses.
func TestUnusableTrustAnchorsAreRefused(t *testing.T) {
	dir := t.TempDir()
	tiny, err := rsa.GenerateKey(rand.Reader, 256)
	require.NoError(t, err)
	p := filepath.Join(dir, "tiny.pem")
	writePEMKey(t, p, &tiny.PublicKey)
	_, err = LoadTrustAnchorsWith([]string{p}, AnchorOptions{AllowWeakKeys: true})
	var we *WeakKeyError
	require.True(t, errors.As(err, &we), "%v", err)
	assert.Equal(t, 256, we.Bits)
	assert.Contains(t, err.Error(), "under 512 bits")
	assert.Contains(t, err.Error(), p)

	k512, err := rsa.GenerateKey(rand.Reader, 512)
	require.NoError(t, err)
	q := filepath.Join(dir, "k512.pem")
	writePEMKey(t, q, &k512.PublicKey)
	_, err = LoadTrustAnchorsWith([]string{q}, AnchorOptions{AllowWeakKeys: true})
	require.NoError(t, err, "go.mod's godebug rsa1024min=0 lets crypto/rsa use 512-bit keys")
	t.Setenv("GODEBUG", "rsa1024min=1")
	_, err = LoadTrustAnchorsWith([]string{q}, AnchorOptions{AllowWeakKeys: true})
	require.True(t, errors.As(err, &we), "with GODEBUG=rsa1024min=1: %v", err)
	assert.Contains(t, err.Error(), "crypto/rsa cannot verify with it")
}

// A --public-keys path or folder entry that is not a regular file is
// refused at once, naming it, and never opened: a named pipe would block
// for ever, /dev/zero never ends.
func TestTrustAnchorsMustBeRegularFiles(t *testing.T) {
	_, m := set(t, small())
	good := m.PublicKeyFiles[0]
	dir := t.TempDir()
	fifo := filepath.Join(dir, "keys.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	zero := filepath.Join(dir, "zero.json")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.Symlink(good, link))
	withFifo := filepath.Join(dir, "with-fifo")
	write(t, filepath.Join(withFifo, "us-east-1.json"), mustRead(t, good))
	require.NoError(t, syscall.Mkfifo(filepath.Join(withFifo, "zz.json"), 0o644))
	withLink := filepath.Join(dir, "with-link")
	write(t, filepath.Join(withLink, "us-east-1.json"), mustRead(t, good))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(withLink, "zero.json")))

	for _, tt := range []struct {
		name, path, file, want string
	}{
		{"named pipe", fifo, fifo, "named pipe"},
		{"link to /dev/zero", zero, zero, "character device"},
		{"/dev/zero", "/dev/zero", "/dev/zero", "character device"},
		{"folder holding a named pipe", withFifo, filepath.Join(withFifo, "zz.json"), "named pipe"},
		{"folder holding a link to /dev/zero", withLink, filepath.Join(withLink, "zero.json"), "symbolic link to /dev/zero"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := LoadTrustAnchors([]string{tt.path}); done <- err }()
			select {
			case err := <-done:
				var ke *KeyFileError
				require.True(t, errors.As(err, &ke), "%v", err)
				assert.Equal(t, tt.file, ke.Path)
				assert.Contains(t, err.Error(), tt.want)
				assert.Contains(t, err.Error(), "not a regular file")
			case <-time.After(20 * time.Second):
				t.Fatal("LoadTrustAnchors blocked on a file that is not a regular file")
			}
		})
	}

	// A named key file that is a link to a regular file is followed.
	a, err := LoadTrustAnchors([]string{link})
	require.NoError(t, err)
	assert.Len(t, a.Keys, 1)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func anchorFindings(rep *Report) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Type == FindingTrustAnchorInEvidence {
			out = append(out, f)
		}
	}
	return out
}

// A trust-anchor file that is also evidence is a warning, in the findings
// and the notes: inside an ingested folder, or byte-identical to an
// archive member; keys kept apart from the evidence give none.
func TestTrustAnchorInEvidence(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), small())
	require.NoError(t, err)
	inside := m.PublicKeyFiles[0]

	// 1. Keys inside the ingested folder.
	c := ingestCase(t, filepath.Join(dir, "folder.db"), m.Root)
	a, err := LoadTrustAnchors([]string{filepath.Join(m.Root, "keys")})
	require.NoError(t, err)
	rep := runVerify(t, c, Options{Anchors: a})
	fs := anchorFindings(rep)
	require.Len(t, fs, 1, "findings: %v", rep.Findings)
	f := fs[0]
	assert.Equal(t, SeverityWarning, f.Severity)
	assert.False(t, rep.Failed(), "a warning does not fail the verification")
	assert.Equal(t, inside, det(f.Detail)["anchor_file"])
	assert.Equal(t, m.Root, det(f.Detail)["inside_source"])
	assert.Equal(t, 1, det(f.Detail)["same_sha256_count"])
	assert.Contains(t, f.Summary, inside)
	assert.Contains(t, f.Summary, "part of the evidence")
	assert.NotEmpty(t, det(f.Detail)["expected"])
	assert.NotEmpty(t, det(f.Detail)["found"])
	assert.Equal(t, 1, rep.Summary.Findings[FindingTrustAnchorInEvidence])
	noted := false
	for _, n := range rep.Summary.Notes {
		noted = noted || (strings.HasPrefix(n, "WARNING: trust anchor "+inside) && strings.Contains(n, FindingTrustAnchorInEvidence))
	}
	assert.True(t, noted, "notes: %q", rep.Summary.Notes)

	// 2. The folder archived and ingested, the keys copied out of it: the
	// copy is byte-identical to an archive member.
	arc := filepath.Join(dir, "evidence.tar.gz")
	tarGz(t, m.Root, arc)
	out := filepath.Join(dir, "copied", "us-east-1.json")
	write(t, out, mustRead(t, inside))
	c = ingestCase(t, filepath.Join(dir, "archive.db"), arc)
	a, err = LoadTrustAnchors([]string{out})
	require.NoError(t, err)
	rep = runVerify(t, c, Options{Anchors: a})
	fs = anchorFindings(rep)
	require.Len(t, fs, 1, "findings: %v", rep.Findings)
	assert.Nil(t, det(fs[0].Detail)["inside_source"])
	items := objs(det(fs[0].Detail)["same_sha256_evidence"])
	require.Len(t, items, 1)
	assert.Equal(t, arc+"!/keys/us-east-1/list-public-keys.json", items[0]["path"])
	assert.Equal(t, "public_keys", items[0]["kind"])

	// 3. Keys kept apart from the evidence: no warning.
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "analyst-keys")))
	c = ingestCase(t, filepath.Join(dir, "clean.db"), m.Root)
	rep = runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Empty(t, anchorFindings(rep))
	assert.Empty(t, rep.Findings)
	assert.False(t, rep.Failed())
}
