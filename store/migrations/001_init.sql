-- Case file schema, version 1. Documented for analysts in README.md
-- ("Case file schema"); columns only grow.

CREATE TABLE case_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every item read: files, archive members, archives and folders named on
-- the command line. (path, member, sha256) identifies an item: ingesting
-- the same bytes at the same place again adds nothing.
CREATE TABLE evidence (
    id             INTEGER PRIMARY KEY,
    source         TEXT NOT NULL,             -- command-line argument, absolute
    path           TEXT NOT NULL,             -- file on disk (outermost archive for members)
    member         TEXT NOT NULL DEFAULT '',  -- name inside archive(s), "!/" between nesting levels
    size           INTEGER,                   -- bytes as received
    sha256         TEXT NOT NULL DEFAULT '',  -- hex SHA-256 of the bytes as received
    content_sha256 TEXT,                      -- hex SHA-256 of the first gzip member's content
    content_size   INTEGER,
    gzip_trailing  INTEGER NOT NULL DEFAULT 0, -- 1 when bytes follow the first gzip member
    compression    TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    format         TEXT NOT NULL DEFAULT '',
    s3_bucket      TEXT,
    s3_key         TEXT,
    account_id     TEXT,
    org_id         TEXT,
    region         TEXT,
    trail          TEXT,
    backfill       INTEGER NOT NULL DEFAULT 0,
    mode           TEXT,
    link_target    TEXT,
    mtime          TEXT,
    record_count   INTEGER,                   -- records/lines/keys parsed from it
    error          TEXT,                      -- why it could not be read or parsed
    ingested_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX evidence_identity ON evidence(path, member, sha256);
CREATE INDEX evidence_kind ON evidence(kind);
CREATE INDEX evidence_s3_key ON evidence(s3_key);

-- One row per CloudTrail record.
CREATE TABLE ct_events (
    id                   INTEGER PRIMARY KEY,
    evidence_id          INTEGER NOT NULL REFERENCES evidence(id),
    record_index         INTEGER NOT NULL,
    event_id             TEXT,
    event_time           TEXT,
    event_version        TEXT,
    event_source         TEXT,
    event_name           TEXT,
    event_type           TEXT,
    event_category       TEXT,
    aws_region           TEXT,
    source_ip            TEXT,
    user_agent           TEXT,
    principal            TEXT,
    identity_type        TEXT,
    access_key_id        TEXT,
    user_name            TEXT,
    account_id           TEXT,
    recipient_account_id TEXT,
    error_code           TEXT,
    error_message        TEXT,
    request_id           TEXT,
    shared_event_id      TEXT,
    read_only            INTEGER,
    management_event     INTEGER,
    verifiable           INTEGER NOT NULL,    -- 0 for JSON-array and one-per-line exports
    raw                  TEXT NOT NULL        -- the record's exact bytes
);
CREATE INDEX ct_events_time ON ct_events(event_time);
CREATE INDEX ct_events_name ON ct_events(event_name);
CREATE INDEX ct_events_source_ip ON ct_events(source_ip);
CREATE INDEX ct_events_principal ON ct_events(principal);

CREATE TABLE ct_digests (
    id                              INTEGER PRIMARY KEY,
    evidence_id                     INTEGER NOT NULL UNIQUE REFERENCES evidence(id),
    aws_account_id                  TEXT,
    digest_start_time               TEXT,
    digest_end_time                 TEXT,
    digest_s3_bucket                TEXT,
    digest_s3_object                TEXT,
    digest_public_key_fingerprint   TEXT,
    digest_signature_algorithm      TEXT,
    newest_event_time               TEXT,
    oldest_event_time               TEXT,
    previous_digest_s3_bucket       TEXT,
    previous_digest_s3_object       TEXT,
    previous_digest_hash_value      TEXT,
    previous_digest_hash_algorithm  TEXT,
    previous_digest_signature       TEXT,
    log_file_count                  INTEGER NOT NULL,
    raw                             BLOB NOT NULL  -- exact decompressed bytes (what is signed)
);
CREATE INDEX ct_digests_object ON ct_digests(digest_s3_object);

CREATE TABLE ct_digest_logs (
    digest_id          INTEGER NOT NULL REFERENCES ct_digests(id),
    idx                INTEGER NOT NULL,
    s3_bucket          TEXT,
    s3_object          TEXT,
    hash_value         TEXT,
    hash_algorithm     TEXT,
    newest_event_time  TEXT,
    oldest_event_time  TEXT,
    PRIMARY KEY (digest_id, idx)
);
CREATE INDEX ct_digest_logs_object ON ct_digest_logs(s3_object);

CREATE TABLE public_keys (
    id                  INTEGER PRIMARY KEY,
    evidence_id         INTEGER NOT NULL REFERENCES evidence(id),
    fingerprint         TEXT NOT NULL,   -- hex MD5 of der exactly as supplied
    listed_fingerprint  TEXT,
    der                 BLOB NOT NULL,
    encoding            TEXT NOT NULL,   -- pkcs1 | spki
    bits                INTEGER,
    validity_start      TEXT,
    validity_end        TEXT,
    region              TEXT,
    error               TEXT
);
CREATE INDEX public_keys_fingerprint ON public_keys(fingerprint);

CREATE TABLE s3_object_meta (
    id              INTEGER PRIMARY KEY,
    evidence_id     INTEGER NOT NULL REFERENCES evidence(id),
    source          TEXT NOT NULL,   -- head-object | get-object-attributes | list-object-versions | inventory-csv
    bucket          TEXT,
    key             TEXT,
    version_id      TEXT,
    is_latest       INTEGER,
    delete_marker   INTEGER NOT NULL DEFAULT 0,
    size            INTEGER,
    etag            TEXT,
    last_modified   TEXT,
    checksum_crc32      TEXT,
    checksum_crc32c     TEXT,
    checksum_crc64nvme  TEXT,
    checksum_sha1       TEXT,
    checksum_sha256     TEXT,
    checksum_sha512     TEXT,
    checksum_md5        TEXT,
    checksum_xxhash64   TEXT,
    checksum_xxhash3    TEXT,
    checksum_xxhash128  TEXT,
    checksum_type   TEXT,
    algorithms      TEXT,            -- comma-separated ChecksumAlgorithm names
    storage_class   TEXT,
    sse             TEXT,
    sse_customer    TEXT,
    kms_key_id      TEXT,
    parts_count     INTEGER,
    multipart       INTEGER,
    user_metadata   TEXT,            -- JSON object (digest signatures live here)
    object_path     TEXT             -- local copy this export sits beside, if any
);
CREATE INDEX s3_object_meta_key ON s3_object_meta(bucket, key);
CREATE INDEX s3_object_meta_path ON s3_object_meta(object_path);

CREATE TABLE s3_object_parts (
    meta_id     INTEGER NOT NULL REFERENCES s3_object_meta(id),
    part_number INTEGER NOT NULL,
    size        INTEGER,
    checksums   TEXT,                -- JSON object algorithm -> value
    PRIMARY KEY (meta_id, part_number)
);

CREATE TABLE s3_inventory_manifests (
    id                  INTEGER PRIMARY KEY,
    evidence_id         INTEGER NOT NULL REFERENCES evidence(id),
    source_bucket       TEXT,
    destination_bucket  TEXT,
    version             TEXT,
    creation_timestamp  TEXT,
    file_format         TEXT,
    file_schema         TEXT,
    files               TEXT         -- JSON array of {key, size, MD5checksum}
);

-- One row per access-log line. The parsed fields are stored once as a JSON
-- array (fields[0] is field 1 of the log format; field 3 is stored as RFC
-- 3339 UTC), so a row costs few bound values to write: access logs run to
-- millions of lines. The view s3_access below names every field. Unknown
-- trailing fields are in extra.
CREATE TABLE s3_access_lines (
    id                INTEGER PRIMARY KEY,
    evidence_id       INTEGER NOT NULL REFERENCES evidence(id),
    line_no           INTEGER NOT NULL,
    time              TEXT,          -- field 3 as RFC 3339 UTC
    fields            TEXT,          -- JSON array of every field as logged (quotes and brackets removed)
    field_count       INTEGER,
    ambiguous         INTEGER NOT NULL DEFAULT 0,  -- quotes inside quoted fields made the split uncertain
    parse_error       TEXT,
    extra             TEXT,          -- JSON array of unknown trailing fields (past field 27)
    raw               TEXT NOT NULL  -- the line exactly as logged
);
CREATE INDEX s3_access_lines_time ON s3_access_lines(time);

-- Every field of every access-log line, by name.
CREATE VIEW s3_access AS
SELECT id, evidence_id, line_no, time,
       json_extract(fields, '$[0]') AS bucket_owner,
       json_extract(fields, '$[1]') AS bucket,
       json_extract(fields, '$[3]') AS remote_ip,
       json_extract(fields, '$[4]') AS requester,
       json_extract(fields, '$[5]') AS request_id,
       json_extract(fields, '$[6]') AS operation,
       json_extract(fields, '$[7]') AS key,
       json_extract(fields, '$[8]') AS request_uri,
       json_extract(fields, '$[9]') AS http_status,
       json_extract(fields, '$[10]') AS error_code,
       json_extract(fields, '$[11]') AS bytes_sent,
       json_extract(fields, '$[12]') AS object_size,
       json_extract(fields, '$[13]') AS total_time,
       json_extract(fields, '$[14]') AS turn_around_time,
       json_extract(fields, '$[15]') AS referer,
       json_extract(fields, '$[16]') AS user_agent,
       json_extract(fields, '$[17]') AS version_id,
       json_extract(fields, '$[18]') AS host_id,
       json_extract(fields, '$[19]') AS signature_version,
       json_extract(fields, '$[20]') AS cipher_suite,
       json_extract(fields, '$[21]') AS auth_type,
       json_extract(fields, '$[22]') AS host_header,
       json_extract(fields, '$[23]') AS tls_version,
       json_extract(fields, '$[24]') AS access_point_arn,
       json_extract(fields, '$[25]') AS acl_required,
       json_extract(fields, '$[26]') AS source_region,
       extra, field_count, ambiguous, parse_error, raw, fields
FROM s3_access_lines;


-- Exactly one verification status per digest, log file and object
-- (filled by `forensic verify`).
CREATE TABLE item_status (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,      -- digest | log | object
    s3_bucket    TEXT,
    s3_key       TEXT,
    evidence_id  INTEGER REFERENCES evidence(id),
    status       TEXT NOT NULL,
    detail       TEXT                -- JSON: expected and actual values
);

CREATE TABLE findings (
    id      INTEGER PRIMARY KEY,
    type    TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail  TEXT
);

-- Append-only, hash-chained log of every command run on the case.
CREATE TABLE custody (
    seq        INTEGER PRIMARY KEY,
    time       TEXT NOT NULL,
    operator   TEXT NOT NULL,
    host       TEXT NOT NULL,
    tool       TEXT NOT NULL,
    command    TEXT NOT NULL,
    args       TEXT NOT NULL,        -- JSON array
    inputs     TEXT NOT NULL,        -- JSON
    outputs    TEXT NOT NULL,        -- JSON
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
