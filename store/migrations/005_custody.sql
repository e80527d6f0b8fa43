-- Case file schema, version 5: the custody log is anchored, and every
-- evidence item names the custody entry that recorded it. Columns only
-- grow. See store/custody.go and README.md ("custody verify").

-- The `ingest` custody entry whose run added the item. NULL while the run
-- that wrote it has not written its custody entry (the entry claims its
-- items in the same transaction that appends it); 0 for items recorded
-- before the case had this column (they are not linked to an entry).
ALTER TABLE evidence ADD COLUMN custody_seq INTEGER;
-- The item's CloudTrail events as ingest wrote them: how many, and their
-- hash (store.EventsHash; README "events_sha256"). NULL when the item has
-- no events, or was recorded before version 5.
ALTER TABLE evidence ADD COLUMN event_count INTEGER;
ALTER TABLE evidence ADD COLUMN events_sha256 TEXT;

UPDATE evidence SET custody_seq = 0;

-- Only the unclaimed items: the claim finds them without a scan, and the
-- index is empty once every ingest has written its entry.
CREATE INDEX evidence_unclaimed ON evidence(custody_seq) WHERE custody_seq IS NULL;

-- The anchor: how many entries the log has and the hash of the last one,
-- updated in the same transaction as every append; what the log held when
-- the anchor was made (entries and items up to there predate it).
INSERT OR REPLACE INTO case_info(key, value) VALUES
    ('custody_count', (SELECT count(*) FROM custody)),
    ('custody_head', coalesce((SELECT hash FROM custody ORDER BY seq DESC LIMIT 1),
                              '0000000000000000000000000000000000000000000000000000000000000000')),
    ('custody_anchored_after', (SELECT coalesce(max(seq), 0) FROM custody)),
    ('custody_anchored_evidence', (SELECT coalesce(max(id), 0) FROM evidence));
