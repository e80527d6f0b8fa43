package tsp

import (
	"crypto/sha256"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/internal/tsp/tsptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWithOpenSSL: a request written here is answered by openssl ts, the
// response verifies here, and openssl ts -verify accepts the request and
// response too; with RSA and ECDSA TSAs.
func TestWithOpenSSL(t *testing.T) {
	for _, rsaKey := range []bool{false, true} {
		a := tsptest.New(t, 24*time.Hour, rsaKey)
		data := []byte("a SHA256SUMS file\n")
		digest := sha256.Sum256(data)
		req, q, err := NewRequest(digest[:])
		require.NoError(t, err)
		back, err := ParseRequest(req)
		require.NoError(t, err)
		assert.Equal(t, q.Digest, back.Digest)
		assert.Equal(t, 0, q.Nonce.Cmp(back.Nonce))
		resp := a.Reply(t, req)

		tok, err := Verify(resp, digest[:], q.Nonce, a.Roots)
		require.NoError(t, err)
		assert.True(t, tok.Chained)
		assert.Contains(t, tok.TSA, "forensic test TSA")
		assert.Equal(t, "1.2.3.4.1", tok.Policy)
		assert.WithinDuration(t, time.Now(), tok.GenTime, time.Minute)
		tok, err = Verify(resp, digest[:], q.Nonce, nil)
		require.NoError(t, err)
		assert.False(t, tok.Chained, "no roots: the chain is not checked")

		dataFile := filepath.Join(a.Dir, "SHA256SUMS")
		require.NoError(t, os.WriteFile(dataFile, data, 0o600))
		out, err := exec.Command("openssl", "ts", "-verify", "-in", filepath.Join(a.Dir, "resp.tsr"), "-queryfile",
			filepath.Join(a.Dir, "req.tsq"), "-CAfile", a.CAPEM, "-untrusted", a.TSAPEM).CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Contains(t, string(out), "Verification: OK")
		out, err = exec.Command("openssl", "ts", "-verify", "-in", filepath.Join(a.Dir, "resp.tsr"), "-data", dataFile,
			"-CAfile", a.CAPEM, "-untrusted", a.TSAPEM).CombinedOutput()
		require.NoError(t, err, string(out))
	}
}

// TestRejects: other data, another nonce, a changed byte of the TSTInfo or
// of the signature, another CA, and a response that is not one are each
// refused, saying what is wrong.
func TestRejects(t *testing.T) {
	a := tsptest.New(t, 24*time.Hour, false)
	digest := sha256.Sum256([]byte("data"))
	req, q, err := NewRequest(digest[:])
	require.NoError(t, err)
	resp := a.Reply(t, req)
	_, err = Verify(resp, digest[:], q.Nonce, a.Roots)
	require.NoError(t, err)

	other := sha256.Sum256([]byte("other data"))
	_, err = Verify(resp, other[:], q.Nonce, a.Roots)
	assert.ErrorContains(t, err, "time-stamps other bytes")
	_, err = Verify(resp, digest[:], new(big.Int).Add(q.Nonce, big.NewInt(1)), a.Roots)
	assert.ErrorContains(t, err, "answers another request")
	_, err = Verify(resp, digest[:], q.Nonce, tsptest.New(t, time.Hour, false).Roots)
	assert.ErrorContains(t, err, "does not chain")

	// The generalized time inside the TSTInfo: its digest no longer holds.
	i := strings.Index(string(resp), time.Now().UTC().Format("20060102"))
	require.Positive(t, i)
	bad := append([]byte(nil), resp...)
	bad[i+7] ^= 1
	_, err = Verify(bad, digest[:], q.Nonce, a.Roots)
	assert.ErrorContains(t, err, "the TSTInfo was changed")
	// The signature's last byte.
	bad = append([]byte(nil), resp...)
	bad[len(bad)-1] ^= 1
	_, err = Verify(bad, digest[:], q.Nonce, a.Roots)
	assert.Error(t, err)

	for _, junk := range [][]byte{nil, []byte("not DER"), req, resp[:len(resp)/2], append(append([]byte(nil), resp...), 0)} {
		_, err := Verify(junk, digest[:], q.Nonce, a.Roots)
		assert.Error(t, err)
	}
	_, _, err = NewRequest([]byte("short"))
	assert.Error(t, err)
}

// TestValidAtGenTime: a timestamp made while the TSA's certificate was
// valid still verifies after it expired (the chain is checked at genTime).
func TestValidAtGenTime(t *testing.T) {
	a := tsptest.New(t, 3*time.Second, false)
	digest := sha256.Sum256([]byte("data"))
	req, q, err := NewRequest(digest[:])
	require.NoError(t, err)
	resp := a.Reply(t, req)
	time.Sleep(4 * time.Second)
	tok, err := Verify(resp, digest[:], q.Nonce, a.Roots)
	require.NoError(t, err)
	assert.True(t, tok.Chained)
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{0x30, 0x80})
	digest := sha256.Sum256([]byte("data"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Verify(b, digest[:], nil, nil); err == nil {
			t.Fatal("a random response verified")
		}
		ParseRequest(b)
	})
}
