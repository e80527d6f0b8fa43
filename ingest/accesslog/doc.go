// Package accesslog parses Amazon S3 server access-log files and the keys
// they are delivered under, without trusting the quoting in the lines.
//
// # Record format (FORMATS.md C.1)
//
// A log file is a sequence of lines separated by "\n" (a "\r" before it is
// tolerated, and the last line may lack its newline). Each line is one
// request, made of fields separated by single spaces:
//
//	 1 Bucket Owner     2 Bucket          3 [Time]          4 Remote IP
//	 5 Requester        6 Request ID      7 Operation       8 Key
//	 9 "Request-URI"   10 HTTP status    11 Error Code     12 Bytes Sent
//	13 Object Size     14 Total Time     15 Turn-Around    16 "Referer"
//	17 "User-Agent"    18 Version Id     19 Host Id        20 Signature Version
//	21 Cipher Suite    22 Auth Type      23 Host Header    24 TLS version
//	25 Access Point ARN 26 aclRequired   27 Source Region  28... unknown
//
// Time is "[dd/Mon/yyyy:hh:mm:ss +zzzz]" and is stored as RFC 3339 UTC.
// Any field may be "-"; a quoted field may also be "\"-\"", stored as "-".
// Older logs stop after field 24, 25 or 26; the missing fields are left
// empty. AWS appends fields over time, so tokens after field 27 are kept
// verbatim in Extra (a quoted extra keeps its quotes). A line needs at
// least 18 fields; fewer is a parse error.
//
// # Quotes are not escaped (FORMATS.md C.2)
//
// Request-URI, Referer and User-Agent are written between double quotes,
// but a quote inside them is written as is: real logs hold
// `"GET /" HTTP/1.1"` and a User-Agent ending `Safari/604.1""`. A client
// controls the Referer and User-Agent and can therefore put `" ` plus
// fake fields inside them. The regular expression AWS publishes for
// Athena also fails on a Referer that contains a space. This package
// instead splits a line as follows:
//
//  1. Trailing blanks are dropped. Fields 1-8 are single tokens up to the
//     next space (two spaces make an empty field); field 3 runs from "["
//     to the first "]" followed by a space or the end of the line.
//  2. A quoted field (9, 16, 17) may close at any quote followed by a space
//     or the end of the line: each such quote is a candidate. A field not
//     opening with a quote is one token; only "-" (or, for the Referer,
//     any quote-free token, as the AWS regex allows) is well-formed.
//  3. Every combination of candidates is tried depth first — Request-URI
//     and Referer from the left, User-Agent from the right, since nothing
//     after it may contain a quote — and scored by the fields that follow.
//     Hard faults: fewer than 18 fields, an unterminated quote or bracket.
//     Shape faults: HTTP status not 3 digits or "-" (counts twice); Error
//     Code not letters and digits; fields 12-15 not digits; Host Id not
//     base64; Signature Version not "SigV…"; Cipher Suite not letters,
//     digits, "-" and "_"; Authentication Type and aclRequired not
//     letters; TLS version not "TLSv" + digits and dots (any case); Access
//     Point ARN not "arn:…"; Source Region not lower-case letters, digits
//     and "-"; a quote in any of fields 18-27. "-" always passes.
//  4. The best split has the fewest hard faults, then the fewest shape
//     faults, then the most fixed fields (the least swallowed into a
//     quoted field), then no quote among the unknown trailing fields;
//     among equals the first found wins.
//  5. The record is marked Ambiguous when more than one split is free of
//     hard and shape faults, or, when none is, more than one ties for
//     best: the line can be read two ways, which is what an injected
//     Referer or User-Agent looks like. A genuine line that holds a
//     quoted unknown trailing field followed by another field is also
//     flagged, as it reads as an 18-field line too.
//  6. The search is bounded: at most maxSteps candidates and workFactor
//     bytes scanned per byte of line, so any line parses in linear time.
//     A line whose search hits the bound is marked Ambiguous.
//
// A best split with a hard fault, a bad HTTP status or a Time that does
// not parse sets ParseError.
//
// A line that cannot be parsed still yields a record: ParseError says
// why, Raw keeps the line, and the fields that could be split are filled.
// Parsing is byte-oriented, so invalid UTF-8 never breaks it and is kept
// as given.
//
// # Log object keys (FORMATS.md C.4)
//
//	SimplePrefix:      [prefix]YYYY-MM-DD-hh-mm-ss-UNIQUE
//	PartitionedPrefix: [prefix]<account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
//
// The prefix is joined without an implied "/". The time in the name is
// the delivery time (or, for partitioned keys with EventTime, the event
// day at 00:00:00), never a record's time: index records by field 3.
// Delivery is best effort, so a missing record does not prove a request
// did not happen.
package accesslog
