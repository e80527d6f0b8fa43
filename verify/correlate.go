package verify

// Correlation of S3 server access logs with CloudTrail evidence (issue #4
// part 5).
//
// The access-log lines considered are those whose Key field (percent-
// decoded) contains "AWSLogs/": requests on CloudTrail's own objects. A
// line is CloudTrail's own delivery when its requester is CloudTrail's
// service principal — "svc:cloudtrail.amazonaws.com" (the form S3 logs
// for requests made by an AWS service principal) or
// "cloudtrail.amazonaws.com" (the bare principal, as CloudTrail records
// its own calls in invokedBy), compared case-insensitively — and its
// operation REST.PUT.OBJECT. Any other line whose operation changes or
// copies the object is a correlation finding:
//
//	delete       REST.DELETE.OBJECT, BATCH.DELETE.OBJECT, REST.POST.MULTI_OBJECT_DELETE,
//	             S3.EXPIRE.OBJECT, S3.CREATE.DELETEMARKER (lifecycle)
//	overwrite    REST.PUT.OBJECT, REST.POST.OBJECT, REST.POST.UPLOAD (CompleteMultipartUpload)
//	copy         REST.COPY.OBJECT, REST.COPY.PART (the key is the destination)
//	copy_source  REST.COPY.OBJECT_GET, REST.COPY.PART_GET (the key was copied elsewhere)
//	acl          REST.PUT.ACL, REST.PUT.OBJECT_ACL
//
// Severity: error for a delete, overwrite or copy that succeeded (HTTP
// 2xx); warning for ACL changes, copies out, and requests that failed. The
// finding names the digest and log-file items with that key (bucket and
// AWSLogs/... suffix), and each such item lists the request in
// detail.s3_requests. A request explains an item's status when it
// succeeded and is a delete of a missing item, or an overwrite or copy of
// an item whose content no longer verifies (hash_mismatch,
// signature_invalid, chain_mismatch, format_invalid, trailing_data): the
// item's detail.explained_by lists the request ids and its reason says
// who, when, from which IP, with which request id. When the case holds
// access logs of the item's bucket but none explains such a status, the
// item says so in detail.access_logs, with the caveat that S3 delivers
// server access logs on a best-effort basis, so their silence proves
// nothing.
//
// Tail coverage: CloudTrail deliveries recorded in the access logs after
// a chain's newest digest in the case (request time after its
// digestEndTime), of keys the case lacks — digests of the same trail,
// account, region, organization and prefix, or log files of the same
// account, region, organization and prefix — are a coverage finding.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// FindingCorrelation is an S3 request on a CloudTrail object recorded in
// the access logs (a delete, overwrite, copy or ACL change by anyone but
// CloudTrail's own delivery).
const FindingCorrelation = "correlation"

// cloudTrailRequesters are the requester forms of CloudTrail's own
// deliveries, lower case.
var cloudTrailRequesters = map[string]bool{"svc:cloudtrail.amazonaws.com": true, "cloudtrail.amazonaws.com": true}

// requestClass maps access-log operations to what they do to the key.
var requestClass = map[string]string{
	"REST.DELETE.OBJECT":            "delete",
	"BATCH.DELETE.OBJECT":           "delete",
	"REST.POST.MULTI_OBJECT_DELETE": "delete",
	"S3.EXPIRE.OBJECT":              "delete",
	"S3.CREATE.DELETEMARKER":        "delete",
	"REST.PUT.OBJECT":               "overwrite",
	"REST.POST.OBJECT":              "overwrite",
	"REST.POST.UPLOAD":              "overwrite",
	"REST.COPY.OBJECT":              "copy",
	"REST.COPY.PART":                "copy",
	"REST.COPY.OBJECT_GET":          "copy_source",
	"REST.COPY.PART_GET":            "copy_source",
	"REST.PUT.ACL":                  "acl",
	"REST.PUT.OBJECT_ACL":           "acl",
}

