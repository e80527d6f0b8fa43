// Package verify checks the CloudTrail digest chains and log files of an
// ingested case offline, against public keys the analyst supplies, and
// gives every digest and log file — present in the evidence, or shown by
// the evidence to be missing — exactly one status, plus findings for what
// is not a per-item status. It reads the case (store), never the network,
// and never prints: Run returns a Report and records it in the case
// (item_status, findings, trust_anchor_files, trust_anchors; the previous
// run's rows are replaced in one transaction).
//
// # Trust anchors
//
// LoadTrustAnchors reads `aws cloudtrail list-public-keys` output
// (PublicKeyList or publicKeyList), PEM ("RSA PUBLIC KEY" = PKCS#1,
// "PUBLIC KEY" = SubjectPublicKeyInfo) and DER keys, from files or
// folders. A key's fingerprint is the lower-case hex MD5 of its DER bytes;
// a listed Fingerprint that differs is an error. Keys ingested into the
// case as evidence are never trusted unless also supplied.
//
// # Digests (FORMATS.md D.3, D.4)
//
// The signature is RSA PKCS#1 v1.5 with SHA-256 over
//
//	digestEndTime "\n" digestS3Bucket "/" digestS3Object "\n" hex(SHA-256(exact decompressed digest bytes)) "\n" (previousDigestSignature | "null")
//
// with bucket and key taken from the JSON. The hex signature comes from
// the digest's saved head-object metadata (Metadata.signature in the
// K.metadata.json sidecar) or, when that was not saved, from the
// successor digest's previousDigestSignature; detail.signature_source
// says which. The key is the supplied key whose fingerprint is
// digestPublicKeyFingerprint, preferring a key whose file names the
// digest's delivery region, then one naming none, then another region's
// (noted); it must be valid at digestEndTime, or for backfill digests at
// the backfill-generation-timestamp metadata value (as awscli does).
//
// A digest's status is the first that applies: format_invalid (unreadable
// gzip, bytes after the first gzip member, JSON that does not parse,
// required keys absent, previousDigest* partly null, a backfill digest
// whose metadata lacks backfill-generation-timestamp); signature_invalid
// (digestSignatureAlgorithm, or the saved metadata's signature-algorithm,
// other than exactly SHA256withRSA, or absent from metadata that carries a
// signature); key_unknown;
// key_not_valid_at_time; signature_unavailable (no metadata, no
// successor); signature_invalid (the signature from the metadata — else
// from the successor — does not verify); chain_mismatch (a successor's
// previousDigestHashValue differs from the SHA-256 of this digest's
// content, or its previousDigestSignature from this digest's saved
// signature); moved (found at a key other than digestS3Object: the key
// under a folder named after the bucket, else the AWSLogs/... suffix,
// else the file name of a flattened copy); valid. Separately, a digest is
// authentic when its signature algorithm is exactly SHA256withRSA (in the
// digest and in saved metadata that carries a signature), any available
// signature (metadata or a successor's copy) verifies under a supplied key
// valid at the time, and its status is valid, moved or chain_mismatch
// (faults that lie outside its own signature); only authentic digests
// vouch for log files, so the logs of a digest with any other status are
// unverified, without exception. A digest some successor points to and the evidence
// lacks is missing; counting by time (digests are hourly), every hour
// between it and the next older digest of the chain present is missing
// too, with a key inferred from the chain and the time. At most 48 such
// inferred digests of one stretch are items: beyond that the 24 oldest
// and 24 newest are, and one missing_span finding counts them all.
//
// # Times
//
// Digest times are the attacker's to choose, so they bound no loop. A
// parsed digest is out of range (finding time_range; its detail gets
// time_range, its status is unchanged) when, first that applies, its
// digestStartTime or digestEndTime is before 2013-11-01 (before
// CloudTrail existed); it ends more than 24 hours after its own evidence
// row was written (ingested_at, unless that clock read before
// 2013-11-01); or it is not authentic and lies more than 366 days from
// every other digest of its chain, every log file of its account and
// region (the time in the file name) and every record of them, when the
// evidence holds any. An out-of-range digest is left out of its chain's
// time order: no missing digest is inferred from its times (the digest it
// names, if missing, is listed with no expected time), and it anchors no
// gap or coverage finding and no chain start or end.
//
// A chain is identified by (bucket, prefix, organization, account,
// delivery region, trail, backfill); backfill digests form their own
// chains.
//
// # Log files
//
// Log files are matched to logFiles entries by the AWSLogs/... suffix of
// their key, or by file name for flattened copies. The hash is SHA-256 of
// the first gzip member's content (of the bytes themselves for an
// uncompressed copy). Status, first that applies: format_invalid (content
// cannot be read, e.g. truncated gzip); hash_mismatch (the content matches
// no listing, or an authentic digest lists another hash); trailing_data
// (bytes after the first gzip member); unreferenced (no digest lists it);
// unverified (only non-authentic digests list it); valid. A listed file
// the evidence lacks is missing.
//
// # Findings
//
//   - gap: a starting digest (all previousDigest* null) after an older
//     digest of the same chain; the span between them, explained by
//     StopLogging, StartLogging, DeleteTrail, UpdateTrail,
//     PutEventSelectors or CreateTrail records in the case (event IDs and
//     principals cited) — severity info — or unexplained (warning).
//   - conflict: saved metadata signature differs from the successor's copy.
//   - missing_span: more than 48 hourly digests of one stretch of a chain
//     are missing (severity error): from, to, expected_digests, and
//     listed_digests, how many are items.
//   - time_range: a digest whose times are out of range (severity error;
//     detail rule, expected, found).
//   - coverage: log files of the chain's account and region delivered
//     after its newest digest, records with later event times, or later
//     digests of the same trail in other accounts or regions: the newest
//     digests may have been deleted (tail truncation).
//   - rehash: with Options.Rehash, evidence that changed or could not be
//     re-read.
//
// The report fails (Report.Failed) when any item is not valid or any
// finding has severity error; gaps alone do not fail it.
//
// # Events
//
// Migration 002 adds the view ct_events_status: every ct_events row with
// log_status (its log file's status) and verified (1 when valid), so
// analysts can select verified events only:
//
//	SELECT event_time, event_name, principal FROM ct_events_status WHERE verified = 1
package verify
