package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/store"
)

const timelineUsage = `Usage: forensic timeline --case CASE.db [--from TIME] [--to TIME] [filters] [--json|--csv]

CloudTrail events and S3 server access-log records merged in time order.
Every row names the evidence file it came from and whether that file is
verified (a CloudTrail log whose content hash matches a digest whose
signature verified; access logs are not signed, so they are never
verified). Run 'forensic verify' first to have verification statuses.

--from and --to (RFC 3339, or a date) bound the times, --to exclusive;
without them the timeline spans the whole case.

Filters:
  --principal P       CloudTrail principal (userIdentity.arn, principalId or
                      invokedBy) or access-log requester: a whole ARN
                      (arn:...) matches exactly that principal; anything
                      else matches principals and user names that contain
                      it, ignoring case (--principal ops-admin)
  --event-name N      only CloudTrail events of that eventName
  --account ID        only CloudTrail events of that account (recipient or caller)
  --region R          only CloudTrail events of that region
  --ip IP             source IP address / remote IP
  --bucket B          requestParameters.bucketName / access-log bucket
  --key-prefix P      requestParameters.key / access-log key starts with P
  --verified-only     only events from verified CloudTrail log files

Output: a table (a value holding control, bidi or invisible characters or
a lookalike slash is printed quoted, with those characters escaped);
--json prints one JSON object per line; --csv prints CSV with the columns
Timesketch imports (message, datetime, timestamp_desc) followed by the
fields. --json and --csv keep the exact values.

Examples:
  forensic timeline --case case.db --principal ops-admin
  forensic timeline --case case.db --from 2024-03-04T00:00Z --to 2024-03-05T00:00Z
  forensic timeline --case case.db --from 2024-03-04 --to 2024-03-05 --bucket my-bucket --csv > timeline.csv
`

type timelineOptions struct {
	casePath                         string
	from, to                         string
	principal, ip, bucket, keyPrefix string
	eventName, account, region       string
	verifiedOnly, json, csv          bool
}