// contentStatuses are the statuses an overwrite or copy explains.
var contentStatuses = map[string]bool{StatusHashMismatch: true, StatusSignatureInvalid: true, StatusChainMismatch: true,
	StatusFormatInvalid: true, StatusTrailingData: true}

// accessLogs is what correlation reads from the case.
type accessLogs struct {
	reqs    []*s3Request
	buckets map[string]store.AccessBucket
}

// s3Request is one access-log line on an AWSLogs/ key.
type s3Request struct {
	store.AccessRequest
	key       string // percent-decoded
	class     string // see requestClass; "" for reads and other operations
	delivery  bool   // CloudTrail's own REST.PUT.OBJECT
	succeeded bool   // HTTP 2xx
	at        time.Time
	timeOK    bool
}

func (q *s3Request) logPath() string {
	if q.Member == "" {
		return q.Path
	}
	return q.Path + "!/" + q.Member
}

func (q *s3Request) describe() verdict.S3Request {
	return verdict.S3Request{Requester: q.Requester, Time: q.Time, RemoteIP: q.RemoteIP, RequestID: q.RequestID,
		Operation: q.Operation, Key: q.key, Bucket: q.Bucket, HTTPStatus: q.HTTPStatus, ErrorCode: q.ErrorCode,
		VersionID: q.VersionID, UserAgent: q.UserAgent, Class: q.class, Succeeded: q.succeeded,
		AccessLog: q.logPath(), Line: q.LineNo, EvidenceID: q.EvidenceID}
}

// toMap is v's JSON object as a map, for a finding's detail.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // a struct of strings, numbers and bools
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func (q *s3Request) words() string {
	return fmt.Sprintf("%s by %s at %s from %s (request id %s, HTTP %s; %s line %d)", q.Operation, q.Requester, q.Time,
		q.RemoteIP, q.RequestID, q.HTTPStatus, q.logPath(), q.LineNo)
}

