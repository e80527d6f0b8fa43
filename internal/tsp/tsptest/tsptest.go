// Package tsptest is a time-stamping authority for tests: a CA and a TSA
// certificate made here, with openssl ts answering requests.
package tsptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TSA is a CA and a time-stamping certificate it issued, on disk for
// openssl ts, valid from an hour ago for the given time.
type TSA struct {
	Dir, CAPEM, TSAPEM, tsaKey, conf string
	Roots                            *x509.CertPool // the CA
}

// New makes a TSA whose certificates are valid from an hour ago for
// valid, with an RSA or an ECDSA key.
func New(t testing.TB, valid time.Duration, rsaKey bool) *TSA {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "forensic test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(valid), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	var pub any
	var keyDER []byte
	if rsaKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		pub = &k.PublicKey
		keyDER, err = x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		pub = &k.PublicKey
		keyDER, err = x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
	}
	// RFC 3161 asks for the timeStamping extended key usage, critical
	// (openssl ts refuses a signer without it); Go marks ExtKeyUsage not
	// critical, so it goes in as an extension of its own.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	require.NoError(t, err)
	tsaTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "forensic test TSA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(valid), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	tsaDER, err := x509.CreateCertificate(rand.Reader, tsaTmpl, ca, pub, caKey)
	require.NoError(t, err)
	a := &TSA{Dir: dir, CAPEM: filepath.Join(dir, "ca.pem"), TSAPEM: filepath.Join(dir, "tsa.pem"),
		tsaKey: filepath.Join(dir, "tsa.key"), conf: filepath.Join(dir, "ts.cnf"), Roots: x509.NewCertPool()}
	a.Roots.AddCert(ca)
	write := func(p, typ string, der []byte) {
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	}
	write(a.CAPEM, "CERTIFICATE", caDER)
	write(a.TSAPEM, "CERTIFICATE", tsaDER)
	write(a.tsaKey, "PRIVATE KEY", keyDER)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o600))
	conf := "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\nserial = " + filepath.Join(dir, "serial") +
		"\ncrypto_device = builtin\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n" +
		"accuracy = secs:1\nordering = no\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n"
	require.NoError(t, os.WriteFile(a.conf, []byte(conf), 0o600))
	return a
}

// Reply is openssl ts -reply to the request (openssl as the TSA).
func (a *TSA) Reply(t testing.TB, req []byte) []byte {
	t.Helper()
	q := filepath.Join(a.Dir, "req.tsq")
	r := filepath.Join(a.Dir, "resp.tsr")
	require.NoError(t, os.WriteFile(q, req, 0o600))
	out, err := exec.Command("openssl", "ts", "-reply", "-config", a.conf, "-queryfile", q, "-signer", a.TSAPEM,
		"-inkey", a.tsaKey, "-chain", a.CAPEM, "-out", r).CombinedOutput()
	require.NoError(t, err, string(out))
	b, err := os.ReadFile(r)
	require.NoError(t, err)
	return b
}
