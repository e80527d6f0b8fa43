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
// show whether the copy changed since ingest (a rehash finding when it
// did). Statuses: valid, checksum_mismatch, size_mismatch, unverifiable
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
	"strings"

	"github.com/forensic-dev/forensic/ingest/cloudtrail"
	"github.com/forensic-dev/forensic/ingest/source"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify/s3check"
)

// KindObject is the item kind of S3 object copies.
const KindObject = "object"

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
	detail   map[string]any
}

func (o *objectCopy) item() Item {
	it := Item{Kind: KindObject, S3Bucket: o.bucket, S3Key: o.key, Status: o.status, Detail: o.detail}
	if o.ev != nil {
		it.Path, it.EvidenceID = displayPath(o.ev), o.ev.ID
	}
	return it
}

// objects pairs copies with their metadata, reads every copy that has
// metadata once, and returns one item per copy.
func (r *run) objects() ([]Item, error) {
	ctx := r.ctx
	evs, err := r.c.EvidenceOfKinds(ctx, store.KindObject, store.KindUnknown, store.KindObjectMetadata)
	if err != nil {
		return nil, err
	}
	beside, err := r.c.ObjectMetaBeside(ctx)
	if err != nil {
		return nil, err
	}
	local := map[string]*store.Evidence{}    // s3_object and unknown items by identity
	metaErrs := map[string]*store.Evidence{} // unreadable metadata files by identity
	var unknown []*store.Evidence            // candidates for metadata_missing
	copies := map[string]*objectCopy{}       // by identity
	folders := map[string]bool{}             // bucket folders: scope "\x00" folder
	var order []string                       // identities in evidence order, then missing ones
	for i := range evs {
		e := &evs[i]
		id := sidecarKey(e.Path, e.Member, localName(e))
		switch e.Kind {
		case store.KindObjectMetadata:
			if e.Error != "" {
				metaErrs[id] = e
			}
			continue
		case store.KindUnknown:
			unknown = append(unknown, e)
		case store.KindObject:
			c := &objectCopy{ev: e, bucket: e.S3Bucket, key: e.S3Key}
			c.version, c.atKey = versionOf(localName(e))
			copies[id] = c
			order = append(order, id)
			addFolder(folders, e.Path, e.Member, localName(e), e.S3Bucket, e.S3Key)
		}
		local[id] = e
	}
	// CloudTrail files: their sidecars belong to digest verification.
	trail := map[string]bool{}
	for _, es := range [][]*store.Evidence{r.in.digestEv, r.in.logs} {
		for _, e := range es {
			trail[sidecarKey(e.Path, e.Member, localName(e))] = true
		}
	}
	// Sidecar rows by the copy they name.
	for _, m := range beside {
		on := normObject(m.Member != "", m.ObjectPath)
		id := sidecarKey(m.Path, m.Member, on)
		if trail[id] {
			continue
		}
		if _, ok := cloudtrail.ParseKey(on); ok && m.Bucket == "" {
			continue // the sidecar of a CloudTrail file the evidence lacks
		}
		c := copies[id]
		if c == nil {
			c = &objectCopy{bucket: m.Bucket, key: m.Key, expected: m.ObjectPath}
			if m.Member != "" {
				c.expected = m.Path + "!/" + m.ObjectPath
			}
			c.version, c.atKey = versionOf(on)
			if e := local[id]; e != nil {
				c.ev = e // an item ingest could not pair (e.g. unreadable)
			}
			copies[id] = c
			order = append(order, id)
		}
		if c.bucket == "" {
			c.bucket, c.key = m.Bucket, m.Key
		}
		if c.version == "" && m.VersionID != "" && m.VersionID != "null" {
			c.version = m.VersionID
		}
		c.rows = append(c.rows, m)
		addFolder(folders, m.Path, m.Member, on, m.Bucket, m.Key)
	}
	// Unknown files in a bucket folder: copies without a sidecar.
	for _, e := range unknown {
		id := sidecarKey(e.Path, e.Member, localName(e))
		if copies[id] != nil {
			continue
		}
		bucket, key, ok := inBucketFolder(folders, e)
		if !ok {
			continue
		}
		c := &objectCopy{ev: e, bucket: bucket}
		c.key, c.version = splitVersionKey(key)
		c.atKey = c.version == ""
		copies[id] = c
		order = append(order, id)
	}
	// Rows naming the bucket and key but no local copy.
	byKey := map[string][]store.MetaRow{}
	for _, id := range order {
		c := copies[id]
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
	for _, id := range order {
		c := copies[id]
		c.detail = map[string]any{"version_id": c.version, "metadata": metaRefs(c.rows)}
		switch {
		case c.ev == nil:
			c.status = StatusObjectMissing
			c.detail["expected_path"] = c.expected
			c.detail["reason"] = fmt.Sprintf("metadata exported beside %s (%s) describe an object copy the evidence lacks",
				c.expected, sourcesOf(c.rows))
			c.detail["size"] = map[string]any{"expected": claimedSize(c.rows), "actual": nil}
		case len(c.rows) == 0:
			c.status = StatusMetadataMissing
			name := displayPath(c.ev)
			reason := fmt.Sprintf("no head-object or get-object-attributes export beside it (%s.metadata.json, %s.attributes.json) and no listing or inventory row for s3://%s/%s",
				path.Base(name), path.Base(name), c.bucket, c.key)
			if c.version != "" {
				reason += " version " + c.version
			}
			for _, suf := range []string{".metadata.json", ".attributes.json"} {
				if me := metaErrs[sidecarKey(c.ev.Path, c.ev.Member, localName(c.ev)+suf)]; me != nil {
					reason += fmt.Sprintf("; %s could not be read: %s", displayPath(me), me.Error)
				}
			}
			c.detail["reason"] = reason
			c.detail["size"] = map[string]any{"expected": nil, "actual": c.ev.Size}
			c.detail["sha256"] = c.ev.SHA256
		default:
			metas := make([]store.ObjectMeta, len(c.rows))
			for i := range c.rows {
				metas[i] = c.rows[i].ObjectMeta
				metas[i].ObjectPath = "" // sidecar rows of one copy may spell it differently
			}
			p, err := s3check.NewPlan(metas)
			if err != nil {
				c.status = StatusUnverifiable
				c.detail["reason"] = "the metadata rows cannot be checked together: " + err.Error()
				continue
			}
			c.plan = p
			read = append(read, c)
		}
	}
	if err := r.readObjects(read); err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(order))
	for _, id := range order {
		items = append(items, copies[id].item())
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
	if c.result == nil {
		c.status = StatusUnverifiable
		d["reason"] = fmt.Sprintf("cannot read %s: %s", displayPath(c.ev), c.readErr)
		d["size"] = map[string]any{"expected": sizeOrNil(c.plan.Size), "actual": nil}
		d["sha256_at_ingest"] = c.ev.SHA256
		r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("object copy %s cannot be read again: %s; it is unverifiable", displayPath(c.ev), c.readErr),
			Detail:  map[string]any{"path": displayPath(c.ev), "evidence_id": c.ev.ID, "error": c.readErr}})
		return
	}
	res := c.result
	c.status = res.Status
	checks := make([]map[string]any, 0, len(res.Checks))
	var primary *s3check.Check
	for i := range res.Checks {
		ck := &res.Checks[i]
		m := map[string]any{"algorithm": ck.Algorithm, "type": ck.Type, "expected": ck.Expected, "computed": ck.Computed,
			"match": ck.Match, "method": ck.Method}
		if ck.Skipped {
			m["skipped"] = true
			m["reason"] = ck.Reason
		}
		checks = append(checks, m)
		if !ck.Skipped && (primary == nil || primary.Match && !ck.Match) {
			primary = ck
		}
	}
	d["checks"] = checks
	if primary != nil {
		d["algorithm"], d["expected"], d["computed"], d["method"] = primary.Algorithm, primary.Expected, primary.Computed, primary.Method
	}
	d["size"] = map[string]any{"expected": sizeOrNil(res.ExpectedSize), "actual": res.Size}
	d["sha256"] = c.sha
	if res.Reason != "" {
		d["reason"] = res.Reason
	}
	if len(res.Notes) > 0 {
		d["notes"] = res.Notes
	}
	if len(res.Conflicts) > 0 {
		d["conflicts"] = res.Conflicts
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
	if c.sha != c.ev.SHA256 && c.ev.SHA256 != "" {
		d["sha256_at_ingest"] = c.ev.SHA256
		r.findings = append(r.findings, Finding{Type: FindingRehash, Severity: SeverityError,
			Summary: fmt.Sprintf("object copy %s changed since it was ingested: SHA-256 %s, recorded %s; its status is about the bytes read now", displayPath(c.ev), c.sha, c.ev.SHA256),
			Detail:  map[string]any{"path": displayPath(c.ev), "evidence_id": c.ev.ID, "expected_sha256": c.ev.SHA256, "actual_sha256": c.sha}})
	}
}
