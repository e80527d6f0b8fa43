-- Case file schema, version 2: what `forensic verify` records besides
-- item_status and findings (both are replaced on every run, in one
-- transaction). Columns only grow.

-- Findings get a severity and the chain and time span they are about.
ALTER TABLE findings ADD COLUMN severity   TEXT NOT NULL DEFAULT 'error'; -- error | warning | info
ALTER TABLE findings ADD COLUMN chain      TEXT;  -- bucket/prefix/org/account/region/trail[/backfill]
ALTER TABLE findings ADD COLUMN start_time TEXT;  -- RFC 3339 UTC
ALTER TABLE findings ADD COLUMN end_time   TEXT;

CREATE INDEX item_status_evidence ON item_status(evidence_id);
CREATE INDEX item_status_key ON item_status(kind, s3_key);

-- The trust anchors of the last verification: the files named with
-- --public-keys (hashed as read) and every key they hold. Keys ingested as
-- evidence (public_keys) are not trust anchors.
CREATE TABLE trust_anchor_files (
    id      INTEGER PRIMARY KEY,
    path    TEXT NOT NULL,      -- absolute path as read
    sha256  TEXT NOT NULL,      -- hex SHA-256 of the file's bytes
    size    INTEGER NOT NULL,
    keys    INTEGER NOT NULL
);

CREATE TABLE trust_anchors (
    id                  INTEGER PRIMARY KEY,
    file_id             INTEGER NOT NULL REFERENCES trust_anchor_files(id),
    fingerprint         TEXT NOT NULL,   -- hex MD5 of der
    listed_fingerprint  TEXT,
    der                 BLOB NOT NULL,
    encoding            TEXT NOT NULL,   -- pkcs1 | spki
    bits                INTEGER,
    validity_start      TEXT,
    validity_end        TEXT,
    region              TEXT             -- named by the file's path, if any
);
CREATE INDEX trust_anchors_fingerprint ON trust_anchors(fingerprint);

-- Every CloudTrail record with the verification status of the log file it
-- came from. verified = 1 only when that file's content hash matches a
-- digest whose signature verified under a supplied key valid at the time:
--   SELECT event_time, event_name, principal FROM ct_events_status WHERE verified = 1
-- log_status is NULL when `forensic verify` has not run since the file was
-- ingested.
CREATE VIEW ct_events_status AS
SELECT e.*, s.status AS log_status,
       CASE WHEN s.status = 'valid' THEN 1 ELSE 0 END AS verified
FROM ct_events e
LEFT JOIN item_status s ON s.evidence_id = e.evidence_id AND s.kind = 'log';
