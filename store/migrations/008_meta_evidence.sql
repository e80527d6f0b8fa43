-- Case file schema, version 8: saved object metadata found by the
-- evidence item that holds it (verify looks up each digest's sidecar by
-- the sidecar's own name, then its metadata rows by evidence id).
CREATE INDEX s3_object_meta_evidence ON s3_object_meta(evidence_id);
