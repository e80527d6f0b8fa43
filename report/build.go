package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// Files of a report folder.
const (
	FileJSON           = "report.json"
	FileHTML           = "report.html"
	FileSums           = "SHA256SUMS"
	FileSig            = "SHA256SUMS.sig"
	FileSSHSig         = "SHA256SUMS.sshsig"
	FileVerify         = "VERIFY.txt"
	FileSignerPEM      = "signer.pub.pem"
	FileSignerSSH      = "signer.pub"
	FileAllowedSigners = "signer.allowed_signers"
)

// Format is the value of report.json's "format" member.
const Format = "forensic-report/1"

// Limits of report.html; report.json always holds everything. The rows of
// the evidence, status and finding lists are shared among their groups
// (htmlpick.go).
const (
	htmlMaxEvidence = 500
	htmlMaxStatuses = 500
	htmlMaxFindings = 500
	htmlMaxCustody  = 200
	htmlMaxDigests  = 50
)

// Tool names the program that made the report.
type Tool struct {
	Name     string
	Version  string
	Revision string // VCS revision the binary was built from
	Modified bool   // built from a modified checkout
	// BinarySHA256 is the hex SHA-256 of the executable, when known.
	BinarySHA256 string
	Platform     string // e.g. "go1.26 linux/amd64"
}

// BuildOptions say who signs and how the report describes its making.
type BuildOptions struct {
	Out      string // the report folder; must not exist or be empty
	Key      ed25519.PrivateKey
	Identity string // signer identity (allowed_signers principal)
	Tool     Tool
	Operator string
	Host     string
	// SignedAt is the signing time; zero means now. TimeSource says where
	// it came from; empty means "local clock of HOST".
	SignedAt   time.Time
	TimeSource string
	Command    []string // command line, recorded in report.json
	// AllowUnverified writes a report of a case that the last
	// verification does not cover (never verified, evidence ingested
	// since, items without a status), with a NOT VERIFIED verdict whose
	// first sentence says why. Without it Build refuses such a case with
	// an *UnverifiedError.
	AllowUnverified bool
}

// UnverifiedError is Build's refusal of a case that the last
// verification does not cover.
type UnverifiedError struct{ Unverified *store.Unverified }

func (e *UnverifiedError) Error() string { return "the case is not verified: " + e.Unverified.Reason() }

// File is one file of a report folder.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Result is what Build wrote.
type Result struct {
	Dir         string `json:"dir"`
	Files       []File `json:"files"`
	SumsSHA256  string `json:"sha256sums_sha256"`
	Fingerprint string `json:"signer_fingerprint"`
	Identity    string `json:"signer_identity"`
	SignedAt    string `json:"signed_at"`
	Verified    bool   `json:"verified"` // the case was verified and everything is valid
	Verdict     string `json:"verdict"`
	CustodyHead string `json:"custody_head"` // hash of the last custody entry the report carries
}

