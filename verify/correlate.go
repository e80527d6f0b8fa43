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

// accessLogs is what correlation reads from the case: the buckets whose
// access logs it holds, and, in the scratch tables, the requests on
// AWSLogs/ keys that can change or copy a key (store.RequestWriter).
type accessLogs struct {
	buckets  map[string]store.AccessBucket
	requests int             // requests other than CloudTrail's deliveries
	suffixes map[string]bool // their keys' AWSLogs/ suffixes, when not too many to hold (else nil)
	touch    *store.TouchWriter
}

// maxHeldSuffixes is how many distinct keys of requests correlation holds
// in memory to skip the items no request touches; beyond it every item
// asks the scratch tables (a variable for tests).
var maxHeldSuffixes = 100000

// s3Request is one access-log line on an AWSLogs/ key that can change or
// copy it.
type s3Request struct {
	verdict.S3Request // Key percent-decoded; Class see requestClass; Succeeded: HTTP 2xx
	seq               int64
	delivery          bool // CloudTrail's own REST.PUT.OBJECT
	at                time.Time
	timeOK            bool
}

// decodeRequest reads back a request the scratch tables hold.
func decodeRequest(sr store.StoredRequest, delivery bool) (*s3Request, error) {
	q := &s3Request{seq: sr.Seq, delivery: delivery}
	var err error
	if q.S3Request, err = decodeRequestRow(sr.Body); err != nil {
		return nil, fmt.Errorf("verify's working tables: request %d: %w", sr.Seq, err)
	}
	if q.Time != "" {
		if t, err := awstime.Parse(q.Time); err == nil {
			q.at, q.timeOK = t, true
		}
	}
	return q, nil
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
		q.RemoteIP, q.RequestID, q.HTTPStatus, q.AccessLog, q.Line)
}

// loadAccess records the access-log lines on AWSLogs/ keys that can
// change or copy a key in the scratch tables. The lines are read through
// a connection of their own, so that the scratch connection takes them
// as they stream by.
func (r *run) loadAccess() (*accessLogs, error) {
	ctx := r.ctx
	bs, err := r.c.AccessBuckets(ctx)
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
	lines, err := store.OpenReadOnly(ctx, r.c.Path)
	if err != nil {
		return nil, err
	}
	defer lines.Close()
	w, err := r.x.RequestWriter(ctx)
	if err != nil {
		return nil, err
	}
	// Only the requests that can change or copy a key are kept (reads
	// explain nothing and are never cited): a trail bucket's access logs
	// hold a read for every time a log file was fetched.
	err = lines.EachAccessRequestOnKeys(ctx, "AWSLogs/", func(a *store.AccessRequest) error {
		key := a.Key
		if k, err := url.PathUnescape(key); err == nil {
			key = k
		}
		if !strings.Contains(key, "AWSLogs/") {
			return nil
		}
		class := requestClass[a.Operation]
		if class == "" {
			return nil
		}
		logPath := a.Path
		if a.Member != "" {
			logPath += "!/" + a.Member
		}
		q := verdict.S3Request{Requester: a.Requester, Time: a.Time, RemoteIP: a.RemoteIP, RequestID: a.RequestID,
			Operation: a.Operation, Key: key, Bucket: a.Bucket, HTTPStatus: a.HTTPStatus, ErrorCode: a.ErrorCode,
			VersionID: a.VersionID, UserAgent: a.UserAgent, Class: class, Succeeded: strings.HasPrefix(a.HTTPStatus, "2"),
			AccessLog: logPath, Line: a.LineNo, EvidenceID: a.EvidenceID}
		delivery := cloudTrailRequesters[strings.ToLower(a.Requester)] && a.Operation == "REST.PUT.OBJECT"
		body := encodeRequest(q)
		if !delivery {
			acc.requests++
		}
		return w.Add(ctx, awsLogsSuffix(key), delivery, body)
	})
	if err != nil {
		return nil, err
	}
	if err := w.Close(ctx); err != nil {
		return nil, err
	}
	acc.touch = r.x.TouchWriter()
	if acc.requests > 0 {
		ss, ok, err := r.x.RequestSuffixes(ctx, maxHeldSuffixes)
		if err != nil {
			return nil, err
		}
		if ok {
			acc.suffixes = make(map[string]bool, len(ss))
			for _, s := range ss {
				acc.suffixes[s] = true
			}
		}
	}
	return acc, nil
}

// correlator links the access-log requests on AWSLogs/ keys to the
// digest and log items they touched, item by item as the run emits them
// (each item is final once emitted; what each request touched goes to
// the scratch tables), and makes the findings at the end.
type correlator struct {
	r      *run
	acc    *accessLogs
	silent map[string]int // bucket -> items no request explains
}

// touch is an item a request touched, as the finding names it (kept in
// the working tables through encodeTouch).
type touch struct {
	Kind, Bucket, Key, Status, Path string
	EvidenceID                      int64
	Explained                       bool
	Account, Region, Trail          string
}