// loadAccess reads the access-log lines on AWSLogs/ keys.
func (r *run) loadAccess() (*accessLogs, error) {
	bs, err := r.c.AccessBuckets(r.ctx)
	if err != nil {
		return nil, err
	}
	acc := &accessLogs{buckets: map[string]store.AccessBucket{}}
	for _, b := range bs {
		acc.buckets[b.Bucket] = b
	}
	if len(bs) == 0 {
		return acc, nil
	}
	// Only the requests that can change or copy a key are kept (reads
	// explain nothing and are never cited): a trail bucket's access logs
	// hold a read for every time a log file was fetched.
	err = r.c.EachAccessRequestOnKeys(r.ctx, "AWSLogs/", func(a *store.AccessRequest) error {
		q := &s3Request{AccessRequest: *a}
		q.key = q.Key
		if k, err := url.PathUnescape(q.Key); err == nil {
			q.key = k
		}
		if !strings.Contains(q.key, "AWSLogs/") {
			return nil
		}
		q.class = requestClass[q.Operation]
		if q.class == "" {
			return nil
		}
		q.succeeded = strings.HasPrefix(q.HTTPStatus, "2")
		q.delivery = cloudTrailRequesters[strings.ToLower(q.Requester)] && q.Operation == "REST.PUT.OBJECT"
		if q.Time != "" {
			if t, err := awstime.Parse(q.Time); err == nil {
				q.at, q.timeOK = t, true
			}
		}
		acc.reqs = append(acc.reqs, q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// correlator links the access-log requests on AWSLogs/ keys to the
// digest and log items they touched, item by item as the run emits them
// (each item is final once emitted), and makes the findings at the end.
type correlator struct {
	acc      *accessLogs
	bySuffix map[string][]*s3Request // requests that change or copy a key, by its AWSLogs/ suffix
	touched  map[*s3Request][]touch
	silent   map[string]int // bucket -> items no request explains
}

// touch is an item a request touched, as the finding names it.
type touch struct {
	kind, bucket, key, status, path string
	account, region, trail          string
	evidenceID                      int64
	explained                       bool
}

func newCorrelator(acc *accessLogs) *correlator {
	k := &correlator{acc: acc, bySuffix: map[string][]*s3Request{}, touched: map[*s3Request][]touch{}, silent: map[string]int{}}
	if acc == nil {
		return k
	}
	for _, q := range acc.reqs {
		if !q.delivery && q.class != "" {
			s := awsLogsSuffix(q.key)
			k.bySuffix[s] = append(k.bySuffix[s], q)
		}
	}
	return k
}

// item attaches to a digest or log item the requests on its key (in
// detail.s3_requests), the ones that explain its status (detail.explained_by
// and its reason), and, when none does in a bucket whose access logs the
// case holds, says that their silence proves nothing (detail.access_logs).
func (k *correlator) item(it *Item) {
	if k.acc == nil || len(k.acc.buckets) == 0 || it.Kind != KindDigest && it.Kind != KindLog || it.S3Key == "" {
		return
	}
	explained := false
	for _, q := range k.bySuffix[awsLogsSuffix(it.S3Key)] {
		if it.S3Bucket != "" && q.Bucket != "" && q.Bucket != "-" && it.S3Bucket != q.Bucket {
			continue
		}
		c := it.Detail.Shared()
		if c.S3Requests == nil {
			c.S3Requests = &[]verdict.S3Request{}
		}
		*c.S3Requests = append(*c.S3Requests, q.describe())
		ex := q.succeeded && (q.class == "delete" && it.Status == StatusMissing ||
			(q.class == "overwrite" || q.class == "copy") && contentStatuses[it.Status])
		if ex {
			explained = true
			c.ExplainedBy = append(c.ExplainedBy, q.RequestID)
			c.Reason = strings.TrimPrefix(c.Reason+"; ", "; ") + "explained by " + q.words()
		}
		k.touched[q] = append(k.touched[q], touch{kind: it.Kind, bucket: it.S3Bucket, key: it.S3Key, status: it.Status,
			path: it.Path, account: it.Account, region: it.Region, trail: it.Trail, evidenceID: it.EvidenceID, explained: ex})
	}
	if explained || !(it.Status == StatusMissing || contentStatuses[it.Status]) {
		return
	}
	b, ok := k.acc.buckets[it.S3Bucket]
	if !ok {
		return
	}
	c := it.Detail.Shared()
	if c.S3Requests == nil {
		c.S3Requests = &[]verdict.S3Request{}
	}
	c.AccessLogs = fmt.Sprintf("the case holds %d access-log lines of bucket %s (%s to %s) and none records a request that deleted or overwrote this key; S3 server access logs are delivered on a best-effort basis, so their silence does not show that no such request was made",
		b.Lines, b.Bucket, b.First, b.Last)
	k.silent[b.Bucket]++
}

// findings makes one correlation finding per request that changes or
// copies an AWSLogs/ key, naming every item it touched (in report order),
// and returns the summary notes.
func (k *correlator) findings(r *run) []string {
	if k.acc == nil || len(k.acc.buckets) == 0 {
		return nil
	}
	for _, q := range k.acc.reqs {
		if q.delivery || q.class == "" {
			continue
		}
		ts := k.touched[q]
		sort.SliceStable(ts, func(i, j int) bool {
			a, b := ts[i], ts[j]
			return reportLess(a.kind, a.key, a.path, b.kind, b.key, b.path)
		})
		refs := []map[string]any{}
		var explains []string
		for _, t := range ts {
			refs = append(refs, map[string]any{"kind": t.kind, "s3_bucket": t.bucket, "s3_key": t.key,
				"status": t.status, "path": t.path, "evidence_id": t.evidenceID, "explained": t.explained})
			if t.explained {
				explains = append(explains, fmt.Sprintf("the %s %s %s", t.status, t.kind, t.key))
			}
		}
		sev := SeverityWarning
		if q.succeeded && (q.class == "delete" || q.class == "overwrite" || q.class == "copy") {
			sev = SeverityError
		}
		what := "no digest or log file of the case has this key"
		switch {
		case len(explains) > 0:
			what = "explains " + strings.Join(explains, ", ")
		case len(ts) > 0:
			what = fmt.Sprintf("touches %s %s (status %s)", ts[0].kind, ts[0].key, ts[0].status)
		}
		verb := ""
		if !q.succeeded {
			verb = "attempted (failed) "
		}
		f := Finding{Type: FindingCorrelation, Severity: sev, Start: q.Time, End: q.Time,
			Summary: fmt.Sprintf("%s%s of s3://%s/%s by %s at %s from %s (request id %s, HTTP %s): %s",
				verb, q.Operation, q.Bucket, q.key, q.Requester, q.Time, q.RemoteIP, q.RequestID, q.HTTPStatus, what),
			Detail: toMap(q.describe())}
		f.Detail["touched"] = refs
		f.Detail["explains"] = len(explains) > 0
		if len(ts) > 0 {
			f.Account, f.Region, f.Trail = ts[0].account, ts[0].region, ts[0].trail
		}
		r.addFinding(f)
	}
	var notes []string
	for _, b := range sortedKeys(k.silent) {
		notes = append(notes, fmt.Sprintf("%d missing or changed digests and log files of bucket %s have no request in its access logs that explains them; S3 server access logs are delivered on a best-effort basis, so this does not show that no such request was made",
			k.silent[b], b))
	}
	return notes
}

// tailFromAccess reports CloudTrail deliveries after each chain's newest
// digest of keys the case lacks.
func (r *run) tailFromAccess(acc *accessLogs) error {
	if acc == nil || len(acc.buckets) == 0 {
		return nil
	}
	type delivered struct {
		q  *s3Request
		ki cloudtrail.KeyInfo
	}
	var ds []delivered
	for _, q := range acc.reqs {
		if !q.delivery || !q.succeeded || !q.timeOK {
			continue
		}
		present, err := r.x.IsPresent(r.ctx, awsLogsSuffix(q.key))
		if err != nil {
			return err
		}
		if present {
			continue
		}
		if ki, ok := cloudtrail.ParseKey(q.key); ok && !ki.FileNameOnly {
			ds = append(ds, delivered{q, ki})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	all := append([]chainID{}, r.chainIDs...)
	sort.Slice(all, func(i, j int) bool { return all[i].String() < all[j].String() })
	for _, c := range all {
		n := r.newest[c]
		if c.Backfill || n == nil {
			continue
		}
		var digests []string
		var list []map[string]any
		logs := 0
		last := n.end
		for _, d := range ds {
			ki, q := d.ki, d.q
			if ki.Account != c.Account || ki.Region != c.Region || ki.OrgID != c.OrgID || ki.Prefix != c.Prefix ||
				(q.Bucket != "" && q.Bucket != "-" && c.Bucket != "" && q.Bucket != c.Bucket) || !q.at.After(n.end) {
				continue
			}
			switch ki.Type {
			case cloudtrail.TypeDigest:
				if ki.Trail != c.Trail || ki.Backfill {
					continue
				}
				digests = append(digests, q.key)
			case cloudtrail.TypeLog:
				logs++
			default:
				continue
			}
			if q.at.After(last) {
				last = q.at
			}
			list = append(list, toMap(q.describe()))
		}
		if len(list) == 0 {
			continue
		}
		if digests == nil {
			digests = []string{}
		}
		r.addFinding(Finding{Type: FindingCoverage, Severity: SeverityError, Chain: c.String(),
			Account: c.Account, Region: c.Region, Trail: c.Trail, Start: fmtTime(n.end), End: fmtTime(last),
			Summary: fmt.Sprintf("chain %s: the S3 access logs record %d CloudTrail deliveries after its newest digest %s (ends %s) of objects the case lacks (%d digests, %d log files), up to %s: the newest digests and logs may have been deleted (tail truncation) or delivered after the evidence was collected",
				c, len(list), n.key, fmtTime(n.end), len(digests), logs, fmtTime(last)),
			Detail: map[string]any{"source": "s3_access_logs", "newest_digest": n.key, "newest_digest_end": fmtTime(n.end),
				"evidence_until": fmtTime(last), "digests_delivered": digests, "log_files_delivered": logs, "deliveries": list}})
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
