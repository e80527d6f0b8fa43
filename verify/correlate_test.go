package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/verdict"
)

// accessSet is small() with access logs (no objects).
func accessSet() fixtures.Options {
	o := small()
	o.AccessLogs = true
	return o
}

// setInfo is set with one tampering, returning what it did.
func setInfo(t *testing.T, opt fixtures.Options, tp fixtures.Tampering) (*Report, *fixtures.Manifest, fixtures.TamperInfo) {
	t.Helper()
	c, m := set(t, opt, tp)
	require.Len(t, m.Tampered, 1)
	return runVerify(t, c, Options{Anchors: anchors(t, m)}), m, m.Tampered[0]
}

func itemByKey(t *testing.T, rep *Report, kind, key string) Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Kind == kind && it.S3Key == key {
			return it
		}
	}
	t.Fatalf("no %s item %s", kind, key)
	return Item{}
}

// checkRequest asserts that a finding or request detail names the logged
// request of the tampering.
func checkRequest(t *testing.T, d map[string]any, info fixtures.TamperInfo, key string) {
	t.Helper()
	assert.Equal(t, info.Principal, d["requester"])
	assert.Equal(t, info.Time.UTC().Format(time.RFC3339), d["time"])
	assert.Equal(t, info.SourceIP, d["remote_ip"])
	assert.Equal(t, info.RequestID, d["request_id"])
	assert.Equal(t, info.Operation, d["operation"])
	assert.Equal(t, key, d["key"])
	assert.Equal(t, fixtures.DefaultTrailBucket, d["bucket"])
	assert.Equal(t, true, d["succeeded"])
	assert.EqualValues(t, 1, d["line"])
	require.Len(t, info.Created, 1)
	assert.Equal(t, info.Created[0], d["access_log"])
}

func TestCorrelationLogDeletedViaS3(t *testing.T) {
	rep, _, info := setInfo(t, accessSet(), fixtures.LogDeletedViaS3)
	key := info.LogKeys[0]
	assert.Equal(t, map[string]string{"log " + key: StatusMissing}, notValid(rep))
	it := itemByKey(t, rep, KindLog, key)
	assert.Equal(t, []string{info.RequestID}, logDetail(it).ExplainedBy)
	assert.Contains(t, det(it.Detail)["reason"], "; explained by REST.DELETE.OBJECT by "+info.Principal+" at "+
		info.Time.UTC().Format(time.RFC3339)+" from "+info.SourceIP+" (request id "+info.RequestID+", HTTP 204; ")
	reqs := *logDetail(it).S3Requests
	require.Len(t, reqs, 1)
	checkRequest(t, toMap(reqs[0]), info, key)
	assert.Empty(t, logDetail(it).AccessLogs, "explained: no best-effort caveat needed")

	cf := findingsOf(rep, FindingCorrelation)
	require.Len(t, cf, 1)
	f := cf[0]
	assert.Equal(t, SeverityError, f.Severity)
	checkRequest(t, f.Detail, info, key)
	assert.Equal(t, "delete", det(f.Detail)["class"])
	assert.Equal(t, true, det(f.Detail)["explains"])
	touched := objs(det(f.Detail)["touched"])
	require.Len(t, touched, 1)
	assert.Equal(t, KindLog, touched[0]["kind"])
	assert.Equal(t, key, touched[0]["s3_key"])
	assert.Equal(t, StatusMissing, touched[0]["status"])
	assert.Equal(t, "REST.DELETE.OBJECT of s3://"+fixtures.DefaultTrailBucket+"/"+key+" by "+info.Principal+" at "+
		info.Time.UTC().Format(time.RFC3339)+" from "+info.SourceIP+" (request id "+info.RequestID+", HTTP 204): explains the missing log "+key, f.Summary)
	assert.Equal(t, "111122223333", f.Account)
	assert.Empty(t, rep.Summary.Notes)
	assert.True(t, rep.Failed())
}

func TestCorrelationDigestOverwrittenViaS3(t *testing.T) {
	rep, m, info := setInfo(t, accessSet(), fixtures.DigestOverwrittenViaS3)
	dkey, hidden := info.DigestKeys[0], info.LogKeys[0]
	nv := notValid(rep)
	assert.Equal(t, StatusSignatureInvalid, nv["digest "+dkey])
	assert.Equal(t, StatusUnreferenced, nv["log "+hidden])
	it := itemByKey(t, rep, KindDigest, dkey)
	assert.Equal(t, []string{info.RequestID}, digestDetail(it).ExplainedBy)
	assert.Contains(t, digestDetail(it).Reason, "explained by REST.PUT.OBJECT by "+info.Principal)
	reqs := *digestDetail(it).S3Requests
	require.Len(t, reqs, 1, "CloudTrail's own delivery of the digest is not listed")
	checkRequest(t, toMap(reqs[0]), info, dkey)

	cf := findingsOf(rep, FindingCorrelation)
	require.Len(t, cf, 1)
	assert.Equal(t, SeverityError, cf[0].Severity)
	assert.Equal(t, "overwrite", det(cf[0].Detail)["class"])
	assert.Equal(t, true, det(cf[0].Detail)["explains"])
	checkRequest(t, cf[0].Detail, info, dkey)
	assert.Contains(t, cf[0].Summary, "explains the signature_invalid digest "+dkey)
	_ = m
}