func newCorrelator(r *run, acc *accessLogs) *correlator {
	return &correlator{r: r, acc: acc, silent: map[string]int{}}
}

// item attaches to a digest or log item the requests on its key (in
// detail.s3_requests), the ones that explain its status (detail.explained_by
// and its reason), and, when none does in a bucket whose access logs the
// case holds, says that their silence proves nothing (detail.access_logs).
func (k *correlator) item(it *Item) error {
	if k.acc == nil || len(k.acc.buckets) == 0 || it.Kind != KindDigest && it.Kind != KindLog || it.S3Key == "" {
		return nil
	}
	ctx := k.r.ctx
	explained := false
	suffix := awsLogsSuffix(it.S3Key)
	if k.acc.requests > 0 && (k.acc.suffixes == nil || k.acc.suffixes[suffix]) {
		reqs, err := k.r.x.RequestsOn(ctx, suffix)
		if err != nil {
			return err
		}
		for _, sr := range reqs {
			q, err := decodeRequest(sr, false)
			if err != nil {
				return err
			}
			if it.S3Bucket != "" && q.Bucket != "" && q.Bucket != "-" && it.S3Bucket != q.Bucket {
				continue
			}
			c := it.Detail.Shared()
			if c.S3Requests == nil {
				c.S3Requests = &[]verdict.S3Request{}
			}
			*c.S3Requests = append(*c.S3Requests, q.S3Request)
			ex := q.Succeeded && (q.Class == "delete" && it.Status == StatusMissing ||
				(q.Class == "overwrite" || q.Class == "copy") && contentStatuses[it.Status])
			if ex {
				explained = true
				c.ExplainedBy = append(c.ExplainedBy, q.RequestID)
				c.Reason = strings.TrimPrefix(c.Reason+"; ", "; ") + "explained by " + q.words()
			}
			body := encodeTouch(touch{Kind: it.Kind, Bucket: it.S3Bucket, Key: it.S3Key, Status: it.Status,
				Path: it.Path, Account: it.Account, Region: it.Region, Trail: it.Trail, EvidenceID: it.EvidenceID, Explained: ex})
			if err := k.acc.touch.Add(ctx, q.seq, kindOrder[it.Kind], it.S3Key, it.Path, body); err != nil {
				return err
			}
		}
	}
	if explained || !(it.Status == StatusMissing || contentStatuses[it.Status]) {
		return nil
	}
	b, ok := k.acc.buckets[it.S3Bucket]
	if !ok {
		return nil
	}
	c := it.Detail.Shared()
	if c.S3Requests == nil {
		c.S3Requests = &[]verdict.S3Request{}
	}
	c.AccessLogs = fmt.Sprintf("the case holds %d access-log lines of bucket %s (%s to %s) and none records a request that deleted or overwrote this key; S3 server access logs are delivered on a best-effort basis, so their silence does not show that no such request was made",
		b.Lines, b.Bucket, b.First, b.Last)
	k.silent[b.Bucket]++
	return nil
}

