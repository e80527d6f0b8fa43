package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/verdict"
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

// Limits of report.html, a document meant to be printed; report.json
// always holds everything. The rows of the status and finding lists are
// shared among their groups (htmlpick.go).
const (
	htmlMaxStatuses = 200
	htmlMaxFindings = 200
	htmlMaxCustody  = 200
	htmlMaxDigests  = 12
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
	// Export is a Parquet export of the case (forensic export) that the
	// report covers: its manifest's hash and every file's go into
	// report.json. Build refuses an export of another case, or one whose
	// files are not as its manifest lists them.
	Export string
	// Paper is report.pdf's paper size: PaperA4 (the default) or
	// PaperLetter.
	Paper string
	// Cases are the cases the case was merged from, when the report is
	// one over several cases (DescribeCase each); the verdict and
	// limitations say so.
	Cases []MergedCase
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
	b := &builder{ctx: ctx, c: c, opt: opt, dir: tmp}
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
	opt BuildOptions
	dir string

	info      map[string]string
	export    *ExportSection // report --export
	detect    *DetectionsSection
	lake      *LakeSection
	summary   *SummarySection
	sources   []string // the sources, with their SHA-256, for the first page
	custody   []store.CustodyEntry
	problems  []string
	anchors   *anchors
	findings  []Finding
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
	inventory    []store.InventoryCount // the evidence counted by kind and status, for report.html
	htmlStatuses *picker[ItemStatus]    // statuses, picked by kind and status
	htmlDigests  []VerifiedDigest
	nStatuses    int64
	nDigests     int64
	nUnproven    int64
}

