package verify

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// SignatureAlgorithm is the only digest signature algorithm CloudTrail
// uses; any other value makes a digest's signature invalid.
const SignatureAlgorithm = "SHA256withRSA"

// StringToSign returns the exact bytes CloudTrail signs for a digest
// (FORMATS.md D.4): digestEndTime, "\n", digestS3Bucket "/" digestS3Object
// (both taken from the JSON, wherever the file was found), "\n", the hex
// SHA-256 of the exact decompressed digest bytes, "\n", and
// previousDigestSignature or the four characters "null" when it is JSON
// null. "\n" only, no trailing newline.
func StringToSign(d *store.Digest) []byte {
	sum := sha256.Sum256(d.Raw)
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return []byte(d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" +
		hex.EncodeToString(sum[:]) + "\n" + prev)
}

// CheckSignature verifies sigHex (the hex RSA signature, as in the
// x-amz-meta-signature metadata or a successor's previousDigestSignature)
// over StringToSign(d) with RSA PKCS#1 v1.5 and SHA-256.
func CheckSignature(pub *rsa.PublicKey, d *store.Digest, sigHex string) error {
	sig, err := decodeSig(sigHex)
	if err != nil {
		return err
	}
	if err := verifyRaw(pub, StringToSign(d), sig); err != nil {
		return fmt.Errorf("RSA PKCS#1 v1.5 SHA-256 signature does not verify")
	}
	return nil
}

func decodeSig(s string) ([]byte, error) {
	sig, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("signature is not hex: %v", err)
	}
	if len(sig) == 0 {
		return nil, fmt.Errorf("signature is empty")
	}
	return sig, nil
}

// sameSig reports whether two hex signatures are the same bytes (hex case
// ignored).
func sameSig(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// verifyRaw checks sig over msg (RSA PKCS#1 v1.5, SHA-256).
func verifyRaw(pub *rsa.PublicKey, msg, sig []byte) error {
	h := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}
