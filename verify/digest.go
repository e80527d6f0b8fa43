package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// chainID identifies a digest chain: (bucket, prefix, org id, account,
// region, trail, backfill).
type chainID struct {
	Bucket, Prefix, OrgID, Account, Region, Trail string
	Backfill                                      bool
}

func (c chainID) String() string {
	s := "s3://" + c.Bucket + "/"
	if c.Prefix != "" {
		s += c.Prefix + "/"
	}
	s += "AWSLogs/"
	if c.OrgID != "" {
		s += c.OrgID + "/"
	}
	s += c.Account + "/CloudTrail-Digest/" + c.Region + " trail " + c.Trail
	if c.Backfill {
		s += " (backfill)"
	}
	return s
}

// digestItem is one digest file in the evidence.
type digestItem struct {
	ev         *store.Evidence
	d          *store.Digest // nil when it could not be parsed
	ki         cloudtrail.KeyInfo
	chain      chainID
	bucket     string // signed location (or the best guess for an unparsable one)
	key        string
	start, end time.Time
	timesOK    bool
	contentSHA string
	sidecar    *store.DigestSidecar   // its saved head-object metadata (the first, when there are several)
	sidecars   []*store.DigestSidecar // all of them: a source holding the name twice gives two
	metaSig    string
	successors []*digestItem
	status     string
	detail     *verdict.DigestDetail
	checks     checkList
	authBy     string // the source of the signature that verified
	authentic  bool   // a signature verified under a trusted key valid at the time
	outOfRange bool   // its times are out of range (finding time_range): left out of the chain's time order
	ingestedAt string // when its evidence row was written (RFC 3339)
	// Once its window is evaluated (settle), detail and checks wait in the
	// scratch tables; what the chain's later steps read or add is here.
	starting  bool                         // detail.StartingDigest
	timeRange string                       // detail.TimeRange, from timeRanges
	gapAfter  *verdict.GapAfterPredecessor // detail.GapAfterPredecessor, from inferMissing
}

func (d *digestItem) item() Item {
	return Item{Kind: KindDigest, S3Bucket: d.bucket, S3Key: d.key, Path: displayPath(d.ev), Status: d.status,
		Detail: d.detail, EvidenceID: d.ev.ID, Account: d.chain.Account, Region: d.chain.Region, Trail: d.chain.Trail,
		Checks: d.checks}
}

func (d *digestItem) pass(name, want, got string) { d.checks.pass(name, want, got) }

func (d *digestItem) fail(name, want, got, reason string) { d.checks.fail(name, want, got, reason) }

func (d *digestItem) notRun(name, reason string) { d.checks.notRun(name, reason) }

// decide derives the digest's status from its checks (once): see
// DigestOrder.
func (d *digestItem) decide() {
	if d.status == "" {
		d.status = d.checks.decide(DigestOrder, d.detail)
	}
}

// prepare fills what does not depend on other digests.
func (r *run) prepare(d *digestItem) error {
	e := d.ev
	d.bucket, d.key = e.S3Bucket, e.S3Key
	d.chain = chainID{Bucket: e.S3Bucket, OrgID: e.OrgID, Account: e.Account, Region: e.Region, Trail: e.Trail, Backfill: e.Backfill}
	if d.d != nil {
		sum := sha256.Sum256(d.d.Raw)
		d.contentSHA = hex.EncodeToString(sum[:])
		d.detail.SHA256 = d.contentSHA
		if d.d.DigestS3Object != "" {
			d.bucket, d.key = d.d.DigestS3Bucket, d.d.DigestS3Object
			if ki, ok := cloudtrail.ParseKey(d.d.DigestS3Object); ok && ki.Type == cloudtrail.TypeDigest {
				d.ki = ki
				d.chain = chainID{Bucket: d.d.DigestS3Bucket, Prefix: ki.Prefix, OrgID: ki.OrgID, Account: ki.Account,
					Region: ki.Region, Trail: ki.Trail, Backfill: ki.Backfill}
			}
		}
		st, err1 := awstime.Parse(d.d.DigestStartTime)
		en, err2 := awstime.Parse(d.d.DigestEndTime)
		if err1 == nil && err2 == nil {
			d.start, d.end, d.timesOK = st.UTC(), en.UTC(), true
		}
	}
	var err error
	if d.sidecars, err = r.sidecarsFor(e, d.d); err != nil {
		return err
	}
	if len(d.sidecars) > 0 {
		d.sidecar = d.sidecars[0]
	}
	if v, ok := meta(d.sidecar, "signature"); ok {
		d.metaSig = v
	}
	return nil
}

