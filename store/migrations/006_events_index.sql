-- Case file schema, version 6: which CloudTrail records of each log file
-- are indexed in ct_events (`ingest --events`, `--from`, `--to`,
-- `--account`, `--region`). Every log file is inventoried and hashed
-- whatever was indexed. Columns only grow; rows written before version 6
-- have NULL here (every record was indexed, up to the per-file caps).

-- The filter whose records are indexed (store.EventFilter.Encode): NULL
-- for every record, '[]' for none (`--events none`), else a JSON array of
-- clauses ({"from", "to", "accounts", "regions"}; a record is indexed when
-- it matches one).
ALTER TABLE evidence ADD COLUMN events_filter TEXT;
-- How many records the file was split into (NULL when it was not split:
-- `--events none`), and how many of them are in ct_events.
ALTER TABLE evidence ADD COLUMN records_seen INTEGER;
ALTER TABLE evidence ADD COLUMN records_indexed INTEGER;

-- One row each time a later ingest indexed more records of a log file
-- already in the case (wider filters): its bytes were read again and
-- matched the recorded SHA-256. The evidence row holds the state after
-- the last widening; each row the state before and after its own, and the
-- ingest custody entry that made it (NULL until that entry is written; it
-- claims its widenings as it claims its items).
CREATE TABLE ct_index_widenings (
    id                   INTEGER PRIMARY KEY,
    evidence_id          INTEGER NOT NULL REFERENCES evidence(id),
    custody_seq          INTEGER,
    filter_before        TEXT,
    event_count_before   INTEGER,
    events_sha256_before TEXT,
    filter               TEXT,
    records_seen         INTEGER,
    event_count          INTEGER,
    events_sha256        TEXT,
    added                INTEGER NOT NULL  -- records this widening indexed
);
CREATE INDEX ct_index_widenings_evidence ON ct_index_widenings(evidence_id, id);
CREATE INDEX ct_index_widenings_unclaimed ON ct_index_widenings(custody_seq) WHERE custody_seq IS NULL;

-- The events of each item as the ingest entry that claimed it recorded
-- them: the evidence row's, or, once a later ingest widened the item, the
-- state before its first widening. store.ClaimedEventsSQL reads it.
CREATE VIEW evidence_claimed_events AS
SELECT e.id AS evidence_id, e.custody_seq, e.sha256,
       CASE WHEN w.id IS NULL THEN e.event_count ELSE w.event_count_before END AS event_count,
       CASE WHEN w.id IS NULL THEN e.events_sha256 ELSE w.events_sha256_before END AS events_sha256,
       CASE WHEN w.id IS NULL THEN e.events_filter ELSE w.filter_before END AS events_filter
FROM evidence e
LEFT JOIN ct_index_widenings w ON w.id = (SELECT min(x.id) FROM ct_index_widenings x WHERE x.evidence_id = e.id);
