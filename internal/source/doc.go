// Package source turns one evidence argument — a folder, a single file or an
// archive — into a sequence of entries, reading everything as a stream. It
// never extracts anything to disk and never writes: files are opened
// read-only, member names are recorded exactly as stored and never used as
// file-system paths, and symbolic links and tar hard links are recorded
// (LinkTarget), never followed. Special files — fifos, devices, sockets, in
// a folder, tar or zip — are entries without content or error, their type
// in Mode (SpecialType); they are never opened.
//
// # Order
//
// A folder is walked recursively in lexical order (filepath.WalkDir), then a
// final Container entry with Format "dir" is emitted for the folder itself.
// An archive's members are emitted in stored order, then one Container entry
// for the archive itself, carrying the SHA-256 and size of the archive's bytes
// as received. Folders' own directories and archive directory members produce
// no entry.
//
// # Archive detection
//
// Detection is by content; names are ignored. The first 512 bytes of every
// file or member are examined:
//
//   - zip: they start with "PK\x03\x04" (local file header) or "PK\x05\x06"
//     (end of central directory of an empty zip).
//   - tar: the block holds "ustar\x00" (POSIX) or "ustar  \x00" (GNU) at
//     offset 257, or it is a valid old-style (v7) header: the octal number in
//     bytes 148..155 equals the sum of all 512 header bytes with those 8 bytes
//     counted as spaces (unsigned, or signed as some old tars computed it).
//   - tar.gz / tar.zst: they start with the gzip magic 1f 8b or the zstd magic
//     28 b5 2f fd, and the first 512 bytes of the decompressed stream pass the
//     tar test above. A gzip or zstd file that does not hold a tar (a
//     CloudTrail .json.gz, say) is an ordinary entry whose bytes are the
//     compressed bytes: this package never decompresses ordinary files.
//
// The bytes read while sniffing (at most 1 MiB, usually a few KiB) are
// replayed, so the caller and the hashes see every byte exactly once.
// Archives inside archives are detected the same way and walked up to
// Options.MaxDepth levels; deeper ones are ordinary members. Archives found
// in a folder are walked too.
//
// # Reading archives
//
// tar uses archive/tar; gzip, zstd and zip use github.com/klauspost/compress.
// A zip needs random access: a zip file on disk is read through its
// *os.File as an io.ReaderAt and hashed in a separate streaming pass; a zip
// inside another archive is buffered in memory, within Options.MaxNestedBuffer
// for all the nested zips held at once (a zip in a zip in a tar holds two).
// When a zip's central directory cannot be read (a truncated zip has none),
// or a nested zip does not fit in what is left of that budget, its members
// are read in file order from their local file headers (PKWARE APPNOTE
// 4.3.7): stored or deflated members with sizes in the local header, and
// deflated members followed by a data descriptor, each checked against its
// CRC-32 and size; the container's Err says so.
//
// Every compressed archive stream is guarded against decompression bombs:
// reading stops with an error once it has produced more than
// Options.MaxArchiveBytes, or once it has produced more than 16 MiB and more
// than Options.MaxRatio times the compressed bytes consumed so far. For a zip
// the output cap counts all members together (stored ones too: central
// directory entries may overlap) and the ratio is per member against its
// compressed size. Tar members get the ratio cap alone, against their share
// of the tar stream: a sparse member (GNU or PAX) expands holes without
// input, and 10 KiB of tar can claim a 1 TiB file. zstd frames are limited
// to a 128 MiB window (enough for zstd --long=27 and --ultra -22), which
// bounds the decoder's memory.
//
// # Errors
//
// Problems with the evidence never stop the walk: they become entries with
// Err set. A member whose content fails while being read (truncated, bad
// checksum, cap reached) has been handed to the visitor already; it is
// emitted a second time right after, with Err set and no reader, so the caller
// can discard what it got. A damaged archive keeps every member read before
// the damage and ends with its Container entry, Err giving the reason, e.g.
// "read tar.gz archive: unexpected EOF in gzip stream after 1234 bytes". An
// entry's Err never repeats the entry's own name (Entry.Name gives it; a
// message is printed as "NAME: ERR"); an archive's Err names a member it is
// about by its name in that archive ("member b: ..."). After the last
// member the raw archive bytes are
// still read to the end, so the container's SHA256 covers trailing bytes even
// when the archive is damaged.
package source