func awsLogsSuffix(key string) string {
	if strings.HasPrefix(key, "AWSLogs/") {
		return key
	}
	if i := strings.Index(key, "/AWSLogs/"); i >= 0 {
		return key[i+1:]
	}
	return key
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// missing records the digest s points at and the evidence lacks, and —
// counting by time — every hourly digest between it and the next older
// digest of the chain that is present: each one when there are at most
// maxInferredMissing, else the oldest and newest maxInferredMissing/2
// and a missing_span finding counting them all. Nothing is inferred from
// the times of a digest flagged out of range (timeRanges).
func (r *run) missing(s *digestItem) error {
	bucket, key := deref(s.d.PreviousDigestS3Bucket), *s.d.PreviousDigestS3Object
	loc := bucket + "/" + key
	expectedEnd := ""
	if s.timesOK && !s.outOfRange {
		expectedEnd = fmtTime(s.start)
	}
	fresh, err := r.x.MarkMissing(r.ctx, loc, s.chain.Account, s.chain.Region, key, expectedEnd)
	if err != nil || !fresh {
		return err
	}
	detail := &verdict.DigestDetail{
		Common:                verdict.Common{Reason: fmt.Sprintf("%s names it as previousDigestS3Object, and it is not in the evidence", s.key)},
		ReferencedBy:          verdict.Str(s.key),
		ExpectedSHA256:        verdict.Ptr(deref(s.d.PreviousDigestHashValue)),
		ExpectedSignature:     verdict.Ptr(deref(s.d.PreviousDigestSignature)),
		ExpectedEndTime:       verdict.Ptr(""),
		InferredFromTimeOrder: verdict.Ptr(false),
	}
	_, kok := cloudtrail.ParseKey(key)
	if s.timesOK && !s.outOfRange {
		detail.ExpectedEndTime = verdict.Ptr(fmtTime(s.start))
	}
	if s.outOfRange {
		detail.TimeRange = fmt.Sprintf("named by %s, whose times are out of range (finding %s): no time is inferred for it", s.key, FindingTimeRange)
	}
	item := Item{Kind: KindDigest, S3Bucket: bucket, S3Key: key, Detail: detail,
		Account: s.chain.Account, Region: s.chain.Region, Trail: s.chain.Trail}
	item.Status, item.Checks = missingChecks(DigestOrder, fmt.Sprintf("the digest %s named by %s as previousDigestS3Object", key, s.key), detail)
	if !s.timesOK || !kok || s.outOfRange {
		return r.emit(&item)
	}
	// The next older digest of the chain in the evidence.
	var older *digestItem
	ds := r.sortedChain(s.chain)
	limit := s.start.Add(-30 * time.Minute)
	// Sorted by end: the last one that fits is the newest (found by
	// search, so that many dangling digests cost no more than sorting).
	for i := sort.Search(len(ds), func(i int) bool { return ds[i].end.After(limit) }) - 1; i >= 0; i-- {
		if ds[i] != s {
			older = ds[i]
			break
		}
	}
	if older == nil {
		detail.OlderDigestInEvidence = verdict.Null()
		return r.emit(&item)
	}
	detail.OlderDigestInEvidence = verdict.Str(older.key)
	if err := r.emit(&item); err != nil {
		return err
	}
	return r.inferMissing(older, s, bucket, key)
}

// inferMissing records the hourly digests of s's chain that should end
// between older's end and s's start. named is the digest s names as its
// predecessor when the evidence lacks it (the one ending at s's start,
// already recorded); "" when s names older itself, which ends hours
// before s starts: then every digest between is missing, and s's claim
// to follow older is what shows it. Past maxInferredMissing, the oldest
// and newest are listed and a missing_span finding counts the rest.
func (r *run) inferMissing(older, s *digestItem, bucket, named string) error {
	ki := s.ki
	if ki.Account == "" {
		var ok bool
		if ki, ok = cloudtrail.ParseKey(s.key); !ok {
			return nil
		}
	}
	n := hourSlots(older.end, s.start) // digests ending after older, up to s's start
	last := n - 1                      // inferred: the one ending at s's start is named
	listed := 1
	why := fmt.Sprintf("digests are hourly: between %s (ends %s) and %s (starts %s) %d digests are missing; this key is inferred from the time",
		older.key, fmtTime(older.end), s.key, fmtTime(s.start), n)
	if named == "" {
		last, listed = n, 0
		why = fmt.Sprintf("digests are hourly, and %s names %s as the digest before it, but that one ends at %s and %s starts at %s: the %d digests between are missing (or %s is not what it claims); this key is inferred from the time",
			s.key, older.key, fmtTime(older.end), s.key, fmtTime(s.start), n, s.key)
		s.gapAfter = &verdict.GapAfterPredecessor{Predecessor: older.key, ExpectedStartTime: fmtTime(older.end),
			DigestStartTime: fmtTime(s.start), MissingDigests: n}
	}
	infer := func(k int64) error {
		end := addHours(older.end, k)
		ik := inferredKey(ki, end)
		iloc := bucket + "/" + ik
		present, err := r.x.DigestsAt(r.ctx, iloc)
		if err != nil || len(present) > 0 {
			return err
		}
		fresh, err := r.x.MarkMissing(r.ctx, iloc, s.chain.Account, s.chain.Region, ik, fmtTime(end))
		if err != nil || !fresh {
			return err
		}
		listed++
		it := Item{Kind: KindDigest, S3Bucket: bucket, S3Key: ik,
			Account: s.chain.Account, Region: s.chain.Region, Trail: s.chain.Trail,
			Detail: &verdict.DigestDetail{
				Common:            verdict.Common{Reason: why},
				ExpectedStartTime: fmtTime(end.Add(-time.Hour)), ExpectedEndTime: verdict.Ptr(fmtTime(end)),
				InferredFromTimeOrder: verdict.Ptr(true), OlderDigestInEvidence: verdict.Str(older.key), ReferencedBy: verdict.Null(),
			}}
		it.Status, it.Checks = missingChecks(DigestOrder, fmt.Sprintf("the hourly digest ending %s, between %s and %s", fmtTime(end), older.key, s.key), it.Detail)
		return r.emit(&it)
	}
	if last <= maxInferredMissing {
		for k := int64(1); k <= last; k++ {
			if err := infer(k); err != nil {
				return err
			}
		}
		return nil
	}
	half := int64(maxInferredMissing / 2)
	for k := int64(1); k <= half; k++ {
		if err := infer(k); err != nil {
			return err
		}
	}
	for k := last - half + 1; k <= last; k++ {
		if err := infer(k); err != nil {
			return err
		}
	}
	listedNamed := named
	if named == "" {
		listedNamed = "the " + fmt.Sprint(half) + " oldest"
	}
	r.addFinding(Finding{Type: FindingMissingSpan, Severity: SeverityError, Chain: s.chain.String(),
		Account: s.chain.Account, Region: s.chain.Region, Trail: s.chain.Trail, Start: fmtTime(older.end), End: fmtTime(s.start),
		Summary: fmt.Sprintf("chain %s: digests are hourly, and between %s (ends %s) and %s (starts %s) %d digests are missing; %s and the %d oldest and %d newest of the others are listed as missing, the rest are counted here",
			s.chain, older.key, fmtTime(older.end), s.key, fmtTime(s.start), n, listedNamed, half, half),
		Detail: map[string]any{"last_digest_before": older.key, "first_digest_after": s.key, "named_missing": named,
			"expected_digests": int(n), "found_digests": 0, "listed_digests": listed, "max_listed_inferred": maxInferredMissing,
			"expected": fmt.Sprintf("%d hourly digests ending from %s to %s", n, fmtTime(addHours(older.end, 1)), fmtTime(addHours(older.end, n))),
			"found":    "none in the evidence"}})
	return nil
}

// inferredKey is the key of the digest of ki's chain ending at end.
func inferredKey(ki cloudtrail.KeyInfo, end time.Time) string {
	ki.Time = end.UTC()
	var b strings.Builder
	if ki.Prefix != "" {
		b.WriteString(ki.Prefix + "/")
	}
	b.WriteString("AWSLogs/")
	if ki.OrgID != "" {
		b.WriteString(ki.OrgID + "/")
	}
	b.WriteString(ki.Account + "/" + cloudtrail.TypeDigest + "/" + ki.Region + "/" + ki.Time.Format("2006/01/02") + "/")
	b.WriteString(ki.FileName())
	return b.String()
}

// evaluate runs a digest's checks (DigestOrder, most severe first) and
// derives its status from them: the status of the first check in that
// order that failed, valid when none did. A check that cannot run
// because an earlier one failed is recorded as not run. authentic is set
// independently: true when any available signature (saved metadata or a
// successor's copy) verifies under a supplied key valid at the time, and
// the status is one that vouches.
func (r *run) evaluate(d *digestItem) {
	defer d.decide()
	dd := d.d
	d.pass(CheckPresent, "the digest file in the evidence", displayPath(d.ev))
	const wantFormat = "one gzip member of CloudTrail digest JSON: digestStartTime and digestEndTime times; digestS3Bucket, digestS3Object and digestPublicKeyFingerprint set; previousDigest* all null (a starting digest) or all set; each log file listed once"
	if d.ev.Error != "" || dd == nil {
		reason := d.ev.Error
		if reason == "" {
			reason = "not parsed as a digest"
		}
		d.fail(CheckFormat, wantFormat, reason, reason)
		d.detail.Error = reason
		return
	}
	if d.ev.GzipTrailing {
		d.fail(CheckFormat, wantFormat, "bytes after the first gzip member",
			"bytes follow the first gzip member (awscli: unexpected data after end of compressed stream)")
		d.detail.GzipTrailing = true
		return
	}
	if !d.timesOK {
		got := fmt.Sprintf("digestStartTime %q, digestEndTime %q", dd.DigestStartTime, dd.DigestEndTime)
		d.fail(CheckFormat, wantFormat, got, fmt.Sprintf("digestStartTime %q or digestEndTime %q is not a time", dd.DigestStartTime, dd.DigestEndTime))
		return
	}
	if dd.DigestS3Bucket == "" || dd.DigestS3Object == "" || dd.DigestPublicKeyFingerprint == "" {
		got := fmt.Sprintf("digestS3Bucket %q, digestS3Object %q, digestPublicKeyFingerprint %q", dd.DigestS3Bucket, dd.DigestS3Object, dd.DigestPublicKeyFingerprint)
		d.fail(CheckFormat, wantFormat, got, "digestS3Bucket, digestS3Object or digestPublicKeyFingerprint is empty or null")
		return
	}
	prev := []*string{dd.PreviousDigestS3Bucket, dd.PreviousDigestS3Object, dd.PreviousDigestHashValue,
		dd.PreviousDigestHashAlgorithm, dd.PreviousDigestSignature}
	nulls := 0
	for _, p := range prev {
		if p == nil {
			nulls++
		}
	}
	if nulls != 0 && nulls != len(prev) {
		d.fail(CheckFormat, wantFormat, fmt.Sprintf("%d of the 5 previousDigest* fields null", nulls),
			"previousDigest* fields are partly null: a starting digest has all five null, any other none")
		return
	}
	seen := make(map[string]bool, len(dd.LogFiles))
	for i, l := range dd.LogFiles {
		k := l.S3Bucket + "/" + l.S3Object
		if seen[k] {
			d.detail.RepeatedLogFile = &verdict.RepeatedLogFile{Index: i, S3Bucket: l.S3Bucket, S3Object: l.S3Object}
			d.fail(CheckFormat, wantFormat, fmt.Sprintf("s3://%s listed again at index %d", k, i),
				fmt.Sprintf("logFiles lists s3://%s more than once (again at index %d): CloudTrail lists each log file once", k, i))
			return
		}
		seen[k] = true
	}
	d.pass(CheckFormat, wantFormat, fmt.Sprintf("a digest of %s to %s listing %d log files", dd.DigestStartTime, dd.DigestEndTime, len(dd.LogFiles)))
	d.detail.StartingDigest = verdict.Ptr(nulls == len(prev))
	d.detail.DigestStartTime, d.detail.DigestEndTime = dd.DigestStartTime, dd.DigestEndTime
	d.detail.Fingerprint = dd.DigestPublicKeyFingerprint

	// Where it was found.
	actual, how := locate(d.ev, dd.DigestS3Bucket, dd.DigestS3Object)
	d.detail.LocatedBy = how
	d.detail.ActualKey = actual
	moved := actual != dd.DigestS3Object

	sigs := d.sigSources()
	if d.sidecar != nil {
		d.detail.MetadataEvidenceID = d.sidecar.EvidenceID
	}
	r.sidecarsAgree(d)
	// The algorithm must be exactly SHA256withRSA, in the digest and in
	// saved metadata that carries a signature (awscli requires the
	// metadata's signature-algorithm too). Any other spelling — another
	// algorithm, another case, white space, empty, absent — means no
	// signature of this digest counts, whatever the RSA check says.
	algo := dd.DigestSignatureAlgorithm
	metaAlgo, hasMetaAlgo := meta(d.sidecar, "signature-algorithm")
	algoOK := algo == SignatureAlgorithm && (d.metaSig == "" && !hasMetaAlgo || hasMetaAlgo && metaAlgo == SignatureAlgorithm)
	d.detail.SignatureAlgorithmOK = verdict.Ptr(algoOK)
	wantAlgo := "digestSignatureAlgorithm " + SignatureAlgorithm + ", and signature-algorithm " + SignatureAlgorithm + " in saved metadata that carries a signature"
	gotAlgo := fmt.Sprintf("digestSignatureAlgorithm %q", algo)
	if d.sidecar != nil {
		if hasMetaAlgo {
			gotAlgo += fmt.Sprintf(", metadata signature-algorithm %q", metaAlgo)
		} else {
			gotAlgo += ", metadata signature-algorithm absent"
		}
	}
	if !algoOK {
		d.detail.ExpectedSignatureAlgorithm = SignatureAlgorithm
		d.detail.DigestSignatureAlgorithm = verdict.Ptr(algo)
		reason := fmt.Sprintf("the digest's digestSignatureAlgorithm is %q, not %s", algo, SignatureAlgorithm)
		if algo == SignatureAlgorithm {
			reason = fmt.Sprintf("its saved metadata carries a signature but no signature-algorithm (expected %s)", SignatureAlgorithm)
		}
		if hasMetaAlgo {
			d.detail.MetadataSignatureAlgorithm = verdict.Ptr(metaAlgo)
			if algo == SignatureAlgorithm {
				reason = fmt.Sprintf("its saved metadata's signature-algorithm is %q, not %s", metaAlgo, SignatureAlgorithm)
			}
		}
		d.fail(CheckSignatureAlgorithm, wantAlgo, gotAlgo, reason)
	} else {
		d.pass(CheckSignatureAlgorithm, wantAlgo, gotAlgo)
	}

	// The time the key must be valid at.
	at := d.end
	d.detail.KeyTimeSource = "digestEndTime"
	const wantKeyTime = "digestEndTime; for a backfill digest, the backfill-generation-timestamp of its saved metadata"
	if d.chain.Backfill {
		if ts, ok := meta(d.sidecar, "backfill-generation-timestamp"); ok {
			t, err := awstime.Parse(ts)
			if err != nil {
				reason := fmt.Sprintf("backfill-generation-timestamp %q is not a time", ts)
				d.fail(CheckKeyTime, wantKeyTime, fmt.Sprintf("backfill-generation-timestamp %q", ts), reason)
				return
			}
			at = t.UTC()
			d.detail.KeyTimeSource = "backfill-generation-timestamp"
		} else if d.sidecar != nil {
			d.fail(CheckKeyTime, wantKeyTime, "saved metadata without backfill-generation-timestamp",
				"backfill digest: its saved metadata lacks backfill-generation-timestamp")
			return
		}
	}
	d.pass(CheckKeyTime, wantKeyTime, fmtTime(at)+" ("+d.detail.KeyTimeSource+")")
	d.detail.KeyTime = fmtTime(at)
	kc := r.anchors.pick(dd.DigestPublicKeyFingerprint, d.chain.Region, at)
	if len(kc.windows) > 0 {
		d.detail.KeysWithFingerprint = kc.windows
	}
	wantKey := "a supplied public key with fingerprint " + dd.DigestPublicKeyFingerprint
	wantValid := "a key with fingerprint " + dd.DigestPublicKeyFingerprint + " valid at " + fmtTime(at)
	switch {
	case kc.status == StatusKeyUnknown:
		d.fail(CheckKeyKnown, wantKey, "no supplied key has it", kc.reason)
	case kc.status != "":
		d.pass(CheckKeyKnown, wantKey, fmt.Sprintf("%d supplied keys have it", len(kc.windows)))
		var ws []string
		for _, a := range kc.cands {
			ws = append(ws, a.validity())
		}
		d.fail(CheckKeyValidAtTime, wantValid, strings.Join(ws, "; "), kc.reason)
	default:
		d.pass(CheckKeyKnown, wantKey, "key from "+kc.anchor.File)
		d.pass(CheckKeyValidAtTime, wantValid, kc.anchor.validity())
		d.detail.KeyFile = kc.anchor.File
		d.detail.KeyRegion = verdict.Ptr(kc.anchor.Region)
		d.detail.KeyBits = kc.anchor.Bits
		if kc.anchor.Bits < MinKeyBits {
			d.detail.KeyWeak = fmt.Sprintf("a %d-bit key, under %d bits: trusted only with --allow-weak-keys", kc.anchor.Bits, MinKeyBits)
		}
		switch kc.regionM {
		case "other":
			d.detail.KeyNote = fmt.Sprintf("key taken from a file for region %s, not %s (CloudTrail keys are per region)", kc.anchor.Region, d.chain.Region)
		case "unnamed":
			d.detail.KeyNote = "the key's file names no region"
		}
	}

	// Signatures.
	const wantSig = "a signature: the signature of its saved S3 metadata, or a successor digest's previousDigestSignature"
	if len(sigs) == 0 {
		d.detail.SignatureSource = verdict.Null()
		d.fail(CheckSignatureAvailable, wantSig, "none",
			"no saved S3 metadata (head-object sidecar) and no successor digest holding its signature")
	} else {
		var from []string
		for _, s := range sigs {
			from = append(from, s.source+" ("+s.from+")")
		}
		d.pass(CheckSignatureAvailable, wantSig, strings.Join(from, ", "))
	}
	results := map[string]bool{}
	authBy := ""
	if kc.anchor != nil {
		for _, s := range sigs {
			k := strings.ToLower(strings.TrimSpace(s.sig))
			if _, done := results[k]; !done {
				results[k] = r.sigs.check(kc.anchor, d, s.sig)
			}
		}
	}
	switch {
	case len(sigs) == 0:
		d.notRun(CheckSig, "no signature to verify")
	case kc.anchor == nil:
		d.notRun(CheckSig, "no supplied key valid at the time to verify it with")
	}
	if len(sigs) > 0 {
		d.detail.SignatureSource = verdict.Str(sigs[0].source)
		d.detail.Signature = verdict.Ptr(sigs[0].sig)
		if kc.anchor != nil {
			ok := results[strings.ToLower(strings.TrimSpace(sigs[0].sig))]
			d.detail.SignatureVerified = verdict.Ptr(ok)
			for _, s := range sigs {
				if algoOK && results[strings.ToLower(strings.TrimSpace(s.sig))] {
					d.authentic = true
					authBy = s.source
					break
				}
			}
			want := fmt.Sprintf("the %s signature verifies over the string to sign (RSA PKCS#1 v1.5, SHA-256) with key %s", sigs[0].source, kc.anchor.Fingerprint)
			if !ok {
				d.detail.StringToSign = string(StringToSign(dd))
				d.fail(CheckSig, want, "does not verify", fmt.Sprintf("the signature from %s does not verify with key %s", sigs[0].source, kc.anchor.Fingerprint))
			} else {
				d.pass(CheckSig, want, "verifies")
			}
		}
	}

	// Chain links: each successor's previousDigestHashValue and
	// previousDigestSignature against this digest.
	var links []verdict.SuccessorLink
	for _, s := range d.successors {
		l := verdict.SuccessorLink{Successor: s.key, SuccessorPath: displayPath(s.ev),
			ExpectedSHA256: deref(s.d.PreviousDigestHashValue), ActualSHA256: d.contentSHA,
			HashAlgorithm: deref(s.d.PreviousDigestHashAlgorithm)}
		hashOK := strings.EqualFold(deref(s.d.PreviousDigestHashValue), d.contentSHA) && deref(s.d.PreviousDigestHashAlgorithm) == "SHA-256"
		ok := hashOK
		wantHash := fmt.Sprintf("successor %s: previousDigestHashAlgorithm SHA-256, previousDigestHashValue %s (SHA-256 of this digest's content)", s.key, d.contentSHA)
		gotHash := fmt.Sprintf("previousDigestHashAlgorithm %q, previousDigestHashValue %q", deref(s.d.PreviousDigestHashAlgorithm), deref(s.d.PreviousDigestHashValue))
		mismatch := fmt.Sprintf("successor %s holds a previousDigestHashValue or previousDigestSignature that does not match this digest", s.key)
		if hashOK {
			d.pass(CheckPrevHashLink, wantHash, gotHash)
		} else {
			d.fail(CheckPrevHashLink, wantHash, gotHash, mismatch)
		}
		if d.metaSig != "" {
			l.ExpectedSignature = verdict.Ptr(deref(s.d.PreviousDigestSignature))
			l.ActualSignature = verdict.Ptr(d.metaSig)
			wantSigLink := fmt.Sprintf("successor %s: previousDigestSignature equal to the saved metadata's signature %s", s.key, d.metaSig)
			if !sameSig(deref(s.d.PreviousDigestSignature), d.metaSig) {
				ok = false
				r.conflict(d, s, results)
				d.fail(CheckPrevSignatureLink, wantSigLink, deref(s.d.PreviousDigestSignature), mismatch)
			} else {
				d.pass(CheckPrevSignatureLink, wantSigLink, deref(s.d.PreviousDigestSignature))
			}
		}
		l.Match = ok
		links = append(links, l)
	}
	if len(d.successors) == 0 {
		d.notRun(CheckPrevHashLink, "no digest in the evidence names this one as its previous digest")
	}
	if len(d.successors) == 0 || d.metaSig == "" {
		d.notRun(CheckPrevSignatureLink, "needs a successor digest and a signature in saved metadata to compare")
	}
	if links != nil {
		d.detail.SuccessorLinks = links
	}
	wantLoc := "found at its signed key " + dd.DigestS3Object
	if moved {
		d.detail.ExpectedKey = dd.DigestS3Object
		d.fail(CheckLocation, wantLoc, actual+" (by "+how+")", fmt.Sprintf("found at key %s, signed for %s", actual, dd.DigestS3Object))
	} else {
		d.pass(CheckLocation, wantLoc, actual+" (by "+how+")")
	}
	d.decide()
	// A digest whose own signature or key is not in order vouches for
	// nothing, with no exception: its log files are unverified.
	if !vouches(d.status) {
		d.authentic = false
	}
	d.detail.Authentic = verdict.Ptr(d.authentic)
	if d.authentic {
		d.authBy = authBy
		d.detail.AuthenticatedBy = authBy
	}
}

// vouches reports whether a digest with this status may vouch for the log
// files it lists (when its signature verified): valid digests, and those
// whose only fault lies elsewhere (found at another key, or a successor
// that disagrees with it). Every other status is about the digest's own
// signature, key or format.
func vouches(status string) bool {
	return status == StatusValid || status == StatusMoved || status == StatusChainMismatch
}

type sigSource struct{ source, sig, from string }

// sigSources are the signatures that may be d's: its saved metadata's,
// then each successor's previousDigestSignature.
func (d *digestItem) sigSources() []sigSource {
	var sigs []sigSource
	if d.metaSig != "" {
		sigs = append(sigs, sigSource{"metadata", d.metaSig, d.key})
	}
	for _, s := range d.successors {
		if s.d != nil && s.d.PreviousDigestSignature != nil {
			sigs = append(sigs, sigSource{"successor", *s.d.PreviousDigestSignature, s.key})
		}
	}
	return sigs
}

// sidecarsAgree checks a digest that has more than one saved metadata
// export (its sidecar's name occurs twice in a source): when they differ
// in signature or signature-algorithm, what S3 held cannot be told, so no
// signature of the digest counts; a conflict finding names them all.
func (r *run) sidecarsAgree(d *digestItem) {
	const want = "every saved metadata export of the digest holds the same signature and signature-algorithm"
	if len(d.sidecars) < 2 {
		d.pass(CheckMetadataConsistent, want, fmt.Sprintf("%d export", len(d.sidecars)))
		return
	}
	first := d.sidecars[0]
	sig0, _ := meta(first, "signature")
	alg0, _ := meta(first, "signature-algorithm")
	var ids []int64
	agree := true
	var found []verdict.MetadataExport
	for _, sc := range d.sidecars {
		sig, _ := meta(sc, "signature")
		alg, _ := meta(sc, "signature-algorithm")
		ids = append(ids, sc.EvidenceID)
		found = append(found, verdict.MetadataExport{EvidenceID: sc.EvidenceID, Path: sidecarPath(sc), Signature: sig, SignatureAlgorithm: alg})
		if !sameSig(sig, sig0) || alg != alg0 {
			agree = false
		}
	}
	d.detail.MetadataEvidenceIDs = ids
	if agree {
		d.pass(CheckMetadataConsistent, want, fmt.Sprintf("%d exports, all alike", len(d.sidecars)))
		return
	}
	d.detail.MetadataExports = found
	d.fail(CheckMetadataConsistent, want, fmt.Sprintf("%d exports that differ", len(d.sidecars)),
		fmt.Sprintf("%d saved metadata exports of this digest disagree on its signature: which one S3 held cannot be told", len(d.sidecars)))
	r.addFinding(Finding{Type: FindingConflict, Severity: SeverityError, Chain: d.chain.String(),
		Account: d.chain.Account, Region: d.chain.Region, Trail: d.chain.Trail,
		Summary: fmt.Sprintf("%d saved metadata exports of digest %s disagree on its signature", len(d.sidecars), d.key),
		Detail:  map[string]any{"digest": d.key, "path": displayPath(d.ev), "metadata_exports": found}})
}

func sidecarPath(s *store.DigestSidecar) string {
	if s.Member == "" {
		return s.Path
	}
	return s.Path + "!/" + s.Member
}

// conflict records a saved signature that disagrees with the successor's
// copy.
func (r *run) conflict(d, s *digestItem, results map[string]bool) {
	saved, copy := d.metaSig, deref(s.d.PreviousDigestSignature)
	det := map[string]any{"digest": d.key, "path": displayPath(d.ev), "successor": s.key,
		"metadata_signature": saved, "successor_signature": copy}
	if v, ok := results[strings.ToLower(strings.TrimSpace(saved))]; ok {
		det["metadata_signature_verifies"] = v
	}
	if v, ok := results[strings.ToLower(strings.TrimSpace(copy))]; ok {
		det["successor_signature_verifies"] = v
	}
	r.addFinding(Finding{Type: FindingConflict, Severity: SeverityError, Chain: d.chain.String(),
		Account: d.chain.Account, Region: d.chain.Region, Trail: d.chain.Trail,
		Summary: fmt.Sprintf("the saved signature of %s differs from the copy in its successor %s", d.key, s.key),
		Start:   fmtTime(d.start), End: fmtTime(d.end), Detail: det})
}

// locate says where a digest was found relative to its signed location:
// the key under a folder named after the bucket, else its AWSLogs/...
// suffix, else (a flattened copy) its file name.
func locate(e *store.Evidence, bucket, signed string) (actual, how string) {
	name := localName(e)
	if strings.HasSuffix(name, "/"+bucket+"/"+signed) {
		return signed, "bucket_folder"
	}
	if i := strings.LastIndex(name, "/"+bucket+"/"); i >= 0 {
		return name[i+len(bucket)+2:], "bucket_folder"
	}
	if e.S3Key != "" {
		if e.S3Key == awsLogsSuffix(signed) {
			return signed, "awslogs_suffix"
		}
		return e.S3Key, "awslogs_suffix"
	}
	if path.Base(name) == path.Base(signed) {
		return signed, "file_name"
	}
	return path.Base(name), "file_name"
}

// sortedChain returns the parseable digests of chain c by end time: c
// is the chain being verified (computed once per chain).
func (r *run) sortedChain(c chainID) []*digestItem {
	if r.ord == nil {
		r.ord = map[chainID][]*digestItem{}
		for _, d := range r.dig {
			if inChainOrder(d) && !d.outOfRange {
				r.ord[d.chain] = append(r.ord[d.chain], d)
			}
		}
		for _, ds := range r.ord {
			sort.SliceStable(ds, func(i, j int) bool { return ds[i].end.Before(ds[j].end) })
		}
	}
	return r.ord[c]
}