func (b *builder) build() (*Result, error) {
	if err := b.load(); err != nil {
		return nil, err
	}
	if b.opt.Export != "" {
		var err error
		if b.export, err = exportSection(b.opt.Export, b.info["case_id"], b.opt.Cases); err != nil {
			return nil, err
		}
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
	if err := write(FilePDF, b.writePDF); err != nil {
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
	ctx, c := b.ctx, b.c
	var err error
	b.pub = b.opt.Key.Public().(ed25519.PublicKey)
	if b.pubPEM, err = PublicKeyPEM(b.pub); err != nil {
		return err
	}
	if b.info, err = c.CaseInfo(ctx); err != nil {
		return err
	}
	cc, err := c.CheckCustody(ctx)
	if err != nil {
		return err
	}
	b.custodyCheck, b.custody, b.problems, b.notes = cc, cc.Entries, cc.Problems, cc.Notes
	ev, err := c.CheckEvents(ctx)
	if err != nil {
		return err
	}
	b.events, b.edits = ev.ByEvidence, ev.Problems
	b.notes = append(b.notes, ev.Notes...)
	if b.anchors, err = readAnchors(ctx, c); err != nil {
		return err
	}
	if b.findings, err = readFindings(ctx, c); err != nil {
		return err
	}
	sortFindings(b.findings)
	if b.counts, err = c.StatusCounts(ctx); err != nil {
		return err
	}
	unv, err := c.CheckVerified(ctx, 5)
	if err != nil {
		return fmt.Errorf("check verification: %w", err)
	}
	if unv.Any() && !b.opt.AllowUnverified {
		return &UnverifiedError{unv}
	}
	b.edits = append(b.edits, compareVerifyRecord(b.custody, b.counts, findingCounts(b.findings))...)
	total, valid := b.counts.total()
	b.verified = total > 0 || b.info["last_verify"] != ""
	if b.coverage, err = coverage(ctx, c, b.verified); err != nil {
		return err
	}
	kinds, err := c.EvidenceKindCounts(ctx)
	if err != nil {
		return err
	}
	b.evKinds = map[string]int64{}
	for _, k := range kinds {
		b.evKinds[k.Kind] = k.Items
		b.evTotal += k.Items
		b.evErrors += k.Errors
		if k.Kind != store.KindSource && k.Kind != store.KindArchive {
			b.evBytes += k.Bytes
		}
	}
	errFindings := 0
	for _, f := range b.findings {
		if f.Severity == "error" {
			errFindings++
		}
	}
	items := "digests, log files and objects"
	if b.counts[verdict.KindLakeSign] != nil || b.counts[verdict.KindLakeResult] != nil {
		items = "digests, log files, objects and CloudTrail Lake files"
	}
	switch {
	case !b.verified:
		b.verdict = "NOT VERIFIED: the case has not been verified (run forensic verify with --public-keys first); this report only inventories the evidence."
	case total == 0:
		b.verdict = "NOT VERIFIED: verification found no CloudTrail digest, log file or S3 object in the case."
	case valid == total && errFindings == 0:
		b.verdictOK = true
		b.verdict = fmt.Sprintf("VERIFIED: all %d %s are valid, nothing the evidence points to is missing, and no finding is an error.", total, items)
	default:
		errs := display.Plural(errFindings, "finding is an error", "findings are errors")
		b.verdict = fmt.Sprintf("NOT VERIFIED: %d of %d %s are not valid, and %s (listed below).", total-valid, total, items, errs)
	}
	if b.verified && total > 0 && len(b.anchors.keys) == 0 {
		// The first sentence says it: nothing can be proven without keys.
		b.verdictOK = false
		b.verdict = "NOT VERIFIED: no trust anchors were supplied when the case was verified (forensic verify --public-keys), so no digest signature could be checked and no log file is proven authentic. " +
			strings.TrimPrefix(strings.TrimPrefix(b.verdict, "VERIFIED: "), "NOT VERIFIED: ")
	}
	if unv.Any() && unv.Verified {
		// The first sentence says why the verdict cannot be VERIFIED.
		b.verdictOK = false
		b.verdict = "NOT VERIFIED: " + unv.Reason() + "; this report does not vouch for that evidence. " +
			strings.TrimPrefix(strings.TrimPrefix(b.verdict, "VERIFIED: "), "NOT VERIFIED: ")
	}
	if len(b.problems) > 0 {
		b.verdictOK = false
		b.verdict += fmt.Sprintf(" The case's custody log is broken (%s).", display.Plural(len(b.problems), "problem", "problems"))
	}
	if len(b.edits) > 0 {
		b.verdictOK = false
		b.verdict += fmt.Sprintf(" The case was changed after ingest or verification recorded it (%s): its events or results are not those the evidence gave.", display.Plural(len(b.edits), "problem", "problems"))
	}
	if !b.verdictOK && strings.HasPrefix(b.verdict, "VERIFIED: ") {
		// The evidence checked out, but the case's own record does not.
		b.verdict = "NOT VERIFIED (the case's own record does not hold): " + strings.TrimPrefix(b.verdict, "VERIFIED: ")
	}
	b.limits = []string{
		"The signing time comes from " + b.opt.TimeSource + "; the signature proves who signed these bytes, not when. An RFC 3161 time stamp over SHA256SUMS can be added without re-signing (forensic report timestamp-request, then forensic report timestamp).",
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
	if n := b.counts[verdict.KindLog]["not_covered"]; n > 0 {
		b.limits = append(b.limits, fmt.Sprintf("%s no digest covers by design (status not_covered): files of CloudTrail-Insight/, CloudTrail-NetworkActivity/ or CloudTrail-Aggregated/ that no digest lists (CloudTrail does not document that digests cover those folders), or exports of events (one per line, as EventBridge and CloudWatch Logs carry them, or an array), which CloudTrail never delivered as files; their events are not proven authentic.",
			display.Plural(int(n), "log file", "log files")))
	}
	// A case of shards (ingest --shard) holds part of its sources: the
	// report says so, where a reader of the verdict sees it.
	shards, err := b.c.IngestShards(ctx)
	if err != nil {
		return err
	}
	if len(shards) > 0 {
		part := fmt.Sprintf("This case holds only shard%s %s of its sources (forensic ingest --shard): the items of the other shards are not in it and are not covered by this report, and findings that span shards (unreferenced log files, access-log correlation, tail coverage, gap explanations from other regions' events) were made over this shard's evidence alone.",
			map[bool]string{true: "s", false: ""}[len(shards) > 1], strings.Join(shards, ", "))
		b.limits = append(b.limits, part)
		b.verdict += " " + part
	}
	if b.summary, err = summarySection(ctx, b.c, b.counts, b.findings); err != nil {
		return err
	}
	srcs, err := b.c.EvidenceOfKinds(ctx, store.KindSource)
	if err != nil {
		return err
	}
	for _, e := range srcs {
		b.sources = append(b.sources, fmt.Sprintf("%s (SHA-256 %s)", e.Path, e.SHA256))
	}
	var detectNote string
	if b.lake, err = lakeSection(ctx, b.c); err != nil {
		return err
	}
	if b.detect, detectNote, err = detectionsSection(ctx, b.c); err != nil {
		return err
	}
	if detectNote != "" {
		b.limits = append(b.limits, detectNote)
		b.verdict += " " + detectNote
	}
	if len(b.opt.Cases) > 0 {
		m := mergedText(b.opt.Cases)
		b.limits = append(b.limits, m)
		b.verdict += " " + m
	}
	if limits, caution := anchorCautions(b.anchors, b.findings); caution != "" {
		b.limits = append(b.limits, limits...)
		b.verdict += " " + caution
	}
	return nil
}

// writeJSON streams report.json.
func (b *builder) writeJSON(w io.Writer) error {
	total, valid := b.counts.total()
	fc := FindingCounts{Total: int64(len(b.findings)), BySeverity: map[string]int64{}, ByType: map[string]int64{}}
	for _, f := range b.findings {
		fc.BySeverity[f.Severity]++
		fc.ByType[f.Type]++
		if f.Severity == "error" {
			fc.Errors++
		}
	}
	kinds := map[string]KindCounts{}
	for k, m := range b.counts {
		kc := KindCounts{ByStatus: map[string]int64{}}
		for s, n := range m {
			kc.ByStatus[s] = n
			kc.Total += n
			if s == "valid" {
				kc.Valid += n
			}
		}
		kinds[k] = kc
	}
	cov := []Coverage{}
	for _, cc := range b.coverage {
		cov = append(cov, cc.report())
	}
	problems := append(append([]string{}, b.problems...), b.edits...)
	custody := custodySection(b.custodyCheck, b.custody, problems, b.notes)
	custody.Note = "inputs and outputs are the JSON text stored in the case; each hash is store.EntryHash of the entry (SHA-256 of its JSON with hash empty); count is the number of entries, and anchor what the case kept of the log besides it (case_info custody_count and custody_head); this report is recorded as the next entry in the case"
	t := b.opt.Tool
	doc := &Document{
		Format: Format,
		Case:   CaseSection{ID: b.info["case_id"], CreatedAt: emptyNil(b.info["created_at"]), Info: b.info},
		Tool: ToolSection{Name: t.Name, Version: t.Version, Revision: t.Revision, Modified: t.Modified,
			BinarySHA256: emptyNil(t.BinarySHA256), Platform: emptyNil(t.Platform)},
		Signer: SignerSection{Identity: b.opt.Identity, Operator: b.opt.Operator, Host: b.opt.Host,
			PublicKeyPEM: string(b.pubPEM), SSHPublicKey: AuthorizedKey(b.pub), Fingerprint: Fingerprint(b.pub),
			SignedAt: b.opt.SignedAt.Format(time.RFC3339Nano), TimeSource: b.opt.TimeSource,
			Command: b.opt.Command, Namespace: Namespace},
		Custody:      custody,
		Cases:        b.opt.Cases,
		Detections:   b.detect,
		Lake:         b.lake,
		Summary:      b.summary,
		TrustAnchors: TrustAnchors{Files: b.anchors.files, Keys: b.anchors.trustAnchorKeys()},
		EvidenceSummary: EvidenceSummary{Items: b.evTotal, ByKind: b.evKinds, Bytes: b.evBytes, Errors: b.evErrors,
			EventsIndexing: eventsIndexing(b.indexing)},
		Verification: Verification{Ran: b.verified, VerifiedAt: emptyNil(b.info["last_verify"]), OK: b.verdictOK,
			Verdict: b.verdict, Items: ItemCounts{Total: total, Valid: valid}, ByKind: kinds, Findings: fc},
		Export:      b.export,
		Findings:    b.findings,
		Coverage:    cov,
		Limitations: b.limits,
		Method:      method(b.opt.Identity),
	}
	return writeDocument(w, doc, map[string]func(*canonWriter){
		memberEvidence:        b.streamEvidence,
		memberStatuses:        b.streamStatuses,
		memberVerifiedDigests: b.streamDigests,
	})
}

func method(identity string) Method {
	return Method{
		ReportSignature: []string{
			"sha256sum -c " + FileSums,
			"openssl pkeyutl -verify -pubin -inkey " + FileSignerPEM + " -rawin -in " + FileSums + " -sigfile " + FileSig,
			"ssh-keygen -Y verify -f " + FileAllowedSigners + " -I " + identity + " -n " + Namespace + " -s " + FileSSHSig + " < " + FileSums,
		},
		DigestSignature: []string{
			"# for each verified_digests entry: write its inputs, convert the key, verify (RSA PKCS#1 v1.5, SHA-256)",
			"echo STRING_TO_SIGN_BASE64 | openssl base64 -d -A > string.txt",
			"echo SIGNATURE_BASE64 | openssl base64 -d -A > sig.bin",
			"echo KEY_DER_BASE64 | openssl base64 -d -A > key.der   # trust_anchors.keys[].der_base64",
			"openssl rsa -pubin -inform DER -RSAPublicKey_in -in key.der -pubout -out key.pem   # encoding pkcs1; spki: openssl pkey -pubin -inform DER -in key.der -out key.pem",
			"openssl dgst -sha256 -verify key.pem -signature sig.bin string.txt",
		},
		StringToSign:    "digestEndTime \"\\n\" digestS3Bucket \"/\" digestS3Object \"\\n\" hex(SHA-256(decompressed digest bytes)) \"\\n\" (previousDigestSignature or \"null\")",
		CanonicalJSON:   "UTF-8; object keys sorted by their bytes; no insignificant white space; only '\"', '\\\\' and control characters escaped; integers only; one final newline",
		SHA256Sums:      FileSums + " lists every file of the folder except itself, " + FileSig + " and " + FileSSHSig + ", in sha256sum format sorted by name",
		SignatureFormat: FileSig + ": raw 64-byte Ed25519 signature of " + FileSums + "; " + FileSSHSig + ": OpenSSH SSHSIG (namespace " + Namespace + ", hash sha512)",
	}
}

// streamEvidence writes every evidence item, ordered by (path, member,
// sha256), with the verification status recorded for it.
func (b *builder) streamEvidence(c *canonWriter) {
	// The case has one connection: count before the rows hold it.
	var err error
	if b.inventory, err = b.c.InventoryCounts(b.ctx); err != nil {
		c.err = err
		return
	}
	c.raw("[")
	n := 0
	err = b.c.EachEvidenceRecord(b.ctx, func(e store.EvidenceRecord) error {
		it := evidenceItem(e, b.events[e.ID])
		if n > 0 {
			c.raw(",")
		}
		c.value(it)
		n++
		return c.err
	})
	if err != nil && c.err == nil {
		c.err = err
	}
	c.raw("]")
}

// streamStatuses writes every item_status row whose status is not valid
// (every column, detail and checks as JSON), with the evidence path,
// ordered by kind, bucket, key, status and path.
func (b *builder) streamStatuses(c *canonWriter) {
	c.raw("[")
	n := int64(0)
	b.htmlStatuses = statusPicker(b.counts)
	err := b.c.EachStatusRecord(b.ctx, "", func(r store.StatusRecord) error {
		s := itemStatus(r)
		if n > 0 {
			c.raw(",")
		}
		c.value(s)
		b.htmlStatuses.add(statusGroup(s.Kind, s.Status), s)
		n++
		return c.err
	})
	if err != nil && c.err == nil {
		c.err = err
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
	sigs, err := b.c.DigestSignatures(b.ctx)
	if err != nil {
		c.err = err
		return
	}
	byFP := map[string][]*anchorKey{}
	for _, k := range b.anchors.keys {
		byFP[k.Fingerprint] = append(byFP[k.Fingerprint], k)
	}
	n := int64(0)
	err = b.c.EachDigestStatus(b.ctx, func(r store.DigestStatusRecord) error {
		det := digestDetail([]byte(r.Detail))
		authentic := det.Authentic != nil && *det.Authentic
		if !authentic && r.Status != "valid" {
			return nil
		}
		dg := &r.Digest
		bucket, object, fp := dg.DigestS3Bucket, dg.DigestS3Object, dg.DigestPublicKeyFingerprint
		sts := string(verify.StringToSign(dg))
		type cand struct{ source, sig string }
		var cands []cand
		if det.Signature != nil && *det.Signature != "" {
			cands = append(cands, cand{det.SignatureSource.S, *det.Signature})
		}
		if s, ok := sigs.Metadata[det.MetadataEvidenceID]; ok && det.MetadataEvidenceID != 0 {
			cands = append(cands, cand{"metadata", s})
		}
		for _, s := range sigs.Successor[bucket+"/"+object] {
			cands = append(cands, cand{"successor", s})
		}
		keys := byFP[fp]
		if kf := det.KeyFile; kf != "" {
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
		vd := VerifiedDigest{S3Bucket: bucket, S3Key: object, EvidenceID: r.EvidenceID, Path: localPath(r.Path, r.Member),
			Status: r.Status, DigestEndTime: dg.DigestEndTime, Fingerprint: fp, StringToSign: sts,
			StringToSignBase64: base64.StdEncoding.EncodeToString([]byte(sts)), Reproduced: good != nil,
			OpenSSLCommands: []string{}}
		if good == nil {
			b.nUnproven++
		} else {
			sigBytes, _ := hex.DecodeString(strings.TrimSpace(good.sig))
			sigB64 := base64.StdEncoding.EncodeToString(sigBytes)
			sigHex := strings.ToLower(strings.TrimSpace(good.sig))
			vd.SignatureHex, vd.SignatureBase64, vd.SignatureSource, vd.KeyFile = &sigHex, &sigB64, &good.source, &key.File
			vd.OpenSSLCommands = []string{
				"echo " + vd.StringToSignBase64 + " | openssl base64 -d -A > string.txt",
				"echo " + sigB64 + " | openssl base64 -d -A > sig.bin",
				"openssl dgst -sha256 -verify key-" + fp + ".pem -signature sig.bin string.txt",
			}
		}
		if n > 0 {
			c.raw(",")
		}
		c.value(vd)
		if n < htmlMaxDigests {
			b.htmlDigests = append(b.htmlDigests, vd)
		}
		n++
		return c.err
	})
	if err != nil && c.err == nil {
		c.err = err
	}
	b.nDigests = n
}
