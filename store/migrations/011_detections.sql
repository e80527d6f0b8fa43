-- Case file schema, version 11: the hits of the last `forensic detect`,
-- one row per rule and event, with the verification status of the log
-- file the event came from when detect ran (replaced by each run).
--   verification: verified       the log file's status is valid
--                 not_verified   no verify has judged the log file
--                 log_not_valid  the log file's status is another (log_status)
-- rule_author is kept with every hit: SigmaHQ's rules are under the
-- Detection Rule License, which requires naming the author with matches.
CREATE TABLE detections (
    id            INTEGER PRIMARY KEY,
    rule_id       TEXT NOT NULL,
    rule_title    TEXT NOT NULL,
    rule_level    TEXT,
    rule_author   TEXT,
    rule_source   TEXT NOT NULL,   -- the rule file (builtin:NAME for the built-in pack)
    rule_sha256   TEXT NOT NULL,   -- of the rule file
    event_row     INTEGER NOT NULL REFERENCES ct_events(id),
    event_id      TEXT,
    event_time    TEXT,
    event_name    TEXT,
    principal     TEXT,
    source_ip     TEXT,
    log_status    TEXT,
    verification  TEXT NOT NULL
);
CREATE INDEX detections_rule ON detections(rule_id);
CREATE INDEX detections_event ON detections(event_row);
