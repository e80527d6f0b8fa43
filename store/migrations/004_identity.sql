-- Case file schema, version 4: the identity of an archive member is never
-- a string another member can spell. `member` stays as it was (the names
-- joined with "!/", for readers and old reports), but a member may itself
-- be named "inner.tar!/x", and one archive may hold two members of one
-- name. Columns only grow; rows written before version 4 have NULL here.

-- JSON array of the member names, outermost archive first, each exactly
-- as stored ([] for a file on disk). A name that is not valid UTF-8 is
-- written as {"hex": "..."} (its bytes in hex), so nothing is lost.
ALTER TABLE evidence ADD COLUMN member_path TEXT;
-- JSON array of the member's position at each level: 0-based, counting
-- every entry of its archive in stored order ([] for a file on disk).
-- Two members of one name in one archive differ here.
ALTER TABLE evidence ADD COLUMN member_index TEXT;
-- The name as classification and pairing see it: a JSON array of each
-- level's name cleaned as a slash path (no leading "/", "./" and ".."
-- resolved), or [path] for a file on disk. Two items of one source with
-- the same name_key are a finding (`duplicate_name`).
ALTER TABLE evidence ADD COLUMN name_key TEXT;

-- An item is (path, member, sha256, member_index): the same bytes at the
-- same position add nothing when ingested again; the same bytes under the
-- same name at two positions are two items.
DROP INDEX evidence_identity;
CREATE UNIQUE INDEX evidence_identity ON evidence(path, member, sha256, member_index);
CREATE INDEX evidence_name_key ON evidence(path, name_key);
