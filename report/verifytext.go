package report

import (
	"strings"
	"time"
)

// verifyText is VERIFY.txt: how a third party checks the folder with
// sha256sum, openssl and ssh-keygen only.
func verifyText(identity, fingerprint string, signedAt time.Time, timeSource string) string {
	r := strings.NewReplacer("IDENTITY", identity, "FINGERPRINT", fingerprint,
		"SIGNEDAT", signedAt.Format(time.RFC3339Nano), "TIMESOURCE", timeSource, "NAMESPACE", Namespace)
	return r.Replace(`HOW TO VERIFY THIS REPORT WITHOUT forensic
==========================================

Signed by:  IDENTITY
Key:        Ed25519, fingerprint FINGERPRINT
Signed at:  SIGNEDAT (TIMESOURCE)

Run these commands in this folder. Each must succeed; if one fails, the
report has been changed or was not signed by this key.

1. Every file is as signed (GNU coreutils; on macOS: shasum -a 256 -c SHA256SUMS):

     sha256sum -c SHA256SUMS

   SHA256SUMS lists every file of this folder except itself,
   SHA256SUMS.sig and SHA256SUMS.sshsig (and, once the report is time-
   stamped, SHA256SUMS.tsq and SHA256SUMS.tsr). A file it does not list is
   not part of the report.

2. SHA256SUMS was signed with the key in signer.pub.pem (OpenSSL 3.0 or
   later; prints "Signature Verified Successfully"):

     openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig

3. The same signature check with OpenSSH 8.1 or later (prints
   Good "NAMESPACE" signature for IDENTITY ...):

     ssh-keygen -Y verify -f signer.allowed_signers -I IDENTITY -n NAMESPACE -s SHA256SUMS.sshsig < SHA256SUMS

4. The key is the signer's. signer.pub.pem and signer.allowed_signers
   travel with the report, so steps 2 and 3 only prove that whoever made
   the folder held that key. Compare the fingerprint with one obtained
   from the signer by another channel:

     ssh-keygen -l -f signer.pub

   or, better, use the signer's own key files in steps 2 and 3 in place
   of signer.pub.pem and signer.allowed_signers.

5. CloudTrail digest signatures. report.json lists, under
   "verified_digests", every digest whose signature verified, with the
   string to sign, the signature and the key fingerprint, and under
   "trust_anchors" the keys; "method" gives the openssl commands:

     echo KEY_DER_BASE64 | openssl base64 -d -A > key.der
     openssl rsa -pubin -inform DER -RSAPublicKey_in -in key.der -pubout -out key.pem
     echo STRING_TO_SIGN_BASE64 | openssl base64 -d -A > string.txt
     echo SIGNATURE_BASE64 | openssl base64 -d -A > sig.bin
     openssl dgst -sha256 -verify key.pem -signature sig.bin string.txt

6. The signing time above is the signer's clock. When the folder holds
   SHA256SUMS.tsr, an RFC 3161 time stamp from a time-stamping authority
   proves that SHA256SUMS existed at the time it names (OpenSSL; prints
   "Verification: OK"; TSA-CA.pem is the TSA's CA certificate, obtained
   from the TSA):

     openssl ts -verify -in SHA256SUMS.tsr -data SHA256SUMS -CAfile TSA-CA.pem
     openssl ts -verify -in SHA256SUMS.tsr -queryfile SHA256SUMS.tsq -CAfile TSA-CA.pem
     openssl ts -reply -in SHA256SUMS.tsr -text

   The first checks the time stamp against SHA256SUMS itself; the second
   also checks that it answers the request made for this report (its
   nonce); the third prints the time and the TSA's name.

report.json is canonical JSON (keys sorted, no insignificant white space);
report.html is the same content for reading, with long lists shortened.
`)
}
