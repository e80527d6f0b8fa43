package store

import (
	"context"
	"fmt"
	"time"
)

// TimelineFilter selects the records of a timeline: those with a time in
// [From, To) and, for each field that is set, that value.
type TimelineFilter struct {
	From, To time.Time
	// Principal is a CloudTrail principal (ct_events.principal) or an
	// access-log requester.
	Principal string
	IP        string // source IP / remote IP
	// Bucket is requestParameters.bucketName or an access-log bucket.
	Bucket string
	// KeyPrefix: requestParameters.key or an access-log key starts with
	// it.
	KeyPrefix string
	// VerifiedOnly keeps only CloudTrail events of log files whose
	// verification status is valid (so no access-log record).
	VerifiedOnly bool
}

// TimelineRecord is one CloudTrail event or S3 server access-log record
// of a timeline, with the evidence file it came from. Text columns the
// case holds as NULL are "".
type TimelineRecord struct {
	Time      string // event_time / access-log time, as recorded (RFC 3339)
	Source    string // "cloudtrail" or "s3_access"
	Action    string // eventName / operation
	Service   string // eventSource; "s3.amazonaws.com" for access logs
	Principal string // principal / requester
	SourceIP  string // sourceIPAddress / remote IP
	Region    string // awsRegion ("" for access logs)
	Bucket    string // requestParameters.bucketName / bucket
	Key       string // requestParameters.key / key
	// Status is the errorCode of an event, or an access-log record's HTTP
	// status followed by its error code when it has one ("403
	// AccessDenied").
	Status         string
	RequestID      string
	EventID        string // "" for access logs
	EvidencePath   string
	EvidenceMember string
	EvidenceSHA256 string
	RecordIndex    int64 // record in the log file, or access-log line number
	// LogStatus is the verification status of the event's log file
	// (item_status of kind log); "" when it has none, and for access logs.
	LogStatus  string
	Verifiable bool // ct_events.verifiable; false for access logs
	// Detections are the titles of the rules the last forensic detect
	// found the event by, sorted, joined by "; " ("" for none, and for
	// access logs).
	Detections string
}

// timelineSQL merges ct_events and s3_access, each row with its evidence
// file, in the order of EachTimelineRecord; %s is the detections of an
// event (timelineDetections, or ” in a case made before detect existed,
// opened read-only).
const timelineSQL = `
SELECT * FROM (
  SELECT e.event_time AS t, 'cloudtrail' AS src, coalesce(e.event_name, ''), coalesce(e.event_source, ''),
         coalesce(e.principal, ''), coalesce(e.source_ip, ''), coalesce(e.aws_region, ''),
         coalesce(json_extract(e.raw, '$.requestParameters.bucketName'), ''),
         coalesce(json_extract(e.raw, '$.requestParameters.key'), ''),
         coalesce(e.error_code, ''), coalesce(e.request_id, ''), coalesce(e.event_id, ''),
         v.path, v.member, v.sha256, e.record_index, coalesce(s.status, ''), e.verifiable, %s
  FROM ct_events e JOIN evidence v ON v.id = e.evidence_id
  LEFT JOIN item_status s ON s.evidence_id = e.evidence_id AND s.kind = 'log'
  WHERE e.event_time >= ?1 AND e.event_time < ?2
    AND (?3 = '' OR e.principal = ?3)
    AND (?4 = '' OR e.source_ip = ?4)
    AND (?5 = '' OR json_extract(e.raw, '$.requestParameters.bucketName') = ?5)
    AND (?6 = '' OR substr(coalesce(json_extract(e.raw, '$.requestParameters.key'), ''), 1, length(?6)) = ?6)
    AND (?7 = 0 OR s.status = 'valid')
  UNION ALL
  SELECT a.time, 's3_access', a.operation, 's3.amazonaws.com', a.requester, a.remote_ip, '',
         a.bucket, a.key, a.http_status || CASE WHEN a.error_code NOT IN ('', '-') THEN ' ' || a.error_code ELSE '' END,
         a.request_id, '', v.path, v.member, v.sha256, a.line_no, '', 0, ''
  FROM s3_access a JOIN evidence v ON v.id = a.evidence_id
  WHERE ?7 = 0 AND a.time >= ?1 AND a.time < ?2
    AND (?3 = '' OR a.requester = ?3)
    AND (?4 = '' OR a.remote_ip = ?4)
    AND (?5 = '' OR a.bucket = ?5)
    AND (?6 = '' OR substr(a.key, 1, length(?6)) = ?6)
) ORDER BY 1, 2, 13, 16`

// timelineDetections is the titles of the rules whose hits name event e.
const timelineDetections = `coalesce((SELECT group_concat(title, '; ') FROM (SELECT DISTINCT d.rule_title AS title
	FROM detections d WHERE d.event_row = e.id ORDER BY 1)), '')`

// EachTimelineRecord calls fn for every CloudTrail event and S3 server
// access-log record f selects, in time order, then by source
// ("cloudtrail" before "s3_access"), evidence path and record index. Times
// are compared as text, From and To formatted as RFC 3339 in UTC. It
// streams: nothing is held; an error of fn stops it and is returned.
func (c *Case) EachTimelineRecord(ctx context.Context, f TimelineFilter, fn func(TimelineRecord) error) error {
	verified := 0
	if f.VerifiedOnly {
		verified = 1
	}
	det := "''"
	if ok, err := c.tableExists(ctx, "detections"); err != nil {
		return err
	} else if ok {
		det = timelineDetections
	}
	rows, err := c.db.QueryContext(ctx, fmt.Sprintf(timelineSQL, det), f.From.UTC().Format(time.RFC3339), f.To.UTC().Format(time.RFC3339),
		f.Principal, f.IP, f.Bucket, f.KeyPrefix, verified)
	if err != nil {
		return fmt.Errorf("timeline query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r TimelineRecord
		var verifiable int
		if err := rows.Scan(&r.Time, &r.Source, &r.Action, &r.Service, &r.Principal, &r.SourceIP, &r.Region,
			&r.Bucket, &r.Key, &r.Status, &r.RequestID, &r.EventID, &r.EvidencePath, &r.EvidenceMember, &r.EvidenceSHA256,
			&r.RecordIndex, &r.LogStatus, &verifiable, &r.Detections); err != nil {
			return err
		}
		r.Verifiable = verifiable == 1
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
