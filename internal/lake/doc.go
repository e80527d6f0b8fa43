// Package lake verifies CloudTrail Lake query results offline: the sign
// file CloudTrail writes next to the result files of a query it delivered
// to S3, the RSA signature over it, and the SHA-256 of every result file
// (FORMATS.md D.6). It mirrors `aws cloudtrail verify-query-results` (aws-cli
// v2) without calling AWS: the public keys are the analyst's saved
// `aws cloudtrail list-public-keys` output, given as Keys, and every problem
// is reported, not just the first.
//
// # Layout
//
// CloudTrail delivers a query's results as
//
//	[<prefix>/]AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<query-id>/result_sign.json
//	[<prefix>/]AWSLogs/<account>/CloudTrail-Lake/Query/<yyyy>/<mm>/<dd>/<query-id>/result_<n>.csv.gz
//
// The folder holding a sign file is its query's folder. Every query names
// its files result_1.csv.gz, result_2.csv.gz, …, so a copy that flattened
// several queries into one folder has renamed some of them; such a file is
// matched to a sign file by its SHA-256 instead of its name.
//
// # Sign file
//
//	{"version":"1.0","region":"us-east-1",
//	 "files":[{"fileHashValue":"<64 hex>","fileName":"result_1.csv.gz"}, …],
//	 "hashAlgorithm":"SHA-256","signatureAlgorithm":"SHA256withRSA",
//	 "queryCompleteTime":"2022-05-10T22:06:30Z",
//	 "hashSignature":"<hex>","publicKeyFingerprint":"<32 hex>"}
//
// ParseSignFile requires every member above except version (aws-cli's own
// signed test vector has none), each exactly once and of the type shown;
// other members are ignored. files must be non-empty, each fileName unique,
// without '/', '\', ".." or control characters; each fileHashValue is 64
// hex digits; hashSignature is hex; publicKeyFingerprint is 32 hex digits;
// queryCompleteTime is RFC 3339. A sign file larger than MaxSignFileSize is
// refused unread.
//
// # Verifying by hand
//
//  1. fileHashValue is the hex SHA-256 of the result file exactly as
//     stored, i.e. of the compressed .csv.gz bytes (unlike trail digests,
//     which hash the uncompressed log).
//  2. The string to sign is the fileHashValues, as written and in files
//     order, joined by single spaces, without a trailing space
//     (SignFile.StringToSign).
//  3. hashSignature, hex-decoded, is an RSA PKCS#1 v1.5 signature over
//     SHA-256 of that string.
//  4. The key is the supplied key whose fingerprint (hex MD5 of its DER as
//     list-public-keys delivers it) is publicKeyFingerprint and whose
//     validity overlaps [queryCompleteTime, queryCompleteTime + 20 days]:
//     aws-cli calls ListPublicKeys(StartTime=queryCompleteTime,
//     EndTime=queryCompleteTime+20d) and picks the listed key with that
//     Fingerprint (KeySearchWindow).
//
// With openssl: `printf %s "$STRING" | openssl dgst -sha256 -verify key.pem
// -signature sig.bin`, where sig.bin is `xxd -r -p` of hashSignature.
//
// # Verdicts
//
// Classify gives every sign file one SignVerdict (valid, signature_invalid,
// key_unknown, key_not_valid_at_time or format_invalid) and every result
// file one ResultVerdict (valid, hash_mismatch, unverified or
// unreferenced), plus one missing ResultVerdict per listed file that is
// absent. Each verdict carries what was expected and what was found.
package lake