// timelineRow is one row of the merged timeline.
type timelineRow struct {
	Message       string `json:"message"`
	Datetime      string `json:"datetime"`
	TimestampDesc string `json:"timestamp_desc"`
	Timestamp     int64  `json:"timestamp"` // microseconds since the epoch (Timesketch)
	Source        string `json:"source"`    // cloudtrail | s3_access
	Action        string `json:"action"`    // eventName / operation
	Service       string `json:"service,omitempty"`
	Principal     string `json:"principal"`
	SourceIP      string `json:"source_ip"`
	Region        string `json:"region,omitempty"`
	Bucket        string `json:"bucket,omitempty"`
	Key           string `json:"key,omitempty"`
	Status        string `json:"status,omitempty"` // errorCode / HTTP status
	RequestID     string `json:"request_id,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	EvidencePath  string `json:"evidence_path"`
	EvidenceItem  string `json:"evidence_member,omitempty"`
	EvidenceSHA   string `json:"evidence_sha256"`
	RecordIndex   int64  `json:"record_index"` // record in the file, or access-log line number
	Verification  string `json:"verification"` // the log file's status, "not verified" or "not signed"
	Verified      bool   `json:"verified"`
	Detection     string `json:"detection"` // the rules the last forensic detect found the event by ("; " between)
}

var timelineColumns = []string{"message", "datetime", "timestamp_desc", "timestamp", "source", "action", "service", "principal",
	"source_ip", "region", "bucket", "key", "status", "request_id", "event_id", "evidence_path", "evidence_member",
	"evidence_sha256", "record_index", "verification", "verified", "detection"}

func (r *timelineRow) fields() []string {
	return []string{r.Message, r.Datetime, r.TimestampDesc, fmt.Sprint(r.Timestamp), r.Source, r.Action, r.Service, r.Principal, r.SourceIP,
		r.Region, r.Bucket, r.Key, r.Status, r.RequestID, r.EventID, r.EvidencePath, r.EvidenceItem, r.EvidenceSHA,
		fmt.Sprint(r.RecordIndex), r.Verification, fmt.Sprint(r.Verified), r.Detection}
}

func cmdTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o timelineOptions
	fs := newFlagSet("timeline", timelineUsage, stderr)
	fs.StringVar(&o.casePath, "case", "", "case file (required)")
	fs.StringVar(&o.from, "from", "", "start time, inclusive (RFC 3339, e.g. 2024-03-04T00:00Z; default: the case's first)")
	fs.StringVar(&o.to, "to", "", "end time, exclusive (default: after the case's last)")
	fs.StringVar(&o.principal, "principal", "", "only this principal / requester (a whole ARN exactly, else a part of it or of the user name)")
	fs.StringVar(&o.eventName, "event-name", "", "only CloudTrail events of this eventName")
	fs.StringVar(&o.account, "account", "", "only CloudTrail events of this account")
	fs.StringVar(&o.region, "region", "", "only CloudTrail events of this region")
	fs.StringVar(&o.ip, "ip", "", "only this source IP")
	fs.StringVar(&o.bucket, "bucket", "", "only this bucket")
	fs.StringVar(&o.keyPrefix, "key-prefix", "", "only object keys starting with this")
	fs.BoolVar(&o.verifiedOnly, "verified-only", false, "only events from verified CloudTrail log files")
	fs.BoolVar(&o.json, "json", false, "JSON lines")
	fs.BoolVar(&o.csv, "csv", false, "CSV with Timesketch columns")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.casePath == "" {
		return usagef("timeline: --case is required")
	}
	if o.json && o.csv {
		return usagef("timeline: choose one of --json and --csv")
	}
	var from, to time.Time
	var err error
	if o.from != "" {
		if from, err = parseTimeFlag(o.from); err != nil {
			return usagef("timeline: --from: %v", err)
		}
	}
	if o.to != "" {
		if to, err = parseTimeFlag(o.to); err != nil {
			return usagef("timeline: --to: %v", err)
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return usagef("timeline: --to must be after --from")
	}
	c, err := store.OpenReadOnly(ctx, o.casePath)
	if err != nil {
		return usagef("timeline: %v", err)
	}
	defer c.Close()
	if o.verifiedOnly {
		if u, err := c.CheckVerified(ctx, 1); err == nil && u.Any() && !u.Verified {
			fmt.Fprintf(stderr, "forensic: warning: --verified-only: %s, so no event is verified and the timeline is empty; run forensic verify --case %s --public-keys KEYS first\n",
				display.Quote(u.Reason()), display.Quote(o.casePath))
		}
	}
	return runTimeline(ctx, c, o, from, to, stdout)
}

// parseTimeFlag accepts RFC 3339 with or without seconds ("2024-03-04T00:00Z")
// and plain dates.
func parseTimeFlag(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return awstime.Parse(s)
}

func runTimeline(ctx context.Context, c *store.Case, o timelineOptions, from, to time.Time, w io.Writer) error {
	var emit func(*timelineRow) error
	var flush func() error
	switch {
	case o.json:
		enc := json.NewEncoder(w)
		emit = func(r *timelineRow) error { return enc.Encode(r) }
		flush = func() error { return nil }
	case o.csv:
		cw := csv.NewWriter(w)
		cw.Write(timelineColumns)
		emit = func(r *timelineRow) error { return cw.Write(r.fields()) }
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tSOURCE\tACTION\tPRINCIPAL\tSOURCE IP\tBUCKET/KEY\tSTATUS\tVERIFICATION\tEVIDENCE\tDETECTION")
		emit = func(r *timelineRow) error {
			obj := r.Bucket
			if r.Key != "" && r.Key != "-" {
				obj += "/" + r.Key
			}
			ev := r.EvidencePath
			if r.EvidenceItem != "" {
				ev += "!/" + r.EvidenceItem
			}
			q := display.Quote
			_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s#%d\t%s\n", q(r.Datetime), q(r.Source), q(r.Action),
				q(r.Principal), q(r.SourceIP), q(obj), q(r.Status), q(r.Verification), q(ev), r.RecordIndex, q(r.Detection))
			return err
		}
		flush = tw.Flush
	}
	f := store.TimelineFilter{From: from, To: to, Principal: o.principal, IP: o.ip, Bucket: o.bucket, KeyPrefix: o.keyPrefix,
		VerifiedOnly: o.verifiedOnly, EventName: o.eventName, Account: o.account, Region: o.region}
	err := c.EachTimelineRecord(ctx, f, func(rec store.TimelineRecord) error {
		r := timelineRow{Datetime: rec.Time, Source: rec.Source, Action: rec.Action, Service: rec.Service,
			Principal: rec.Principal, SourceIP: rec.SourceIP, Region: rec.Region, Bucket: rec.Bucket, Key: rec.Key,
			Status: rec.Status, RequestID: rec.RequestID, EventID: rec.EventID, EvidencePath: rec.EvidencePath,
			EvidenceItem: rec.EvidenceMember, EvidenceSHA: rec.EvidenceSHA256, RecordIndex: rec.RecordIndex, Detection: rec.Detections}
		fillTimelineRow(&r, rec.LogStatus, rec.Verifiable)
		return emit(&r)
	})
	if err != nil {
		return err
	}
	return flush()
}

func fillTimelineRow(r *timelineRow, status string, verifiable bool) {
	if t, err := time.Parse(time.RFC3339, r.Datetime); err == nil {
		r.Timestamp = t.UnixMicro()
	}
	switch r.Source {
	case "cloudtrail":
		r.TimestampDesc = "Event Recorded"
		r.Message = fmt.Sprintf("%s %s by %s from %s", r.Service, r.Action, orDash(r.Principal), orDash(r.SourceIP))
		switch {
		case status != "":
			r.Verification = status
		case !verifiable:
			r.Verification = "not verifiable (export format carries no digest)"
		default:
			r.Verification = "not verified"
		}
		r.Verified = status == "valid"
	default:
		r.TimestampDesc = "Request Received"
		r.Message = fmt.Sprintf("S3 %s %s/%s by %s from %s (%s)", r.Action, r.Bucket, r.Key, orDash(r.Principal), orDash(r.SourceIP), r.Status)
		r.Verification = "not signed (S3 server access log)"
	}
	if r.Status != "" && r.Source == "cloudtrail" {
		r.Message += " error " + r.Status
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
