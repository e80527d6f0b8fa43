// Package cloudtrail parses the CloudTrail files found in evidence: log
// files, digest files, digest-signing public keys, and the S3 key shapes
// that name them (FORMATS.md D, E, F). It reads bytes already in memory
// (decompressed by the caller) and never re-serialises JSON: every record
// and digest keeps its exact bytes, because CloudTrail's hashes and
// signatures cover those bytes.
//
// # Log files
//
// Split cuts a log file into records without building a tree. It accepts
// four shapes:
//
//	records            {"Records":[{...},{...}]}       native, verifiable (digests hash these bytes)
//	array              [{...},{...}]                   exports such as Stratus Red Team/Grimoire, pretty-printed
//	ndjson             {...}\n{...}\n                  exports such as OTRF, with Logstash fields; EventBridge events
//	cloudwatch_export  2024-03-04T10:00:00.123Z {...}\n a CloudWatch Logs export task's lines (the record alone is raw)
//
// The splitter is a validating scanner: it keeps a stack of open
// brackets, scans strings eight bytes at a time for '"', '\\' and control
// characters, checks escapes, numbers and literals against RFC 8259, and
// hands each record to the caller as a sub-slice of the input. A top-level
// object is the records wrapper when it has a "Records" key whose value is
// an array; otherwise it is the first NDJSON line. Errors carry the byte
// offset (SyntaxError).
//
// Extract then decodes one record into store.Event with
// github.com/goccy/go-json/v2 (encoding/json/v2 semantics: case-sensitive
// names, duplicate names rejected) into a struct holding only the indexed
// fields; Principal is userIdentity.arn, else principalId, else invokedBy.
//
// # Digests
//
// ParseDigest reads a digest file (FORMATS.md D.3) with the same scanner,
// so that a key given twice is an error, null and absent values stay
// distinguishable (DigestInfo), and awscli's required keys are checked.
//
// # Public keys
//
// ParsePublicKeys reads list-public-keys JSON, PEM or DER. A key's
// fingerprint is the lower-case hex MD5 of its DER bytes exactly as
// supplied (base64-decoded Value); this is how CloudTrail's Fingerprint
// values are formed for PKCS#1 and SPKI keys alike (FORMATS.md D.5,
// verified on every published key). A listed fingerprint that differs is
// reported on the key, never accepted.
//
// # Keys
//
// ParseKey reads what an S3 key says: prefix, organization, account, file
// type, delivery Region, date folder, and from the file name the delivery
// minute and unique string (logs) or trail, home Region, end second and
// backfill flag (digests). Trail names may contain '_', so a digest name is
// parsed from both ends.
package cloudtrail
