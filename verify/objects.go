package verify

// Object verification (issue #4). Every local copy of an S3 object in the
// case gets exactly one item of kind "object":
//
//   - Copies are evidence of kind s3_object (ingest pairs a file with the
//     K.metadata.json / K.attributes.json beside it), plus files of kind
//     unknown that sit in a bucket folder: a folder "<...>/<bucket>" is a
//     bucket folder when the case holds a copy or a sidecar of an object
//     of <bucket> whose local name ends in "<bucket>/<key>" (for archive
//     members, within the same archive). A file there with no export
//     beside it is a copy whose metadata is missing, not an unrelated
//     file: that is how the fixtures' object-metadata-missing tampering
//     (both sidecars removed) shows.
//   - A copy's metadata are the rows exported beside it (object_path is
//     the copy: its path on disk, or its member name in the same
//     archive), plus rows that name its bucket and key but no local copy
//     (list-object-versions, inventory, exports saved elsewhere). Those
//     match by version id: a copy's version is the VersionId of its
//     sidecars, else <VersionId> of a ".../K.versions/<VersionId>" path.
//     A row with a version id matches a copy of that version, or a copy
//     of unknown version at the key itself (not under .versions/) when
//     the row is the latest version (IsLatest true, or the only version
//     row of the key with IsLatest unknown). A row without a version id
//     (or "null") matches the copy at the key itself. Delete markers
//     describe no content and are left out.
//   - Rows exported beside a copy that the evidence lacks make one
//     object_missing item per copy path. Listing and inventory rows alone
//     never do: they describe the bucket, not what was exported.
//   - Sidecars of CloudTrail files (the copy is a digest or log file of
//     the case, or its name parses as a CloudTrail key outside a bucket
//     folder) belong to digest verification and are not objects.
//
// Each copy with metadata is read once — files on disk opened read-only,
// in parallel; archive members by walking each archive once
// (source.Walk) — and s3check computes every checksum, part checksum and
// ETag the metadata carries in that pass, plus SHA-256 of the bytes to
// show whether the copy changed since ingest (when it did, the status is
// changed_since_ingest and a rehash finding says so: the item the case
// and the report name is the bytes ingested). Statuses: valid, checksum_mismatch, size_mismatch, unverifiable
// (no usable checksum or ETag, metadata rows that cannot describe one
// object, or the copy cannot be read; detail.reason says which), and
// metadata_missing, object_missing. Fields the metadata rows disagree on
// are conflict findings.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify/s3check"
)

// KindObject is the item kind of S3 object copies.
const KindObject = verdict.KindObject

// Object statuses (valid is shared). A public contract: add, never rename.
const (
	StatusChecksumMismatch = s3check.StatusChecksumMismatch
	StatusSizeMismatch     = s3check.StatusSizeMismatch
	StatusUnverifiable     = s3check.StatusUnverifiable
	StatusMetadataMissing  = "metadata_missing"
	StatusObjectMissing    = "object_missing"
)

// objectCopy is one local copy of an object version, present or expected
// by a sidecar.
type objectCopy struct {
	ev       *store.Evidence // nil when the copy is missing
	bucket   string
	key      string
	version  string
	atKey    bool   // the copy sits at the key itself, not under K.versions/
	expected string // missing copies: the path the sidecars name
	rows     []store.MetaRow
	plan     *s3check.Plan
	result   *s3check.Result
	sha      string // SHA-256 of the bytes read
	readErr  string
	status   string
	detail   *verdict.ObjectDetail
	checks   checkList
}

func (o *objectCopy) item() Item {
	it := Item{Kind: KindObject, S3Bucket: o.bucket, S3Key: o.key, Status: o.status, Detail: o.detail, Checks: o.checks}
	if o.ev != nil {
		it.Path, it.EvidenceID = displayPath(o.ev), o.ev.ID
	}
	return it
}