// Build writes a signed report of the case into opt.Out: it is written in
// a temporary folder beside it, synced, and renamed into place, so the
// folder either holds a complete report or does not exist. It reads the
// case only.
func Build(ctx context.Context, c *store.Case, opt BuildOptions) (*Result, error) {
	if len(opt.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("build report: no Ed25519 signing key")
	}
	if err := CheckIdentity(opt.Identity); err != nil {
		return nil, err
	}
	if opt.Out == "" {
		return nil, errors.New("build report: no output folder")
	}
	out := filepath.Clean(opt.Out)
	if err := CheckOut(out); err != nil {
		return nil, err
	}
	if opt.SignedAt.IsZero() {
		opt.SignedAt = time.Now()
	}
	opt.SignedAt = opt.SignedAt.UTC()
	if opt.TimeSource == "" {
		opt.TimeSource = "local clock of " + opt.Host + " (not independently attested)"
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	b := &builder{ctx: ctx, db: c.DB, c: c, opt: opt, dir: tmp}
	res, err := b.build()
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		if err := os.Remove(out); err != nil { // empty, checked above
			return nil, fmt.Errorf("build report: replace empty folder %s: %w", out, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	done = true
	syncDir(filepath.Dir(out))
	res.Dir = out
	return res, nil
}

// CheckOut refuses an output path that exists and is not an empty folder.
func CheckOut(out string) error {
	fi, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report folder %s: %w", out, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("report folder %s: exists and is not a folder", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("report folder %s: %w", out, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("report folder %s: exists and is not empty; choose a new folder", out)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

type builder struct {
	ctx context.Context
	db  *sql.DB
	opt BuildOptions
	dir string

	info      map[string]string
	custody   []store.CustodyEntry
	problems  []string
	anchors   *anchors
	findings  []obj
	counts    statusCounts
	verified  bool // verification ran on the case
	coverage  []*chainCoverage
	evKinds   map[string]int64
	evTotal   int64
	evBytes   int64
	evErrors  int64
	pub       ed25519.PublicKey
	pubPEM    []byte
	limits    []string
	verdictOK bool
	verdict   string

	// problems are the custody log's (store.CheckCustody); edits say how
	// the case changed after ingest or verification recorded it
	// (store.CheckEvents, compareVerifyRecord); notes what could not be
	// checked; events are the events per evidence item as the case holds
	// them.
	c            *store.Case
	custodyCheck *store.CustodyCheck
	edits        []string
	notes        []string
	events       map[int64]store.EventsSum
	indexing     *store.EventIndexing // which CloudTrail records are indexed

	// Collected while streaming, for report.html.
	htmlEvidence *picker // inventory rows, picked by status and kind (htmlpick.go)
	htmlStatuses *picker // statuses, picked by kind and status
	htmlDigests  []obj
	nStatuses    int64
	nDigests     int64
	nUnproven    int64
}

func (b *builder) build() (*Result, error) {
	if err := b.load(); err != nil {
		return nil, err
	}
	var files []File
	write := func(name string, fn func(w io.Writer) error) error {
		f, err := writeFile(filepath.Join(b.dir, name), fn)
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		files = append(files, f)
		return nil
	}
	if err := write(FileJSON, b.writeJSON); err != nil {
		return nil, err
	}
	if err := write(FileHTML, b.writeHTML); err != nil {
		return nil, err
	}
	fp := Fingerprint(b.pub)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{FileSignerPEM, b.pubPEM},
		{FileSignerSSH, []byte(AuthorizedKey(b.pub) + " " + b.opt.Identity + "\n")},
		{FileAllowedSigners, []byte(AllowedSigners(b.opt.Identity, b.pub))},
		{FileVerify, []byte(verifyText(b.opt.Identity, fp, b.opt.SignedAt, b.opt.TimeSource))},
	} {
		data := f.data
		if err := write(f.name, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	var sums bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
	}
	sumsBytes := sums.Bytes()
	sig := ed25519.Sign(b.opt.Key, sumsBytes)
	sshsig, err := SignSSH(b.opt.Key, Namespace, bytes.NewReader(sumsBytes))
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{FileSums, sumsBytes}, {FileSig, sig}, {FileSSHSig, sshsig}} {
		data := f.data
		if err := write(f.name, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	sumsHash := sha256.Sum256(sumsBytes)
	res := &Result{Files: files, SumsSHA256: hex.EncodeToString(sumsHash[:]), Fingerprint: fp,
		Identity: b.opt.Identity, SignedAt: b.opt.SignedAt.Format(time.RFC3339Nano), Verified: b.verdictOK,
		Verdict: b.verdict}
	if n := len(b.custody); n > 0 {
		res.CustodyHead = b.custody[n-1].Hash
	}
	syncDir(b.dir)
	return res, nil
}

// writeFile writes a file through fn, syncs it and returns its hash.
func writeFile(path string, fn func(w io.Writer) error) (File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	err = fn(cw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	return File{Name: filepath.Base(path), Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// load reads everything the report needs that is small: case info,
// custody, trust anchors, findings, status counts, coverage and evidence
// counts. Evidence, statuses and verified digests are streamed later.
func (b *builder) load() error {
	ctx, db := b.ctx, b.db
	var err error
	b.pub = b.opt.Key.Public().(ed25519.PublicKey)
	if b.pubPEM, err = PublicKeyPEM(b.pub); err != nil {
		return err
	}
	if b.info, err = caseInfo(ctx, db); err != nil {
		return err
	}
	cc, err := b.c.CheckCustody(ctx)
	if err != nil {
		return err
	}
	b.custodyCheck, b.custody, b.problems, b.notes = cc, cc.Entries, cc.Problems, cc.Notes
	ev, err := b.c.CheckEvents(ctx)
	if err != nil {
		return err
	}
	b.events, b.edits = ev.ByEvidence, ev.Problems
	b.notes = append(b.notes, ev.Notes...)
	if b.anchors, err = readAnchors(ctx, db); err != nil {
		return err
	}
	if b.findings, err = findingRows(ctx, db); err != nil {
		return err
	}
	if b.counts, err = readStatusCounts(ctx, db); err != nil {
		return err
	}
	unv, err := (&store.Case{DB: db}).CheckVerified(ctx, 5)
	if err != nil {
		return fmt.Errorf("check verification: %w", err)
	}
	if unv.Any() && !b.opt.AllowUnverified {
		return &UnverifiedError{unv}
	}
	b.edits = append(b.edits, compareVerifyRecord(b.custody, b.counts, findingCounts(b.findings))...)
	total, valid := b.counts.total()
	b.verified = total > 0 || b.info["last_verify"] != ""
	if b.coverage, err = coverage(ctx, db, b.verified); err != nil {
		return err
	}
	b.evKinds = map[string]int64{}
	rows, err := db.QueryContext(ctx, "SELECT kind, count(*), coalesce(sum(size), 0), count(error) FROM evidence GROUP BY kind ORDER BY kind")
	if err != nil {
		return fmt.Errorf("count evidence: %w", err)
	}
	for rows.Next() {
		var k string
		var n, size, errs int64
		if err := rows.Scan(&k, &n, &size, &errs); err != nil {
			rows.Close()
			return err
		}
		b.evKinds[k] = n
		b.evTotal += n
		b.evErrors += errs
		if k != store.KindSource && k != store.KindArchive {
			b.evBytes += size
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	errFindings := 0
	for _, f := range b.findings {
		if str(f["severity"]) == "error" || f["severity"] == nil {
			errFindings++
		}
	}
	switch {
	case !b.verified:
		b.verdict = "NOT VERIFIED: the case has not been verified (run forensic verify with --public-keys first); this report only inventories the evidence."
	case total == 0:
		b.verdict = "NOT VERIFIED: verification found no CloudTrail digest, log file or S3 object in the case."
	case valid == total && errFindings == 0:
		b.verdictOK = true
		b.verdict = fmt.Sprintf("VERIFIED: all %d digests, log files and objects are valid, nothing the evidence points to is missing, and no finding is an error.", total)
	default:
		b.verdict = fmt.Sprintf("NOT VERIFIED: %d of %d digests, log files and objects are not valid, and %d findings are errors (listed below).", total-valid, total, errFindings)
	}
	if unv.Any() && unv.Verified {
		// The first sentence says why the verdict cannot be VERIFIED.
		b.verdictOK = false
		b.verdict = "NOT VERIFIED: " + unv.Reason() + "; this report does not vouch for that evidence. " +
			strings.TrimPrefix(strings.TrimPrefix(b.verdict, "VERIFIED: "), "NOT VERIFIED: ")
	}
	if len(b.problems) > 0 {
		b.verdictOK = false
		b.verdict += fmt.Sprintf(" The case's custody log is broken (%d problems).", len(b.problems))
	}
	if len(b.edits) > 0 {
		b.verdictOK = false
		b.verdict += fmt.Sprintf(" The case was changed after ingest or verification recorded it (%d problems): its events or results are not those the evidence gave.", len(b.edits))
	}
	if !b.verdictOK && strings.HasPrefix(b.verdict, "VERIFIED: ") {
		// The evidence checked out, but the case's own record does not.
		b.verdict = "NOT VERIFIED (the case's own record does not hold): " + strings.TrimPrefix(b.verdict, "VERIFIED: ")
	}
	b.limits = []string{
		"The signing time comes from " + b.opt.TimeSource + "; the signature proves who signed these bytes, not when. A later RFC 3161 timestamp over SHA256SUMS can be added without re-signing.",
		"Only public keys supplied as trust anchors are trusted; keys found in the evidence are not. Check the trust anchors' fingerprints against AWS (aws cloudtrail list-public-keys) independently.",
		"CloudTrail digests prove the integrity of the log files they list; log files no digest lists, and the hours after the newest digest, are not proven.",
		"S3 server access logs are delivered on a best-effort basis: the absence of a record is not proof that a request did not happen.",
		"Paths are those of the machine where the evidence was ingested; evidence is identified by its SHA-256.",
	}
	if b.indexing, err = b.c.EventIndexing(ctx); err != nil {
		return err
	}
	if b.indexing.Partial() {
		b.limits = append(b.limits, "CloudTrail "+b.indexing.Text()+".")
	}
	if b.verified && len(b.anchors.keys) == 0 {
		b.limits = append(b.limits, "No trust anchors were supplied when the case was verified: no digest signature could be checked.")
	}
	if limits, caution := anchorCautions(b.anchors, b.findings); caution != "" {
		b.limits = append(b.limits, limits...)
		b.verdict += " " + caution
	}
	return nil
}

// writeJSON streams report.json.
func (b *builder) writeJSON(w io.Writer) error {
	c := newCanonWriter(w)
	total, valid := b.counts.total()
	errF, bySev, byType := 0, map[string]int{}, map[string]int{}
	for _, f := range b.findings {
		bySev[str(f["severity"])]++
		byType[str(f["type"])]++
		if str(f["severity"]) == "error" {
			errF++
		}
	}
	kinds := map[string]any{}
	for k, m := range b.counts {
		var t, v int64
		by := map[string]any{}
		for s, n := range m {
			by[s] = n
			t += n
			if s == "valid" {
				v += n
			}
		}
		kinds[k] = obj{"total": t, "valid": v, "by_status": by}
	}
	evKinds := map[string]any{}
	for k, n := range b.evKinds {
		evKinds[k] = n
	}
	cov := []obj{}
	for _, cc := range b.coverage {
		cov = append(cov, cc.obj())
	}
	entries := []obj{}
	for _, e := range b.custody {
		entries = append(entries, custodyObj(e))
	}
	head := any(nil)
	if n := len(b.custody); n > 0 {
		head = b.custody[n-1].Hash
	}
	problems := append(append([]string{}, b.problems...), b.edits...)
	notes := append([]string{}, b.notes...)
	anchor := any(nil)
	if b.custodyCheck != nil && b.custodyCheck.Anchored {
		a := b.custodyCheck.Anchor
		anchor = obj{"present": a.Present, "count": a.Count, "head": a.Head, "anchored_after": a.After}
	}
	cmd := b.opt.Command
	if cmd == nil {
		cmd = []string{}
	}
	t := b.opt.Tool
	top := obj{
		"format": Format,
		"case":   obj{"id": b.info["case_id"], "created_at": emptyNil(b.info["created_at"]), "info": b.info},
		"tool": obj{"name": t.Name, "version": t.Version, "revision": t.Revision, "modified": t.Modified,
			"binary_sha256": emptyNil(t.BinarySHA256), "platform": emptyNil(t.Platform)},
		"signer": obj{"identity": b.opt.Identity, "operator": b.opt.Operator, "host": b.opt.Host,
			"public_key_pem": string(b.pubPEM), "ssh_public_key": AuthorizedKey(b.pub), "fingerprint": Fingerprint(b.pub),
			"signed_at": b.opt.SignedAt.Format(time.RFC3339Nano), "time_source": b.opt.TimeSource,
			"command": cmd, "namespace": Namespace},
		"custody": obj{"entries": entries, "head_hash": head, "count": int64(len(b.custody)), "anchor": anchor,
			"intact": len(problems) == 0, "problems": problems, "notes": notes,
			"note": "inputs and outputs are the JSON text stored in the case; each hash is store.EntryHash of the entry (SHA-256 of its JSON with hash empty); count is the number of entries, and anchor what the case kept of the log besides it (case_info custody_count and custody_head); this report is recorded as the next entry in the case"},
		"trust_anchors":    obj{"files": b.anchors.files, "keys": b.anchors.keyObjs()},
		"evidence_summary": obj{"items": b.evTotal, "by_kind": evKinds, "bytes": b.evBytes, "errors": b.evErrors, "events_indexing": indexingObj(b.indexing)},
		"evidence":         func(c *canonWriter) { b.streamEvidence(c) },
		"verification": obj{"ran": b.verified, "verified_at": emptyNil(b.info["last_verify"]), "ok": b.verdictOK,
			"verdict": b.verdict, "items": obj{"total": total, "valid": valid}, "by_kind": kinds,
			"findings": obj{"total": len(b.findings), "errors": errF, "by_severity": bySev, "by_type": byType}},
		"statuses":         func(c *canonWriter) { b.streamStatuses(c) },
		"findings":         b.findings,
		"coverage":         cov,
		"verified_digests": func(c *canonWriter) { b.streamDigests(c) },
		"limitations":      b.limits,
		"method":           methodObj(b.opt.Identity),
	}
	c.value(top)
	c.raw("\n")
	return c.flush()
}

func methodObj(identity string) obj {
	return obj{
		"report_signature": []string{
			"sha256sum -c " + FileSums,
			"openssl pkeyutl -verify -pubin -inkey " + FileSignerPEM + " -rawin -in " + FileSums + " -sigfile " + FileSig,
			"ssh-keygen -Y verify -f " + FileAllowedSigners + " -I " + identity + " -n " + Namespace + " -s " + FileSSHSig + " < " + FileSums,
		},
		"digest_signature": []string{
			"# for each verified_digests entry: write its inputs, convert the key, verify (RSA PKCS#1 v1.5, SHA-256)",
			"echo STRING_TO_SIGN_BASE64 | openssl base64 -d -A > string.txt",
			"echo SIGNATURE_BASE64 | openssl base64 -d -A > sig.bin",
			"echo KEY_DER_BASE64 | openssl base64 -d -A > key.der   # trust_anchors.keys[].der_base64",
			"openssl rsa -pubin -inform DER -RSAPublicKey_in -in key.der -pubout -out key.pem   # encoding pkcs1; spki: openssl pkey -pubin -inform DER -in key.der -out key.pem",
			"openssl dgst -sha256 -verify key.pem -signature sig.bin string.txt",
		},
		"string_to_sign":   "digestEndTime \"\\n\" digestS3Bucket \"/\" digestS3Object \"\\n\" hex(SHA-256(decompressed digest bytes)) \"\\n\" (previousDigestSignature or \"null\")",
		"canonical_json":   "UTF-8; object keys sorted by their bytes; no insignificant white space; only '\"', '\\\\' and control characters escaped; integers only; one final newline",
		"sha256sums":       FileSums + " lists every file of the folder except itself, " + FileSig + " and " + FileSSHSig + ", in sha256sum format sorted by name",
		"signature_format": FileSig + ": raw 64-byte Ed25519 signature of " + FileSums + "; " + FileSSHSig + ": OpenSSH SSHSIG (namespace " + Namespace + ", hash sha512)",
	}
}

// streamEvidence writes every evidence item, ordered by (path, member,
// sha256), with the verification status recorded for it.
func (b *builder) streamEvidence(c *canonWriter) {
	hasStatus, err := hasTable(b.ctx, b.db, "item_status")
	if err != nil {
		c.err = err
		return
	}
	// The case has one connection: count before the rows hold it.
	if b.htmlEvidence, err = inventoryPicker(b.ctx, b.db); err != nil {
		c.err = err
		return
	}
	status := "NULL, NULL"
	if hasStatus {
		status = `(SELECT s.status FROM item_status s WHERE s.evidence_id = e.id ORDER BY s.id LIMIT 1),
			(SELECT s.kind FROM item_status s WHERE s.evidence_id = e.id ORDER BY s.id LIMIT 1)`
	}
	rows, err := b.db.QueryContext(b.ctx, `SELECT e.id, e.source, e.path, e.member, e.size, e.sha256, e.content_sha256,
		e.content_size, e.gzip_trailing, e.compression, e.kind, e.format, e.s3_bucket, e.s3_key, e.account_id, e.org_id,
		e.region, e.trail, e.backfill, e.mode, e.link_target, e.mtime, e.record_count, e.error, e.ingested_at, `+status+`,
		e.member_path, e.member_index, e.events_filter, e.records_seen, e.records_indexed
		FROM evidence e ORDER BY e.path, e.member, e.sha256, e.member_index`)
	if err != nil {
		c.err = fmt.Errorf("read evidence: %w", err)
		return
	}
	defer rows.Close()
	c.raw("[")
	n := 0
	for rows.Next() && c.err == nil {
		var id, trailing, backfill int64
		var src, path, member, sha, comp, kind, format, ingested string
		var size, csize, records sql.NullInt64
		var csha, bucket, key, acct, org, region, trail, mode, link, mtime, e, st, sk, mpath, midx, efilter sql.NullString
		var rseen, rindexed sql.NullInt64
		if err := rows.Scan(&id, &src, &path, &member, &size, &sha, &csha, &csize, &trailing, &comp, &kind, &format,
			&bucket, &key, &acct, &org, &region, &trail, &backfill, &mode, &link, &mtime, &records, &e, &ingested, &st, &sk,
			&mpath, &midx, &efilter, &rseen, &rindexed); err != nil {
			c.err = fmt.Errorf("read evidence: %w", err)
			return
		}
		o := obj{"id": id, "source": src, "path": path, "member": member, "size": nint(size), "sha256": sha,
			"content_sha256": nstr(csha), "content_size": nint(csize), "gzip_trailing": trailing != 0,
			"compression": comp, "kind": kind, "format": format, "s3_bucket": nstr(bucket), "s3_key": nstr(key),
			"account": nstr(acct), "org_id": nstr(org), "region": nstr(region), "trail": nstr(trail),
			"backfill": backfill != 0, "mode": nstr(mode), "link_target": nstr(link), "mtime": nstr(mtime),
			"record_count": nint(records), "error": nstr(e), "ingested_at": ingested, "status": nstr(st),
			"status_kind": nstr(sk), "member_path": nstr(mpath), "member_index": nstr(midx),
			"event_count": b.events[id].Count, "events_sha256": emptyNil(b.events[id].SHA256)}
		if efilter.Valid {
			// Not every record indexed: which were (absent: all of them).
			o["events_filter"], o["records_seen"], o["records_indexed"] = efilter.String, nint(rseen), nint(rindexed)
		}
		if n > 0 {
			c.raw(",")
		}
		c.object(o)
		b.htmlEvidence.add(inventoryGroup(kind, o["status"], o["error"]), o)
		n++
	}
	if err := rows.Err(); err != nil && c.err == nil {
		c.err = fmt.Errorf("read evidence: %w", err)
	}
	c.raw("]")
}

// streamStatuses writes every item_status row whose status is not valid
// (all columns, detail parsed), with the evidence path, ordered by kind,
// bucket, key, status and path.
func (b *builder) streamStatuses(c *canonWriter) {
	c.raw("[")
	ok, err := hasTable(b.ctx, b.db, "item_status")
	if err != nil {
		c.err = err
	}
	if !ok || err != nil {
		c.raw("]")
		return
	}
	n := int64(0)
	b.htmlStatuses = statusPicker(b.counts)
	err = genericRows(b.ctx, b.db, `SELECT s.*, e.path AS evidence_path, e.member AS evidence_member,
		e.sha256 AS evidence_sha256 FROM item_status s LEFT JOIN evidence e ON e.id = s.evidence_id
		WHERE s.status != 'valid'
		ORDER BY s.kind, coalesce(s.s3_bucket, ''), coalesce(s.s3_key, ''), s.status, coalesce(e.path, ''), coalesce(e.member, ''), s.id`,
		map[string]bool{"detail": true, "checks": true}, func(o obj) error {
			delete(o, "id")
			if n > 0 {
				c.raw(",")
			}
			c.object(o)
			b.htmlStatuses.add(statusGroup(str(o["kind"]), str(o["status"])), o)
			n++
			return c.err
		})
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("read item statuses: %w", err)
	}
	b.nStatuses = n
	c.raw("]")
}

// streamDigests writes, for every digest verification found authentic
// (detail.authentic true, or status valid), the inputs that re-check its
// signature with openssl: the string to sign rebuilt from the case, the
// signature that verifies (from the saved metadata or a successor), and
// the trust anchor. Each is re-checked here; one that does not verify is
// listed with reproduced false.
func (b *builder) streamDigests(c *canonWriter) {
	c.raw("[")
	defer c.raw("]")
	ok, err := hasTable(b.ctx, b.db, "item_status")
	if err != nil || !ok {
		c.err = err
		return
	}
	sigs, err := readDigestSignatures(b.ctx, b.db)
	if err != nil {
		c.err = err
		return
	}
	byFP := map[string][]*anchorKey{}
	for _, k := range b.anchors.keys {
		byFP[k.Fingerprint] = append(byFP[k.Fingerprint], k)
	}
	rows, err := b.db.QueryContext(b.ctx, `SELECT s.evidence_id, s.status, coalesce(s.detail, ''), e.path, e.member,
		coalesce(d.digest_end_time, ''), coalesce(d.digest_s3_bucket, ''), coalesce(d.digest_s3_object, ''),
		coalesce(d.digest_public_key_fingerprint, ''), d.previous_digest_signature, d.raw
		FROM item_status s JOIN ct_digests d ON d.evidence_id = s.evidence_id JOIN evidence e ON e.id = s.evidence_id
		WHERE s.kind = 'digest'
		ORDER BY d.digest_s3_bucket, d.digest_s3_object, e.path, e.member`)
	if err != nil {
		c.err = fmt.Errorf("read verified digests: %w", err)
		return
	}
	defer rows.Close()
	n := int64(0)
	for rows.Next() && c.err == nil {
		var id int64
		var status, detail, path, member, end, bucket, object, fp string
		var prev sql.NullString
		var raw []byte
		if err := rows.Scan(&id, &status, &detail, &path, &member, &end, &bucket, &object, &fp, &prev, &raw); err != nil {
			c.err = fmt.Errorf("read verified digests: %w", err)
			return
		}
		var det map[string]any
		if d, err := decodeJSON([]byte(detail)); err == nil {
			det, _ = d.(map[string]any)
		}
		authentic, _ := det["authentic"].(bool)
		if !authentic && status != "valid" {
			continue
		}
		var prevSig *string
		if prev.Valid {
			prevSig = &prev.String
		}
		dg := &store.Digest{DigestEndTime: end, DigestS3Bucket: bucket, DigestS3Object: object, Raw: raw, PreviousDigestSignature: prevSig}
		sts := string(verify.StringToSign(dg))
		type cand struct{ source, sig string }
		var cands []cand
		if s := str(det["signature"]); s != "" {
			cands = append(cands, cand{str(det["signature_source"]), s})
		}
		if mid, err := numberInt(det["metadata_evidence_id"]); err == nil {
			if s, ok := sigs.metadata[mid]; ok {
				cands = append(cands, cand{"metadata", s})
			}
		}
		for _, s := range sigs.successor[bucket+"/"+object] {
			cands = append(cands, cand{"successor", s})
		}
		keys := byFP[fp]
		if kf := str(det["key_file"]); kf != "" {
			sort.SliceStable(keys, func(i, j int) bool { return keys[i].File == kf && keys[j].File != kf })
		}
		var key *anchorKey
		var good *cand
		for _, k := range keys {
			for i := range cands {
				if checkDigestSignature(k, dg, cands[i].sig) {
					key, good = k, &cands[i]
					break
				}
			}
			if good != nil {
				break
			}
		}
		loc := path
		if member != "" {
			loc = path + "!/" + member
		}
		o := obj{"s3_bucket": bucket, "s3_key": object, "evidence_id": id, "path": loc, "status": status,
			"digest_end_time": end, "fingerprint": fp, "string_to_sign": sts,
			"string_to_sign_base64": base64.StdEncoding.EncodeToString([]byte(sts)), "reproduced": good != nil}
		if good == nil {
			b.nUnproven++
			o["signature_hex"], o["signature_base64"], o["signature_source"], o["key_file"] = nil, nil, nil, nil
			o["openssl_commands"] = []string{}
		} else {
			sigBytes, _ := hex.DecodeString(strings.TrimSpace(good.sig))
			sigB64 := base64.StdEncoding.EncodeToString(sigBytes)
			o["signature_hex"], o["signature_base64"], o["signature_source"], o["key_file"] = strings.ToLower(strings.TrimSpace(good.sig)), sigB64, good.source, key.File
			o["openssl_commands"] = []string{
				"echo " + o["string_to_sign_base64"].(string) + " | openssl base64 -d -A > string.txt",
				"echo " + sigB64 + " | openssl base64 -d -A > sig.bin",
				"openssl dgst -sha256 -verify key-" + fp + ".pem -signature sig.bin string.txt",
			}
		}
		if n > 0 {
			c.raw(",")
		}
		c.object(o)
		if n < htmlMaxDigests {
			b.htmlDigests = append(b.htmlDigests, o)
		}
		n++
	}
	if err := rows.Err(); err != nil && c.err == nil {
		c.err = err
	}
	b.nDigests = n
}

func numberInt(v any) (int64, error) {
	switch t := v.(type) {
	case json.Number:
		return t.Int64()
	case int64:
		return t, nil
	}
	return 0, errors.New("not a number")
}