// The tail digests were deleted, but the access logs hold CloudTrail's
// deliveries of them.
func TestCorrelationTailSeenInAccessLogs(t *testing.T) {
	rep, m, info := setInfo(t, accessSet(), fixtures.DigestTailDeleted)
	var cov []Finding
	for _, f := range findingsOf(rep, FindingCoverage) {
		if det(f.Detail)["source"] == "s3_access_logs" {
			cov = append(cov, f)
		}
	}
	require.Len(t, cov, 1, "%v", rep.Findings)
	f := cov[0]
	assert.Equal(t, SeverityError, f.Severity)
	var want []any
	for _, k := range info.DigestKeys {
		want = append(want, k)
	}
	assert.Equal(t, want, det(f.Detail)["digests_delivered"])
	var newest fixtures.DigestInfo
	var last time.Time
	for _, d := range m.Digests {
		if d.Key == info.DigestKeys[0] || d.Key == info.DigestKeys[1] {
			if d.Delivered.After(last) {
				last = d.Delivered
			}
			continue
		}
		if d.End.After(newest.End) {
			newest = d
		}
	}
	assert.Equal(t, newest.Key, det(f.Detail)["newest_digest"])
	assert.Equal(t, newest.End.UTC().Format(time.RFC3339), f.Start)
	// Access-log times are one second before delivery (fixtures).
	assert.Equal(t, last.Add(-time.Second).UTC().Format(time.RFC3339), f.End)
	assert.Equal(t, 2, len(objs(det(f.Detail)["deliveries"])))
	assert.Equal(t, 0, det(f.Detail)["log_files_delivered"])
	for _, d := range objs(det(f.Detail)["deliveries"]) {
		assert.Equal(t, "svc:cloudtrail.amazonaws.com", d["requester"])
	}
	assert.Empty(t, findingsOf(rep, FindingCorrelation))
}

// A log deleted with no request in the access logs: the conclusion rests
// on their absence, so the item and the summary say they are best effort.
func TestCorrelationMissingWithoutRequest(t *testing.T) {
	rep, _, info := setInfo(t, accessSet(), fixtures.LogMissing)
	key := info.LogKeys[0]
	assert.Equal(t, map[string]string{"log " + key: StatusMissing}, notValid(rep))
	it := itemByKey(t, rep, KindLog, key)
	assert.Equal(t, &[]verdict.S3Request{}, it.Detail.Shared().S3Requests)
	assert.Nil(t, it.Detail.Shared().ExplainedBy)
	assert.Contains(t, det(it.Detail)["access_logs"], "none records a request that deleted or overwrote this key; S3 server access logs are delivered on a best-effort basis")
	assert.Equal(t, []string{"1 missing or changed digests and log files of bucket " + fixtures.DefaultTrailBucket +
		" have no request in its access logs that explains them; S3 server access logs are delivered on a best-effort basis, so this does not show that no such request was made"},
		rep.Summary.Notes)
	assert.Empty(t, findingsOf(rep, FindingCorrelation))
}

// ACL changes, failed attempts and reads: warnings or nothing, never an
// explanation; keys are percent-decoded.
func TestCorrelationSeverities(t *testing.T) {
	var lkey string
	c, m := setWith(t, accessSet(), func(m *fixtures.Manifest) {
		lkey = m.Logs[0].Key
		enc := strings.ReplaceAll(lkey, "_", "%5F")
		line := func(ip, op, status, reqID string) string {
			return "7be0ea18410174ecd3abcad3d48bf5653cca73870388b5093f2682b9651c8dcc " + fixtures.DefaultTrailBucket +
				" [04/Mar/2024:09:00:00 +0000] " + ip + " arn:aws:iam::111122223333:user/mallory " + reqID + " " + op + " " + enc +
				` "PUT /` + enc + ` HTTP/1.1" ` + status + " - - - 10 5 \"-\" \"aws-cli/2.15.0\" - aGVsbG8= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader " +
				fixtures.DefaultTrailBucket + ".s3.us-east-1.amazonaws.com TLSv1.3 - - us-east-1\n"
		}
		body := line("203.0.113.5", "REST.PUT.ACL", "200", "AAAAAAAAAAAAAAA1") +
			line("203.0.113.6", "REST.DELETE.OBJECT", "403", "AAAAAAAAAAAAAAA2") +
			line("203.0.113.7", "REST.GET.OBJECT", "200", "AAAAAAAAAAAAAAA3")
		p := filepath.Join(m.Root, "access-logs", fixtures.DefaultAccessLogBucket, "trail-bucket-logs", "2024-03-04-09-10-00-0123456789ABCDEF")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Empty(t, notValid(rep))
	cf := findingsOf(rep, FindingCorrelation)
	require.Len(t, cf, 2, "%v", cf)
	assert.Equal(t, SeverityWarning, cf[0].Severity)
	assert.Equal(t, "acl", det(cf[0].Detail)["class"])
	assert.Equal(t, lkey, det(cf[0].Detail)["key"])
	assert.Equal(t, false, det(cf[0].Detail)["explains"])
	assert.Contains(t, cf[0].Summary, "touches log "+lkey+" (status valid)")
	assert.Equal(t, SeverityWarning, cf[1].Severity)
	assert.Equal(t, false, det(cf[1].Detail)["succeeded"])
	assert.True(t, strings.HasPrefix(cf[1].Summary, "attempted (failed) REST.DELETE.OBJECT of "), cf[1].Summary)
	it := itemByKey(t, rep, KindLog, lkey)
	assert.Len(t, *it.Detail.Shared().S3Requests, 2)
	assert.False(t, rep.Failed(), "warnings alone do not fail verification")
}