// objects pairs copies with their metadata, reads every copy that has
// metadata once, and returns one item per copy.
func (r *run) objects() ([]Item, error) {
	ctx := r.ctx
	evs, err := r.c.EvidenceOfKinds(ctx, store.KindObject, store.KindUnknown)
	if err != nil {
		return nil, err
	}
	// Of the metadata files, only those that could not be read matter
	// here (a copy's reason names them); digests' sidecars are many and
	// belong to digest verification.
	bad, err := r.c.EvidenceWithErrors(ctx, store.KindObjectMetadata)
	if err != nil {
		return nil, err
	}
	evs = append(evs, bad...)
	beside, err := r.c.ObjectMetaBesideObjects(ctx)
	if err != nil {
		return nil, err
	}
	// Every present copy is its own item, keyed by evidence id; copies and
	// sidecars meet by place (see place), where a name seen twice in a
	// source puts two copies.
	local := map[string][]*store.Evidence{}  // s3_object and unknown items by place
	metaErrs := map[string]*store.Evidence{} // unreadable metadata files by place
	var unknown []*store.Evidence            // candidates for metadata_missing
	byEv := map[int64]*objectCopy{}          // present copies by evidence id
	atPlace := map[string][]*objectCopy{}    // copies (present or missing) by place
	folders := map[string]bool{}             // bucket folders: scope "\x00" folder
	var order []*objectCopy                  // copies in evidence order, then missing ones
	add := func(c *objectCopy, at place) {
		order = append(order, c)
		atPlace[at.key()] = append(atPlace[at.key()], c)
		if c.ev != nil {
			byEv[c.ev.ID] = c
		}
	}
	for i := range evs {
		e := &evs[i]
		at := placeOf(e)
		switch e.Kind {
		case store.KindObjectMetadata:
			if e.Error != "" {
				metaErrs[at.key()] = e
			}
			continue
		case store.KindUnknown:
			unknown = append(unknown, e)
		case store.KindObject:
			c := &objectCopy{ev: e, bucket: e.S3Bucket, key: e.S3Key}
			c.version, c.atKey = versionOf(at.name)
			add(c, at)
			addFolder(folders, at, e.S3Bucket, e.S3Key)
		}
		local[at.key()] = append(local[at.key()], e)
	}
	// Sidecar rows by the copy they name: every copy at that place gets
	// the row. (Rows beside CloudTrail files were left out by the query:
	// they belong to digest verification.)
	for _, m := range beside {
		at := sidecarPlace(m.Path, m.Names, m.Index, m.ObjectPath)
		if _, ok := cloudtrail.ParseKey(at.name); ok && m.Bucket == "" {
			continue // the sidecar of a CloudTrail file the evidence lacks
		}
		cs := atPlace[at.key()]
		if len(cs) == 0 {
			expected := m.ObjectPath
			if m.Member != "" {
				expected = m.Path + "!/" + m.ObjectPath
			}
			evs := local[at.key()] // items ingest could not pair (e.g. unreadable)
			if len(evs) == 0 {
				evs = []*store.Evidence{nil}
			}
			for _, e := range evs {
				c := &objectCopy{ev: e, bucket: m.Bucket, key: m.Key, expected: expected}
				c.version, c.atKey = versionOf(at.name)
				add(c, at)
			}
			cs = atPlace[at.key()]
		}
		for _, c := range cs {
			if c.bucket == "" {
				c.bucket, c.key = m.Bucket, m.Key
			}
			if c.version == "" && m.VersionID != "" && m.VersionID != "null" {
				c.version = m.VersionID
			}
			c.rows = append(c.rows, m)
		}
		addFolder(folders, at, m.Bucket, m.Key)
	}
	// Unknown files in a bucket folder: copies without a sidecar.
	for _, e := range unknown {
		if byEv[e.ID] != nil {
			continue
		}
		bucket, key, ok := inBucketFolder(folders, e)
		if !ok {
			continue
		}
		c := &objectCopy{ev: e, bucket: bucket}
		c.key, c.version = splitVersionKey(key)
		c.atKey = c.version == ""
		add(c, placeOf(e))
	}
	// Rows naming the bucket and key but no local copy.
	byKey := map[string][]store.MetaRow{}
	for _, c := range order {
		if c.ev == nil || c.bucket == "" || c.key == "" {
			continue
		}
		k := c.bucket + "\x00" + c.key
		rows, ok := byKey[k]
		if !ok {
			rows, err = r.c.ObjectMetaByKey(ctx, c.bucket, c.key)
			if err != nil {
				return nil, err
			}
			byKey[k] = rows
		}
		c.rows = append(c.rows, matchVersion(c, rows)...)
	}
	var read []*objectCopy
	for _, c := range order {
		// The rows in an order of the evidence's own (not the order ingest
		// happened to record them in), so that the verdict reads the same
		// on every run.
		// The exports beside the copy come first (their size is the one
		// reported), then listings and inventory rows.
		sort.SliceStable(c.rows, func(i, j int) bool {
			a, b := c.rows[i], c.rows[j]
			if (a.ObjectPath != "") != (b.ObjectPath != "") {
				return a.ObjectPath != ""
			}
			if a.Path+"\x00"+a.Member != b.Path+"\x00"+b.Member {
				return a.Path+"\x00"+a.Member < b.Path+"\x00"+b.Member
			}
			return a.Source < b.Source
		})
		c.detail = &verdict.ObjectDetail{VersionID: c.version, Metadata: metaRefs(c.rows)}
		const wantMeta = "saved metadata of the object: a head-object or get-object-attributes export beside it, or a listing or inventory row"
		switch {
		case c.ev == nil:
			c.detail.ExpectedPath = c.expected
			c.detail.Reason = fmt.Sprintf("metadata exported beside %s (%s) describe an object copy the evidence lacks",
				c.expected, sourcesOf(c.rows))
			c.detail.Size = &verdict.ObjectSize{Expected: claimedSize(c.rows)}
			c.status, c.checks = missingChecks(ObjectOrder, "the object copy "+c.expected+" the metadata describe", c.detail)
		case len(c.rows) == 0:
			c.checks.pass(CheckPresent, "the object copy in the evidence", displayPath(c.ev))
			name := displayPath(c.ev)
			reason := fmt.Sprintf("no head-object or get-object-attributes export beside it (%s.metadata.json, %s.attributes.json) and no listing or inventory row for s3://%s/%s",
				path.Base(name), path.Base(name), c.bucket, c.key)
			if c.version != "" {
				reason += " version " + c.version
			}
			for _, suf := range sidecarSuffixes {
				at := placeOf(c.ev)
				if me := metaErrs[place{at.scope, at.name + suf}.key()]; me != nil {
					reason += fmt.Sprintf("; %s could not be read: %s", displayPath(me), me.Error)
				}
			}
			c.detail.Reason = reason
			c.detail.Size = &verdict.ObjectSize{Actual: verdict.Ptr(c.ev.Size)}
			c.detail.SHA256 = verdict.Ptr(c.ev.SHA256)
			c.checks.fail(CheckMetadata, wantMeta, "none", reason)
			c.status = c.checks.decide(ObjectOrder, nil)
		default:
			c.checks.pass(CheckPresent, "the object copy in the evidence", displayPath(c.ev))
			c.checks.pass(CheckMetadata, wantMeta, sourcesOf(c.rows))
			metas := make([]store.ObjectMeta, len(c.rows))
			for i := range c.rows {
				metas[i] = c.rows[i].ObjectMeta
				metas[i].ObjectPath = "" // sidecar rows of one copy may spell it differently
			}
			p, err := s3check.NewPlan(metas)
			const wantTogether = "metadata rows that can be checked together (one object, one version)"
			if err != nil {
				c.detail.Reason = "the metadata rows cannot be checked together: " + err.Error()
				c.checks.fail(CheckMetadataCompatible, wantTogether, err.Error(), c.detail.Reason)
				c.status = c.checks.decide(ObjectOrder, nil)
				continue
			}
			c.checks.pass(CheckMetadataCompatible, wantTogether, fmt.Sprintf("%d rows", len(metas)))
			c.plan = p
			read = append(read, c)
		}
	}
	if err := r.readObjects(read); err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(order))
	for _, c := range order {
		items = append(items, c.item())
	}
	return items, nil
}