// findings makes one correlation finding per request that changes or
// copies an AWSLogs/ key, naming every item it touched (in report order),
// and returns the summary notes.
func (k *correlator) findings() ([]string, error) {
	if k.acc == nil || len(k.acc.buckets) == 0 {
		return nil, nil
	}
	r, ctx := k.r, k.r.ctx
	if err := k.acc.touch.Flush(ctx); err != nil {
		return nil, err
	}
	err := r.x.RequestPages(ctx, false, func(page []store.StoredRequest) error {
		for _, sr := range page {
			q, err := decodeRequest(sr, false)
			if err != nil {
				return err
			}
			bodies, err := r.x.Touches(ctx, q.seq)
			if err != nil {
				return err
			}
			ts := make([]touch, len(bodies))
			for i, b := range bodies {
				if ts[i], err = decodeTouch(b); err != nil {
					return fmt.Errorf("verify's working tables: touch of request %d: %w", q.seq, err)
				}
			}
			r.addFinding(correlationFinding(q, ts))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var notes []string
	for _, b := range sortedKeys(k.silent) {
		notes = append(notes, fmt.Sprintf("%d missing or changed digests and log files of bucket %s have no request in its access logs that explains them; S3 server access logs are delivered on a best-effort basis, so this does not show that no such request was made",
			k.silent[b], b))
	}
	return notes, nil
}

// correlationFinding is the finding of request q, which touched ts (in
// report order).
func correlationFinding(q *s3Request, ts []touch) Finding {
	refs := []map[string]any{}
	var explains []string
	for _, t := range ts {
		refs = append(refs, map[string]any{"kind": t.Kind, "s3_bucket": t.Bucket, "s3_key": t.Key,
			"status": t.Status, "path": t.Path, "evidence_id": t.EvidenceID, "explained": t.Explained})
		if t.Explained {
			explains = append(explains, fmt.Sprintf("the %s %s %s", t.Status, t.Kind, t.Key))
		}
	}
	sev := SeverityWarning
	if q.Succeeded && (q.Class == "delete" || q.Class == "overwrite" || q.Class == "copy") {
		sev = SeverityError
	}
	what := "no digest or log file of the case has this key"
	switch {
	case len(explains) > 0:
		what = "explains " + strings.Join(explains, ", ")
	case len(ts) > 0:
		what = fmt.Sprintf("touches %s %s (status %s)", ts[0].Kind, ts[0].Key, ts[0].Status)
	}
	verb := ""
	if !q.Succeeded {
		verb = "attempted (failed) "
	}
	f := Finding{Type: FindingCorrelation, Severity: sev, Start: q.Time, End: q.Time,
		Summary: fmt.Sprintf("%s%s of s3://%s/%s by %s at %s from %s (request id %s, HTTP %s): %s",
			verb, q.Operation, q.Bucket, q.Key, q.Requester, q.Time, q.RemoteIP, q.RequestID, q.HTTPStatus, what),
		Detail: toMap(q.S3Request)}
	f.Detail["touched"] = refs
	f.Detail["explains"] = len(explains) > 0
	if len(ts) > 0 {
		f.Account, f.Region, f.Trail = ts[0].Account, ts[0].Region, ts[0].Trail
	}
	return f
}

// tailFromAccess reports CloudTrail deliveries after each chain's newest
// digest of keys the case lacks. The deliveries are read from the scratch
// tables a page at a time; each is matched to the chains of its account,
// region, organization and prefix.
func (r *run) tailFromAccess(acc *accessLogs) error {
	if acc == nil || len(acc.buckets) == 0 {
		return nil
	}
	ctx := r.ctx
	type area struct{ account, region, org, prefix string }
	byArea := map[area][]chainID{}
	for _, c := range r.chainIDs {
		if c.Backfill || r.newest[c] == nil {
			continue
		}
		a := area{c.Account, c.Region, c.OrgID, c.Prefix}
		byArea[a] = append(byArea[a], c)
	}
	if len(byArea) == 0 {
		return nil
	}
	type tail struct {
		digests []string
		list    []map[string]any
		logs    int
		last    time.Time
	}
	tails := map[chainID]*tail{}
	err := r.x.RequestPages(ctx, true, func(page []store.StoredRequest) error {
		for _, sr := range page {
			q, err := decodeRequest(sr, true)
			if err != nil {
				return err
			}
			if !q.Succeeded || !q.timeOK {
				continue
			}
			ki, ok := cloudtrail.ParseKey(q.Key)
			if !ok || ki.FileNameOnly {
				continue
			}
			cs := byArea[area{ki.Account, ki.Region, ki.OrgID, ki.Prefix}]
			if len(cs) == 0 {
				continue
			}
			present, err := r.x.IsPresent(ctx, awsLogsSuffix(q.Key))
			if err != nil {
				return err
			}
			if present {
				continue
			}
			for _, c := range cs {
				n := r.newest[c]
				if (q.Bucket != "" && q.Bucket != "-" && c.Bucket != "" && q.Bucket != c.Bucket) || !q.at.After(n.end) {
					continue
				}
				t := tails[c]
				if t == nil {
					t = &tail{last: n.end}
				}
				switch ki.Type {
				case cloudtrail.TypeDigest:
					if ki.Trail != c.Trail || ki.Backfill {
						continue
					}
					t.digests = append(t.digests, q.Key)
				case cloudtrail.TypeLog:
					t.logs++
				default:
					continue
				}
				tails[c] = t
				if q.at.After(t.last) {
					t.last = q.at
				}
				t.list = append(t.list, toMap(q.S3Request))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	all := make([]chainID, 0, len(tails))
	for c := range tails {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].String() < all[j].String() })
	for _, c := range all {
		t, n := tails[c], r.newest[c]
		digests := t.digests
		if digests == nil {
			digests = []string{}
		}
		r.addFinding(Finding{Type: FindingCoverage, Severity: SeverityError, Chain: c.String(),
			Account: c.Account, Region: c.Region, Trail: c.Trail, Start: fmtTime(n.end), End: fmtTime(t.last),
			Summary: fmt.Sprintf("chain %s: the S3 access logs record %d CloudTrail deliveries after its newest digest %s (ends %s) of objects the case lacks (%d digests, %d log files), up to %s: the newest digests and logs may have been deleted (tail truncation) or delivered after the evidence was collected",
				c, len(t.list), n.key, fmtTime(n.end), len(digests), t.logs, fmtTime(t.last)),
			Detail: map[string]any{"source": "s3_access_logs", "newest_digest": n.key, "newest_digest_end": fmtTime(n.end),
				"evidence_until": fmtTime(t.last), "digests_delivered": digests, "log_files_delivered": t.logs, "deliveries": t.list}})
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
