-- Case file schema, version 9: every item status carries the checks
-- verify ran on the item (a JSON array of {name, status, want, got,
-- reason}); its status is derived from them. NULL for verifications made
-- before version 9.
ALTER TABLE item_status ADD COLUMN checks TEXT;