// readObjects checks every copy once: files on disk in parallel, archive
// members by walking each archive once.
func (r *run) readObjects(cs []*objectCopy) error {
	byEv := map[int64]*objectCopy{}
	var evs []*store.Evidence
	for _, c := range cs {
		byEv[c.ev.ID] = c
		evs = append(evs, c.ev)
	}
	failed, err := readEvidence(r.ctx, evs, r.opt.Workers, func(e *store.Evidence, rd io.Reader) error {
		c := byEv[e.ID]
		h := sha256.New()
		res := c.plan.Check(io.TeeReader(rd, h))
		if res.Err != nil {
			var re *source.ReadError
			if errors.As(res.Err, &re) {
				return re // Walk emits the member again with Err set
			}
			return errIO{res.Err}
		}
		c.result, c.sha = &res, hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if msg, ok := failed[c.ev.ID]; ok {
			c.result, c.readErr = nil, msg
		}
		r.judgeObject(c)
	}
	return nil
}

// judgeObject turns a copy's check result into its status and detail.
func (r *run) judgeObject(c *objectCopy) {
	d := c.detail
	defer func() { c.status = c.checks.decide(ObjectOrder, nil) }()
	if c.result == nil {
		d.Reason = fmt.Sprintf("cannot read %s: %s", displayPath(c.ev), c.readErr)
		c.checks.fail(s3check.CheckReadable, "the object's bytes read to the end", c.readErr, d.Reason)
		d.Size = &verdict.ObjectSize{Expected: c.plan.Size}
		d.SHA256AtIngest = verdict.Ptr(c.ev.SHA256)
		r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("object copy %s cannot be read again: %s; it is unverifiable", displayPath(c.ev), c.readErr),
			Detail:  map[string]any{"path": displayPath(c.ev), "evidence_id": c.ev.ID, "error": c.readErr}})
		return
	}
	res := c.result
	// The bytes read: their checks, first whether they are the bytes
	// ingested.
	const wantSame = "the bytes ingested: SHA-256 as recorded at ingest"
	if c.sha != c.ev.SHA256 {
		c.checks.fail(CheckUnchanged, wantSame+" ("+c.ev.SHA256+")", c.sha,
			fmt.Sprintf("read again, the copy's SHA-256 is %s, not %s as ingested", c.sha, c.ev.SHA256))
	} else {
		c.checks.pass(CheckUnchanged, wantSame+" ("+c.ev.SHA256+")", c.sha)
	}
	c.checks = append(c.checks, res.Verdict...)
	c.status = res.Status
	checks := make([]verdict.ValueCheck, 0, len(res.Checks))
	var primary *s3check.Check
	for i := range res.Checks {
		ck := &res.Checks[i]
		m := verdict.ValueCheck{Algorithm: ck.Algorithm, Type: ck.Type, Expected: ck.Expected, Computed: ck.Computed,
			Match: ck.Match, Method: ck.Method}
		if ck.Skipped {
			m.Skipped, m.Reason = true, ck.Reason
		}
		checks = append(checks, m)
		if !ck.Skipped && (primary == nil || primary.Match && !ck.Match) {
			primary = ck
		}
	}
	d.Checks = &checks
	if primary != nil {
		d.Algorithm, d.Expected, d.Computed, d.Method = primary.Algorithm, verdict.Ptr(primary.Expected), verdict.Ptr(primary.Computed), verdict.Ptr(primary.Method)
	}
	d.Size = &verdict.ObjectSize{Expected: res.ExpectedSize, Actual: verdict.Ptr(res.Size)}
	d.SHA256 = verdict.Ptr(c.sha)
	if res.Reason != "" {
		d.Reason = res.Reason
	}
	if len(res.Notes) > 0 {
		d.Notes = res.Notes
	}
	if len(res.Conflicts) > 0 {
		d.Conflicts = conflicts(res.Conflicts)
		for _, cf := range res.Conflicts {
			var vals []string
			for _, v := range cf.Values {
				vals = append(vals, fmt.Sprintf("%s (%s, evidence %d)", v.Value, v.Source, v.EvidenceID))
			}
			r.findings = append(r.findings, Finding{Type: FindingConflict, Severity: SeverityWarning,
				Summary: fmt.Sprintf("the metadata of s3://%s/%s (%s) disagree on %s: %s", c.bucket, c.key, displayPath(c.ev), cf.Field, strings.Join(vals, " vs ")),
				Detail:  map[string]any{"kind": KindObject, "s3_bucket": c.bucket, "s3_key": c.key, "version_id": c.version, "path": displayPath(c.ev), "field": cf.Field, "values": cf.Values}})
		}
	}
	if c.sha != c.ev.SHA256 {
		// The evidence item is the bytes ingested (its SHA-256 is what the
		// report lists); these are others, so it is not valid, whatever
		// they match. What they match stays in the detail.
		d.SHA256AtIngest = verdict.Ptr(c.ev.SHA256)
		d.StatusOfBytesRead = c.status
		c.status = StatusChangedSinceIngest
		d.Reason = fmt.Sprintf("read again, the copy's SHA-256 is %s, not %s as ingested: it is not the evidence item the case holds; ingest it again to check these bytes", c.sha, c.ev.SHA256)
		r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("object copy %s changed since it was ingested: SHA-256 %s, recorded %s; it is changed_since_ingest", displayPath(c.ev), c.sha, c.ev.SHA256),
			Detail:  map[string]any{"path": displayPath(c.ev), "evidence_id": c.ev.ID, "expected_sha256": c.ev.SHA256, "actual_sha256": c.sha}})
	}
}

// conflicts are s3check's conflicts as the detail gives them.
func conflicts(cs []s3check.Conflict) []verdict.Conflict {
	out := make([]verdict.Conflict, len(cs))
	for i, c := range cs {
		out[i].Field = c.Field
		for _, v := range c.Values {
			out[i].Values = append(out[i].Values, verdict.Claim{Value: v.Value, Source: v.Source, EvidenceID: v.EvidenceID})
		}
	}
	return out
}
