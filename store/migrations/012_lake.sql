-- Case file schema, version 12: CloudTrail Lake query results exported to
-- S3. A sign file (result_sign.json) is kept whole: verify parses it again
-- and checks its signature; a result file (result_N.csv.gz, hashed as
-- stored) is indexed by its CSV header and row count, and by its rows only
-- when ingest was asked to (--lake-rows).
--   folder: the sign file's or result file's folder in the evidence (the
--           query's folder, .../CloudTrail-Lake/Query/YYYY/MM/DD/<query-id>),
--           as a slash-separated name: the S3 key's folder when the item has
--           one, else its path (archive!/member) below its source.
CREATE TABLE lake_sign_files (
    id          INTEGER PRIMARY KEY,
    evidence_id INTEGER NOT NULL REFERENCES evidence(id),
    folder      TEXT NOT NULL,
    raw         BLOB NOT NULL
);
CREATE INDEX lake_sign_files_evidence ON lake_sign_files(evidence_id);
CREATE TABLE lake_results (
    id          INTEGER PRIMARY KEY,
    evidence_id INTEGER NOT NULL REFERENCES evidence(id),
    folder      TEXT NOT NULL,
    header      TEXT,              -- JSON array of the CSV's column names
    row_count   INTEGER,           -- data rows (the header not counted)
    error       TEXT               -- why the CSV could not be read whole
);
CREATE INDEX lake_results_evidence ON lake_results(evidence_id);
CREATE TABLE lake_rows (
    id          INTEGER PRIMARY KEY,
    evidence_id INTEGER NOT NULL REFERENCES evidence(id),
    row_no      INTEGER NOT NULL,  -- 1 for the first row after the header
    fields      TEXT NOT NULL      -- JSON array of the row's values, in header order
);
CREATE INDEX lake_rows_evidence ON lake_rows(evidence_id, row_no);
