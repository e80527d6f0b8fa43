package report

// RFC 3161 time stamps of a report (internal/tsp): the report's signing
// time is the local clock of the machine that signed it; a time-stamping
// authority's token over SHA256SUMS proves that the report existed at the
// token's time. The machine that signs is offline, so the request is
// written into the folder (TimestampRequest), carried to a machine that
// can reach a TSA, and the response brought back (AddTimestamp). Both
// files sit outside SHA256SUMS, like the signatures: they cover it.

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/internal/tsp"
)

// The time-stamp files of a report folder.
const (
	FileTSQ = "SHA256SUMS.tsq" // the TimeStampReq over SHA256SUMS
	FileTSR = "SHA256SUMS.tsr" // the TSA's TimeStampResp
)

// maxTSQ bounds a request read back.
const maxTSQ = 64 << 10

// readSums reads the folder's SHA256SUMS.
func readSums(dir string) ([]byte, error) {
	b, err := readFileLimited(filepath.Join(dir, FileSums), maxSums)
	if err != nil {
		return nil, fmt.Errorf("report folder %s: %w", dir, err)
	}
	return b, nil
}

// TimestampRequest writes FileTSQ into the report folder dir: a request
// over the SHA-256 of its SHA256SUMS, with a nonce. It refuses a folder
// that already holds a request or a response.
func TimestampRequest(dir string) (string, error) {
	for _, n := range []string{FileTSQ, FileTSR} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return "", fmt.Errorf("report folder %s already holds %s", dir, n)
		}
	}
	sums, err := readSums(dir)
	if err != nil {
		return "", err
	}
	d := sha256.Sum256(sums)
	der, _, err := tsp.NewRequest(d[:])
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, FileTSQ)
	if _, err := writeFile(p, func(w io.Writer) error { _, err := w.Write(der); return err }); err != nil {
		return "", err
	}
	return p, nil
}

// LoadTSACerts reads the PEM certificates a TSA's chain must end in.
func LoadTSACerts(path string) (*x509.CertPool, error) {
	b, err := regfile.ReadFile(path, 4<<20)
	if err != nil {
		return nil, fmt.Errorf("--tsa-cert %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("--tsa-cert %s: %w", path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("--tsa-cert %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// checkTimestamp verifies the response resp against the request in dir
// (FileTSQ) and sums, the folder's SHA256SUMS as the caller read it (and
// checked its signatures).
func checkTimestamp(dir string, sums, resp []byte, roots *x509.CertPool) (*tsp.Token, error) {
	d := sha256.Sum256(sums)
	q, err := regfile.ReadFileNoFollow(filepath.Join(dir, FileTSQ), maxTSQ)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the request the response answers)", FileTSQ, err)
	}
	req, err := tsp.ParseRequest(q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FileTSQ, err)
	}
	if string(req.Digest) != string(d[:]) {
		return nil, fmt.Errorf("%s is a request over %x, not over this SHA256SUMS (%x)", FileTSQ, req.Digest, d)
	}
	if req.Nonce == nil {
		return nil, fmt.Errorf("%s has no nonce", FileTSQ)
	}
	return tsp.Verify(resp, d[:], req.Nonce, roots)
}

// AddTimestamp checks the TSA's response (the file at respPath) against
// the folder's request and SHA256SUMS, and, with roots, the TSA's chain;
// then copies it into the folder as FileTSR.
func AddTimestamp(dir, respPath string, roots *x509.CertPool) (*tsp.Token, error) {
	if _, err := os.Lstat(filepath.Join(dir, FileTSR)); err == nil {
		return nil, fmt.Errorf("report folder %s already holds %s", dir, FileTSR)
	}
	resp, err := regfile.ReadFile(respPath, tsp.MaxResponse)
	if err != nil {
		return nil, fmt.Errorf("--response %s: %w", respPath, err)
	}
	sums, err := readSums(dir)
	if err != nil {
		return nil, err
	}
	tok, err := checkTimestamp(dir, sums, resp, roots)
	if err != nil {
		return nil, fmt.Errorf("--response %s: %w", respPath, err)
	}
	_, err = writeFile(filepath.Join(dir, FileTSR), func(w io.Writer) error { _, err := w.Write(resp); return err })
	return tok, err
}
