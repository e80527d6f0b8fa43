-- Case file schema, version 3: access-log lines stored as the raw line and
-- the spans of its fields, not as the line plus a second copy of every
-- field (PERF: a quarter fewer bytes per line, and nothing to encode).
-- Columns only grow: rows written before keep their `fields` array, and
-- the view reads either form.

-- [offset, length, offset, length, ...]: where fields 1.. are in `raw`, in
-- bytes (quotes and brackets excluded). NULL for rows that have `fields`.
ALTER TABLE s3_access_lines ADD COLUMN spans TEXT;

DROP VIEW s3_access;

-- Every field of every access-log line, by name, cut out of the raw line
-- byte for byte (or, for rows written before version 3, read from
-- `fields`). `fields` gives them all as one JSON array, as before.
CREATE VIEW s3_access AS
SELECT id, evidence_id, line_no, time,
       bucket_owner, bucket, remote_ip, requester, request_id, operation, key, request_uri, http_status, error_code, bytes_sent, object_size, total_time, turn_around_time, referer, user_agent, version_id, host_id, signature_version, cipher_suite, auth_type, host_header, tls_version, access_point_arn, acl_required, source_region,
       extra, field_count, ambiguous, parse_error, raw,
       coalesce(stored_fields, CASE WHEN spans IS NOT NULL THEN json_array(bucket_owner, bucket, time, remote_ip, requester, request_id, operation, key, request_uri, http_status, error_code, bytes_sent, object_size, total_time, turn_around_time, referer, user_agent, version_id, host_id, signature_version, cipher_suite, auth_type, host_header, tls_version, access_point_arn, acl_required, source_region) END) AS fields,
       spans
FROM (
SELECT id, evidence_id, line_no, time,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[0]') + 1, json_extract(spans, '$[1]')) AS TEXT),
                json_extract(fields, '$[0]')) AS bucket_owner,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[2]') + 1, json_extract(spans, '$[3]')) AS TEXT),
                json_extract(fields, '$[1]')) AS bucket,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[6]') + 1, json_extract(spans, '$[7]')) AS TEXT),
                json_extract(fields, '$[3]')) AS remote_ip,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[8]') + 1, json_extract(spans, '$[9]')) AS TEXT),
                json_extract(fields, '$[4]')) AS requester,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[10]') + 1, json_extract(spans, '$[11]')) AS TEXT),
                json_extract(fields, '$[5]')) AS request_id,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[12]') + 1, json_extract(spans, '$[13]')) AS TEXT),
                json_extract(fields, '$[6]')) AS operation,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[14]') + 1, json_extract(spans, '$[15]')) AS TEXT),
                json_extract(fields, '$[7]')) AS key,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[16]') + 1, json_extract(spans, '$[17]')) AS TEXT),
                json_extract(fields, '$[8]')) AS request_uri,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[18]') + 1, json_extract(spans, '$[19]')) AS TEXT),
                json_extract(fields, '$[9]')) AS http_status,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[20]') + 1, json_extract(spans, '$[21]')) AS TEXT),
                json_extract(fields, '$[10]')) AS error_code,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[22]') + 1, json_extract(spans, '$[23]')) AS TEXT),
                json_extract(fields, '$[11]')) AS bytes_sent,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[24]') + 1, json_extract(spans, '$[25]')) AS TEXT),
                json_extract(fields, '$[12]')) AS object_size,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[26]') + 1, json_extract(spans, '$[27]')) AS TEXT),
                json_extract(fields, '$[13]')) AS total_time,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[28]') + 1, json_extract(spans, '$[29]')) AS TEXT),
                json_extract(fields, '$[14]')) AS turn_around_time,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[30]') + 1, json_extract(spans, '$[31]')) AS TEXT),
                json_extract(fields, '$[15]')) AS referer,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[32]') + 1, json_extract(spans, '$[33]')) AS TEXT),
                json_extract(fields, '$[16]')) AS user_agent,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[34]') + 1, json_extract(spans, '$[35]')) AS TEXT),
                json_extract(fields, '$[17]')) AS version_id,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[36]') + 1, json_extract(spans, '$[37]')) AS TEXT),
                json_extract(fields, '$[18]')) AS host_id,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[38]') + 1, json_extract(spans, '$[39]')) AS TEXT),
                json_extract(fields, '$[19]')) AS signature_version,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[40]') + 1, json_extract(spans, '$[41]')) AS TEXT),
                json_extract(fields, '$[20]')) AS cipher_suite,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[42]') + 1, json_extract(spans, '$[43]')) AS TEXT),
                json_extract(fields, '$[21]')) AS auth_type,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[44]') + 1, json_extract(spans, '$[45]')) AS TEXT),
                json_extract(fields, '$[22]')) AS host_header,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[46]') + 1, json_extract(spans, '$[47]')) AS TEXT),
                json_extract(fields, '$[23]')) AS tls_version,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[48]') + 1, json_extract(spans, '$[49]')) AS TEXT),
                json_extract(fields, '$[24]')) AS access_point_arn,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[50]') + 1, json_extract(spans, '$[51]')) AS TEXT),
                json_extract(fields, '$[25]')) AS acl_required,
       coalesce(CAST(substr(CAST(raw AS BLOB), json_extract(spans, '$[52]') + 1, json_extract(spans, '$[53]')) AS TEXT),
                json_extract(fields, '$[26]')) AS source_region,
       extra, field_count, ambiguous, parse_error, raw, fields AS stored_fields, spans
FROM s3_access_lines);
