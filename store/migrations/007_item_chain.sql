-- Case file schema, version 7: an item status names the account, region
-- and trail of its chain, as verify reported them, so that the whole
-- verification can be read back from the case (forensic verify --json
-- streams its items from here) instead of being held in memory. Rows of
-- verifications made before version 7 have NULL here.
ALTER TABLE item_status ADD COLUMN account TEXT;
ALTER TABLE item_status ADD COLUMN region TEXT;
ALTER TABLE item_status ADD COLUMN trail TEXT;

-- Saved metadata that names an object by key but sits beside no local
-- copy (a digest's head-object export saved elsewhere), found by key.
CREATE INDEX s3_object_meta_key_only ON s3_object_meta(key) WHERE object_path IS NULL OR object_path = '';
