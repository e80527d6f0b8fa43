// Package ingest reads exported AWS evidence — folders, archives, CloudTrail
// log and digest files, public keys, S3 metadata exports, S3 objects and
// server access logs — as a stream, hashes every item once while reading,
// classifies it by S3 key shape and then by content, parses it, and hands
// the rows to a store.Writer.
//
// Evidence is opened read-only and nothing is ever extracted to disk:
// archive member names are recorded exactly as stored and never used as
// file-system paths.
//
// Memory is bounded by named limits (see the constants in ingest.go), never
// by the input: an item is classified from its names and the head of its
// content, the same way whether it is buffered (parsed by the workers) or
// streamed (by the walking goroutine); CloudTrail logs are split a window at
// a time, access logs and inventory data files line by line, and only the
// content of digests, keys and metadata exports is held whole, within a
// budget; an item's rows go to the writer whole, or in parts once they
// outgrow itemRowsBytes. Both hashes of every item come from
// internal/hashing, which verify --rehash uses too.
package ingest
