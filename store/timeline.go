package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TimelineFilter selects the records of a timeline: those with a time in
// [From, To) and, for each field that is set, that value.
type TimelineFilter struct {
	From, To time.Time // zero: no bound
	// Principal is a CloudTrail principal (ct_events.principal) or an
	// access-log requester: exactly that one when it is a whole ARN
	// ("arn:..."), else any whose principal (or CloudTrail user name)
	// contains it, case-insensitively ("ops-admin").
	Principal string
	// EventName, Account (recipient or caller account) and Region keep
	// CloudTrail events with that value, and no access-log record.
	EventName, Account, Region string
	IP                         string // source IP / remote IP
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
  WHERE (?1 = '' OR e.event_time >= ?1) AND (?2 = '' OR e.event_time < ?2)
    AND (?3 = '' OR CASE WHEN ?8 THEN e.principal = ?3
         ELSE instr(lower(coalesce(e.principal, '')), lower(?3)) > 0 OR instr(lower(coalesce(e.user_name, '')), lower(?3)) > 0 END)
    AND (?9 = '' OR e.event_name = ?9)
    AND (?10 = '' OR e.recipient_account_id = ?10 OR e.account_id = ?10)
    AND (?11 = '' OR e.aws_region = ?11)
    AND (?4 = '' OR e.source_ip = ?4)
    AND (?5 = '' OR json_extract(e.raw, '$.requestParameters.bucketName') = ?5)
    AND (?6 = '' OR substr(coalesce(json_extract(e.raw, '$.requestParameters.key'), ''), 1, length(?6)) = ?6)
    AND (?7 = 0 OR s.status = 'valid')
  UNION ALL
  SELECT a.time, 's3_access', a.operation, 's3.amazonaws.com', a.requester, a.remote_ip, '',
         a.bucket, a.key, a.http_status || CASE WHEN a.error_code NOT IN ('', '-') THEN ' ' || a.error_code ELSE '' END,
         a.request_id, '', v.path, v.member, v.sha256, a.line_no, '', 0, ''
  FROM s3_access a JOIN evidence v ON v.id = a.evidence_id
  WHERE ?7 = 0 AND ?9 = '' AND ?10 = '' AND ?11 = ''
    AND (?1 = '' OR a.time >= ?1) AND (?2 = '' OR a.time < ?2)
    AND (?3 = '' OR CASE WHEN ?8 THEN a.requester = ?3 ELSE instr(lower(a.requester), lower(?3)) > 0 END)
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
	bound := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	exact := strings.HasPrefix(f.Principal, "arn:")
	rows, err := c.db.QueryContext(ctx, fmt.Sprintf(timelineSQL, det), bound(f.From), bound(f.To),
		f.Principal, f.IP, f.Bucket, f.KeyPrefix, verified, exact, f.EventName, f.Account, f.Region)
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
