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
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
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
// metadata once, and emits one item per copy. What pairing needs across
// the case — where every candidate and sidecar sits, the bucket folders,
// the copies decided on — is in the scratch tables (store's object
// working tables), so memory holds a chunk of copies, whatever the
// number of objects: a pass records the places of the candidates and of
// the sidecars; one over the places pairs them, a range of places at a
// time; one over the unknown files left finds those in bucket folders;
// and one over the copies judges them a chunk at a time, reading the
// copies on disk with the chunk and recording those in archives, which
// are then read as each archive is walked once.
func (r *run) objects() error {
	ctx, x := r.ctx, r.x
	ix, err := x.ObjectIndexer(ctx)
	if err != nil {
		return err
	}
	if r.byKey, err = r.c.HasMetaByKey(ctx); err != nil {
		return err
	}
	addFolder := func(at place, bucket, key string) error {
		if f, ok := bucketFolder(at, bucket, key); ok {
			return ix.AddFolder(ctx, at.scope, f)
		}
		return nil
	}
	// Of the metadata files, only those that could not be read matter
	// here (a copy's reason names them); digests' sidecars are many and
	// belong to digest verification.
	err = x.ObjectCandidateChunks(ctx, r.opt.chunk, func(chunk []store.Evidence) error {
		for i := range chunk {
			e := &chunk[i]
			at := placeOf(e)
			kind := store.PlaceUnknown
			switch e.Kind {
			case store.KindObjectMetadata:
				kind = store.PlaceMetaError
			case store.KindObject:
				kind = store.PlaceObject
				if err := addFolder(at, e.S3Bucket, e.S3Key); err != nil {
					return err
				}
			}
			if err := ix.AddPlace(ctx, e.ID, at.scope, at.name, kind, e.S3Bucket, e.S3Key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Sidecar rows at the place of the copy they name. (Rows beside
	// CloudTrail files were left out by the query: they belong to digest
	// verification.)
	err = x.BesideObjectChunks(ctx, r.opt.chunk, func(ms []store.MetaHead) error {
		for _, m := range ms {
			at := sidecarPlace(m.Path, m.Names, m.Index, m.ObjectPath)
			if _, ok := cloudtrail.ParseKey(at.name); ok && m.Bucket == "" {
				continue // the sidecar of a CloudTrail file the evidence lacks
			}
			expected := m.ObjectPath
			if m.Member != "" {
				expected = m.Path + "!/" + m.ObjectPath
			}
			if err := ix.AddSide(ctx, store.ObjectSide{MetaID: m.MetaID, Scope: at.scope, Name: at.name,
				Bucket: m.Bucket, Key: m.Key, Version: m.VersionID, Expected: expected}); err != nil {
				return err
			}
			if err := addFolder(at, m.Bucket, m.Key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := ix.EndPlaces(ctx); err != nil {
		return err
	}
	// Every present copy is its own item; copies and sidecars meet by
	// place (see place), where a name seen twice in a source puts two
	// copies, and every copy at a place gets every sidecar row there.
	next := int64(0)
	err = x.PlaceGroupChunks(ctx, r.opt.chunk, func(gs []store.PlaceGroup) error {
		for _, g := range gs {
			version, atKey := versionOf(g.Name)
			cs := g.Objects
			if len(cs) == 0 && len(g.Sides) > 0 {
				// No copy where the sidecars put one: the copy is missing,
				// or it is an item ingest could not pair (e.g. unreadable).
				m := g.Sides[0]
				evs := g.Unknown
				if len(evs) == 0 {
					evs = []int64{0}
				}
				for _, ev := range evs {
					cs = append(cs, store.ObjectCopyRow{EvidenceID: ev, Bucket: m.Bucket, Key: m.Key, Expected: m.Expected})
				}
			}
			metas := make([]int64, len(g.Sides))
			for i := range cs {
				cs[i].Version, cs[i].AtKey = version, atKey
			}
			for i, m := range g.Sides {
				metas[i] = m.MetaID
				for j := range cs {
					c := &cs[j]
					if c.Bucket == "" {
						c.Bucket, c.Key = m.Bucket, m.Key
					}
					if c.Version == "" && m.Version != "" && m.Version != "null" {
						c.Version = m.Version
					}
				}
			}
			for _, c := range cs {
				next++
				c.ID = next
				if err := ix.AddCopy(ctx, c, metas); err != nil {
					return err
				}
			}
		}
		return ix.Flush(ctx)
	})
	if err != nil {
		return err
	}
	// Unknown files in a bucket folder: copies without a sidecar.
	err = x.UnpairedUnknownChunks(ctx, r.opt.chunk, func(ps []store.PlacedItem) error {
		for _, p := range ps {
			at := place{p.Scope, p.Name}
			if _, ok := described(at); ok {
				continue // names of metadata exports are never objects
			}
			var dirs []string
			for dir := path.Dir(at.name); dir != "/" && dir != "." && dir != ""; dir = path.Dir(dir) {
				dirs = append(dirs, dir)
			}
			folder, ok, err := x.DeepestFolder(ctx, at.scope, dirs)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			key, version := splitVersionKey(at.name[len(folder)+1:])
			next++
			c := store.ObjectCopyRow{ID: next, EvidenceID: p.ID, Bucket: path.Base(folder), Key: key, Version: version, AtKey: version == ""}
			if err := ix.AddCopy(ctx, c, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := ix.Flush(ctx); err != nil {
		return err
	}
	// The copies: judged a chunk at a time; those on disk read with the
	// chunk, those in archives recorded to be read by walking each archive
	// once.
	members, err := x.NewMemberList(ctx)
	if err != nil {
		return err
	}
	err = x.ObjectCopyChunks(ctx, r.opt.chunk, func(rows []store.ObjectCopyRow, metas map[int64][]int64) error {
		// Copies in archives are prepared when the walk meets them (or
		// fails to), not twice.
		var now []store.ObjectCopyRow
		for _, row := range rows {
			if row.EvidenceID == 0 || row.Member == "" {
				now = append(now, row)
				continue
			}
			e := store.Evidence{ID: row.EvidenceID, Path: row.Path, Member: row.Member, MemberIndex: row.MemberIndex}
			if err := members.Add(ctx, &e); err != nil {
				return err
			}
		}
		cs, err := r.prepareCopies(now, metas)
		if err != nil {
			return err
		}
		var disk []*objectCopy
		for _, c := range cs {
			if c.plan == nil {
				it := c.item()
				if err := r.emit(&it); err != nil {
					return err
				}
			} else {
				disk = append(disk, c)
			}
		}
		return r.readObjectFiles(disk)
	})
	if err != nil {
		return err
	}
	if err := members.Close(ctx); err != nil {
		return err
	}
	paths, legacy, err := x.MemberArchives(ctx)
	if err != nil {
		return err
	}
	for _, p := range paths {
		// A copy that needs no reading (plan nil) has its status whether
		// or not the walk meets it.
		err := r.walkMembers(p, legacy[p], memberHooks{
			read: func(id int64, rd io.Reader) error {
				c, err := r.copyOf(id)
				if err != nil || c.plan == nil {
					return r.emitDecided(c, err)
				}
				if err := c.check(rd); err != nil {
					return err
				}
				return r.finishObject(c)
			},
			fail: func(id int64, msg string) error {
				c, err := r.copyOf(id)
				if err != nil || c.plan == nil {
					return r.emitDecided(c, err)
				}
				c.readErr = msg
				return r.finishObject(c)
			},
			prefetch: r.prepareMembers,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// prepareCopies loads a chunk of copies — their evidence and metadata
// rows — and decides each that needs no reading (plan nil: its status is
// set); the others have their plan.
func (r *run) prepareCopies(rows []store.ObjectCopyRow, metas map[int64][]int64) ([]*objectCopy, error) {
	ctx, x := r.ctx, r.x
	var ids, mids []int64
	for _, row := range rows {
		if row.EvidenceID != 0 {
			ids = append(ids, row.EvidenceID)
		}
		mids = append(mids, metas[row.ID]...)
	}
	evs, err := x.EvidenceByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	mrows, err := r.c.MetaRowsByID(ctx, mids)
	if err != nil {
		return nil, err
	}
	byMeta := make(map[int64]store.MetaRow, len(mrows))
	for _, m := range mrows {
		byMeta[m.MetaID] = m
	}
	byKey := map[string][]store.MetaRow{} // rows naming a bucket and key but no local copy
	out := make([]*objectCopy, 0, len(rows))
	for _, row := range rows {
		c := &objectCopy{bucket: row.Bucket, key: row.Key, version: row.Version, atKey: row.AtKey, expected: row.Expected}
		if row.EvidenceID != 0 {
			if c.ev = evs[row.EvidenceID]; c.ev == nil {
				return nil, fmt.Errorf("object copy: evidence %d is gone from the case", row.EvidenceID)
			}
		}
		for _, id := range metas[row.ID] {
			m, ok := byMeta[id]
			if !ok {
				return nil, fmt.Errorf("object copy: metadata row %d is gone from the case", id)
			}
			c.rows = append(c.rows, m)
		}
		if r.byKey && c.ev != nil && c.bucket != "" && c.key != "" {
			k := c.bucket + "\x00" + c.key
			rows, ok := byKey[k]
			if !ok {
				if rows, err = r.c.ObjectMetaByKey(ctx, c.bucket, c.key); err != nil {
					return nil, err
				}
				byKey[k] = rows
			}
			c.rows = append(c.rows, matchVersion(c, rows)...)
		}
		if err := r.decideCopy(c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// prepareMembers prepares the copies of a page of archive members the
// walk is about to meet (in place of the previous page's: memory holds
// one page).
func (r *run) prepareMembers(ids []int64) error {
	rows, metas, err := r.x.ObjectCopiesOf(r.ctx, ids)
	if err != nil {
		return err
	}
	cs, err := r.prepareCopies(rows, metas)
	if err != nil {
		return err
	}
	r.ready = make(map[int64]*objectCopy, len(cs))
	for _, c := range cs {
		r.ready[c.ev.ID] = c
	}
	return nil
}

// copyOf is the prepared copy of evidence item id, an archive member:
// prepared with its page, or now.
func (r *run) copyOf(id int64) (*objectCopy, error) {
	if c, ok := r.ready[id]; ok {
		delete(r.ready, id)
		return c, nil
	}
	rows, metas, err := r.x.ObjectCopiesOf(r.ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("object copy of evidence %d: %d in verify's working tables, not one", id, len(rows))
	}
	cs, err := r.prepareCopies(rows, metas)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// emitDecided emits a copy decided without reading (err: copyOf's).
func (r *run) emitDecided(c *objectCopy, err error) error {
	if err != nil {
		return err
	}
	it := c.item()
	return r.emit(&it)
}

// decideCopy orders a copy's metadata rows and decides what needs no
// reading: a missing copy, a copy without metadata, metadata rows that
// cannot be checked together. Otherwise it sets the copy's plan.
func (r *run) decideCopy(c *objectCopy) error {
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
		at := placeOf(c.ev)
		for _, suf := range sidecarSuffixes {
			bad, err := r.x.MetaErrorAt(r.ctx, at.scope, at.name+suf)
			if err != nil {
				return err
			}
			for i := range bad {
				reason += fmt.Sprintf("; %s could not be read: %s", displayPath(&bad[i]), bad[i].Error)
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
			return nil
		}
		c.checks.pass(CheckMetadataCompatible, wantTogether, fmt.Sprintf("%d rows", len(metas)))
		c.plan = p
	}
	return nil
}

// check reads the copy's bytes once: every checksum its plan names, and
// SHA-256. A read failure is errIO (a *source.ReadError inside it for a
// damaged archive member).
func (c *objectCopy) check(rd io.Reader) error {
	h := sha256.New()
	res := c.plan.Check(io.TeeReader(rd, h))
	if res.Err != nil {
		return errIO{res.Err}
	}
	c.result, c.sha = &res, hex.EncodeToString(h.Sum(nil))
	return nil
}

// finishObject judges a copy that was read (or could not be) and emits it.
func (r *run) finishObject(c *objectCopy) error {
	r.judgeObject(c)
	it := c.item()
	return r.emit(&it)
}

// readObjectFiles checks copies that are files on disk, in parallel, and
// emits them.
func (r *run) readObjectFiles(cs []*objectCopy) error {
	if len(cs) == 0 {
		return nil
	}
	byEv := make(map[int64]*objectCopy, len(cs))
	evs := make([]*store.Evidence, len(cs))
	for i, c := range cs {
		byEv[c.ev.ID], evs[i] = c, c.ev
	}
	failed, err := readFiles(r.ctx, evs, r.opt.Workers, func(e *store.Evidence, rd io.Reader) error {
		return byEv[e.ID].check(rd)
	})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if msg, ok := failed[c.ev.ID]; ok {
			c.result, c.readErr = nil, msg
		}
		if err := r.finishObject(c); err != nil {
			return err
		}
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
		r.addFinding(Finding{Type: FindingRehash, Severity: SeverityError,
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
			r.addFinding(Finding{Type: FindingConflict, Severity: SeverityWarning,
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
		r.addFinding(Finding{Type: FindingRehash, Severity: SeverityError,
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
