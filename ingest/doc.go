// Package ingest reads exported AWS evidence — folders, archives, CloudTrail
// log and digest files, public keys, S3 metadata exports, S3 objects and
// server access logs — as a stream, hashes every item once while reading,
// classifies it by S3 key shape and then by content, parses it, and hands
// the rows to a store.Writer.
//
// Evidence is opened read-only and nothing is ever extracted to disk:
// archive member names are recorded exactly as stored and never used as
// file-system paths.
package ingest
