-- Case file schema, version 10: a finding records the account, region and
-- trail it is about (verify --json has always printed them), so that the
-- findings can be read back from the case rather than held in memory.
-- NULL for verifications made before version 10.
ALTER TABLE findings ADD COLUMN account TEXT;
ALTER TABLE findings ADD COLUMN region TEXT;
ALTER TABLE findings ADD COLUMN trail TEXT;
