// Package s3meta reads exported S3 object metadata into store.ObjectMeta
// rows: the JSON the AWS CLI prints for head-object, get-object-attributes,
// list-object-versions and list-objects(-v2), and S3 Inventory (its
// manifest.json, manifest.checksum and CSV data files). It only reads and
// normalises; checking the values against object bytes is verify's job.
//
// # Formats (FORMATS.md B.1–B.5)
//
// The kind of a JSON export is decided from its top-level keys, never its
// name (Detect). Field mapping:
//
//	                 head-object              get-object-attributes         listings
//	Size             ContentLength            ObjectSize                    Size
//	ETag             ETag, quoted             ETag, unquoted                ETag, quoted
//	Checksums        Checksum<ALG> top level  Checksum{Checksum<ALG>}       (none: names only,
//	ChecksumType     ChecksumType             Checksum{ChecksumType}         ChecksumAlgorithm[] -> Algorithms)
//	PartsCount       PartsCount               ObjectParts.TotalPartsCount
//	Parts            -                        ObjectParts.Parts[]{PartNumber, Size, Checksum<ALG>}
//	UserMetadata     Metadata (keys lower-cased)
//	SSE, SSECustomer, KMSKeyID: ServerSideEncryption, SSECustomerAlgorithm, SSEKMSKeyId
//
// <ALG> is one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5,
// XXHASH64, XXHASH3, XXHASH128, the keys of Checksums. Values are kept
// exactly as exported: base64 of big-endian digest bytes, with the "-N"
// part-count suffix that head-object gives composite checksums (and
// get-object-attributes does not). ETags lose one pair of surrounding
// quotes and are otherwise kept. LastModified is read with awstime.Parse:
// AWS CLI v1 prints head-object times as RFC 1123 ("Thu, 16 Apr 2015
// 18:19:14 GMT"), v2 and listing bodies as ISO 8601. VersionId "null" (an
// object written while versioning was off) stays "null". A JSON null is
// treated like an absent member.
//
// Listings: each Versions[] and Contents[] entry is a row, each
// DeleteMarkers[] entry a row with DeleteMarker set; Name is the bucket.
// Keys are kept as printed (the CLI already decodes EncodingType=url).
//
// Pages: pages of one command appended to one file (several JSON objects
// in a row) are read as one export: listing rows are concatenated and
// get-object-attributes ObjectParts are merged, sorted by PartNumber, with
// other members required to agree across pages. When the last page says
// IsTruncated, the parts or rows are incomplete: Export.Truncated is set
// and a Warning says so; what is there is kept.
//
// S3 Inventory: manifest.json gives sourceBucket, destinationBucket (an
// ARN), version, creationTimestamp (a string of epoch milliseconds),
// fileFormat, fileSchema and files[]{key, size, MD5checksum}.
// manifest.checksum holds the hex MD5 of the manifest.json bytes
// (CheckManifestChecksum). CSV data files have the columns fileSchema
// lists, in that order, and form-URL-encoded keys ('+' is a space, decoded
// with url.QueryUnescape); ParseInventoryCSV streams them.
//
// # Layout
//
// An object K saved under <root>/<bucket>/ has its exports beside it:
// K.metadata.json (head-object), K.attributes.json (get-object-attributes);
// versions live at K.versions/<VersionId>. Sidecar and ObjectKey read that
// convention (DESIGN.md "How an export is laid out").
//
// # Strictness
//
// Exports are evidence, so the reader refuses what it cannot read without
// guessing: documents over MaxDocument, invalid UTF-8, malformed JSON
// (error with the byte offset), a member given twice, or a known member
// of the wrong type (error naming the field path, e.g.
// "ObjectParts.Parts[1].Size: want integer, got string"). Member names
// match exactly, case included. Unknown members are ignored.
package s3meta
