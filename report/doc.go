// Package report writes and checks signed chain-of-custody reports of a
// case: a folder a legal team can read and an auditor can re-verify with
// sha256sum, openssl and ssh-keygen alone.
//
// # The report folder
//
// Build writes, into a new folder (made as a temporary sibling, synced,
// then renamed into place):
//
//	report.json             the complete record, canonical JSON (below)
//	report.html             the same for people: one self-contained page,
//	                        no scripts, no network; long lists shortened
//	                        by group, most serious first (htmlpick.go);
//	                        values isolated, unsafe characters shown as
//	                        [U+XXXX] tokens (htmltext.go)
//	signer.pub.pem          the signer's Ed25519 public key, PKIX PEM
//	signer.pub              the same as an OpenSSH public key line
//	signer.allowed_signers  `IDENTITY namespaces="forensic-report" ssh-ed25519 KEY`
//	VERIFY.txt              the commands that check the folder
//	SHA256SUMS              sha256sum lines ("HEX  NAME\n", sorted by name)
//	                        for every file above
//	SHA256SUMS.sig          raw 64-byte Ed25519 signature of SHA256SUMS
//	SHA256SUMS.sshsig       SSHSIG signature of SHA256SUMS (namespace
//	                        forensic-report, hash sha512)
//
// A third party checks it with
//
//	sha256sum -c SHA256SUMS
//	openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
//	ssh-keygen -Y verify -f signer.allowed_signers -I IDENTITY -n forensic-report -s SHA256SUMS.sshsig < SHA256SUMS
//
// and should use the signer's key obtained by another channel in place of
// the copies in the folder. Verify does the same checks in Go, requires
// every file of the folder to be listed, the SSHSIG armor to be exactly as
// written (ssh-keygen skips white space in it), report.json to be
// canonical and to name the signing key, the custody chain in report.json
// to be intact (and, in a report over several cases, each case's chain,
// merged at its head), and its verification counts to be those the
// chain's last verify entry recorded; it can re-ingest the evidence to compare every
// item's SHA-256 and events (unchanged, changed, missing, added,
// events_changed) and re-verify it to compare statuses and findings
// (Compare).
//
// # Keys
//
// Ed25519. GenerateKey writes PREFIX.key (PKCS#8 PEM "PRIVATE KEY", mode
// 0600, as `openssl genpkey -algorithm ed25519` writes), PREFIX.pub.pem,
// PREFIX.pub and PREFIX.allowed_signers. LoadKey refuses a key file group
// or others can access, as ssh does. Fingerprint is OpenSSH's: "SHA256:"
// and unpadded base64 of SHA-256 of the SSH public key blob.
//
// # SSHSIG (OpenSSH PROTOCOL.sshsig)
//
// The signature is Ed25519 over
//
//	"SSHSIG" string(namespace) string("") string("sha512") string(SHA-512(message))
//
// and the file is "-----BEGIN SSH SIGNATURE-----", base64 of
//
//	"SSHSIG" uint32(1) string(publickey) string(namespace) string("") string("sha512")
//	string(string("ssh-ed25519") string(signature))
//
// in lines of 70 characters, "-----END SSH SIGNATURE-----" and a newline;
// string is a big-endian uint32 length and the bytes, publickey is
// string("ssh-ed25519") string(32-byte key).
//
// # report.json
//
// Canonical JSON: UTF-8, object keys sorted by their bytes, no
// insignificant white space, strings escaping only '"', '\\' and control
// characters (\b \f \n \r \t, else \u00XX), integers only, one final
// newline; lists are in a fixed order. The same case, key and signing
// time give byte-identical output. Members:
//
//	format            "forensic-report/1"
//	case              id, created_at, info (case_info)
//	tool              name, version, revision, modified, binary_sha256, platform
//	signer            identity, operator, host, public key (PEM and OpenSSH),
//	                  fingerprint, signed_at and time_source (the local clock,
//	                  stated as such), command
//	custody           every custody entry (inputs and outputs as the JSON
//	                  text stored, so store.EntryHash recomputes each hash),
//	                  head_hash, count, the case's anchor (count and head
//	                  kept in case_info), intact, problems (store.CheckCustody,
//	                  store.CheckEvents, and statuses or findings that differ
//	                  from the last verify entry), notes
//	trust_anchors     files (path, sha256, size, keys) and keys (fingerprint,
//	                  DER in base64, encoding, bits, validity, region, and the
//	                  openssl commands that turn the DER into key-FP.pem)
//	evidence          every item by (path, member, sha256): source, path,
//	                  member, size, sha256, content_sha256, kind, S3 key,
//	                  account/region/trail, error, its status, and
//	                  event_count and events_sha256 (store.EventsHeaderSQL)
//	                  of its events as the case holds them
//	evidence_summary  counts by kind, bytes, errors
//	verification      ran, verified_at, ok, verdict, counts by kind and status,
//	                  findings by type and severity
//	statuses          every item_status row that is not valid, all columns,
//	                  detail (expected and actual values) as JSON
//	findings          every finding, all columns, sorted by type, severity,
//	                  chain, time span, summary
//	coverage          per account, region and trail: segments of time with a
//	                  state (verified, invalid, missing, gap, not_verified),
//	                  seconds per state, gaps with their explanation
//	verified_digests  every digest verification found authentic: the string
//	                  to sign rebuilt from the case (digestEndTime "\n"
//	                  bucket "/" key "\n" hex SHA-256 of the digest "\n"
//	                  previousDigestSignature or "null"), the signature (from
//	                  the saved metadata or a successor) that re-verifies here,
//	                  the key, and the openssl commands
//	export            (report --export) the manifest's hash and every file's
//	detections        (after forensic detect) its custody entry and rule
//	                  files, every rule with hits by the verification of
//	                  their events now, and its first hits
//	cases             (a report over several cases) each case merged: path,
//	                  case_id, sha256, size, shards, objects (its object
//	                  verdicts were carried), and its own custody section
//	limitations, method
//
// Each member is a field of the Document types (schema.go), filled from
// the case through store's typed reads, every column named
// (store/reportdata.go); a column verification adds reaches the report
// only once it is a field there. Verify reads report.json back into the
// same types. report.json is written and read as a stream: evidence,
// statuses and verified digests are never all in memory, and Verify
// checks that it is canonical one token at a time.
//
// # Coverage
//
// A digest's hour [digestStartTime, digestEndTime] is verified when the
// digest is valid and every log file it lists is valid; invalid when it
// or a log file it lists (or an unreferenced log file it covers) is not;
// a missing digest's expected hour, and a missing_span finding's span, are
// missing; a gap finding's span is a gap. A digest whose detail carries
// time_range (its times are out of range) is not drawn. Touching
// stretches of the same state merge. The chart draws, per pixel column,
// the worst state (invalid > missing > gap > not verified > verified) so
// short problems stay visible; time is mapped in seconds and the axis has
// at most 7 ticks, whatever the span.
package report
