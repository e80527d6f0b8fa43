package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/internal/export"
	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/internal/tsp"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// Check statuses.
const (
	CheckPass    = "pass"
	CheckFail    = "fail"
	CheckSkipped = "skipped"
)

// Evidence re-check statuses.
const (
	EvidenceUnchanged  = "unchanged"
	EvidenceChanged    = "changed"
	EvidenceMissing    = "missing"
	EvidenceAdded      = "added"       // in the evidence given, not in the report
	EvidenceNotChecked = "not_checked" // its source was not given with --evidence
	// EvidenceRenamed is a source given under another name than the
	// report's, with the same SHA-256: its items are compared as its.
	EvidenceRenamed = "renamed"
	// EvidenceEventsChanged: the bytes are unchanged, but the events the
	// case held for the item when the report was made are not those the
	// evidence gives (the case was edited).
	EvidenceEventsChanged = "events_changed"
)

// maxSums bounds SHA256SUMS; a report folder has a handful of files.
const maxSums = 1 << 20

// maxReportJSON bounds report.json: it grows with evidence items and
// statuses, not events, and a real report is far smaller. It is read one
// token or item at a time, so the bound is on time, not memory.
const maxReportJSON = 1 << 30

// VerifyFunc verifies a case that holds re-ingested evidence, recording
// item_status and findings in it, against the given trust-anchor files
// (forensic wires it to verify.Run).
type VerifyFunc func(ctx context.Context, casePath string, publicKeys []string) error

// VerifyOptions select what Verify checks besides the folder itself.
type VerifyOptions struct {
	// Signer is the signer's public key (PEM, OpenSSH .pub or
	// allowed_signers). Empty: the key inside the folder, which proves
	// only that the folder is self-consistent (a warning says so).
	Signer string
	// Evidence are the evidence paths to re-ingest and compare, item by
	// item, with the report's inventory.
	Evidence []string
	// Rerun, when set, verifies the re-ingested evidence again (with
	// PublicKeys) and compares statuses and findings with the report.
	Rerun      VerifyFunc
	PublicKeys []string
	// TempDir holds the temporary case (default os.TempDir()).
	TempDir string
	// Ingest tunes the re-ingest.
	Ingest ingest.Options
	// Export is an export folder to re-hash against the report's export
	// section.
	Export string
	// TSACerts, when set, are the certificates an RFC 3161 time stamp
	// (FileTSR) must chain to; without them its signature is checked with
	// the TSA certificate it carries, and a warning says so.
	TSACerts *x509.CertPool
}

// Check is one check of a report folder.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Want   string `json:"want,omitempty"`
	Got    string `json:"got,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// EvidenceCheck is one evidence item re-hashed.
type EvidenceCheck struct {
	Status       string `json:"status"`
	Source       string `json:"source"` // file name of the source argument
	Path         string `json:"path"`   // relative to the source ("" for the source itself)
	Member       string `json:"member"`
	MemberIndex  string `json:"member_index,omitempty"` // its position in the archive(s), when the report records it
	SHA256       string `json:"sha256"`                 // in the report ("" for added)
	ActualSHA256 string `json:"actual_sha256"`          // as re-hashed ("" for missing)
	// The item's CloudTrail events: in the report, and as re-ingested
	// (store.EventsHeaderSQL), for items that have some on either side.
	EventCount         *int64 `json:"event_count,omitempty"`
	EventsSHA256       string `json:"events_sha256,omitempty"`
	ActualEventCount   *int64 `json:"actual_event_count,omitempty"`
	ActualEventsSHA256 string `json:"actual_events_sha256,omitempty"`
	// GivenAs is the name a renamed source was given under.
	GivenAs string `json:"given_as,omitempty"`
}

// Difference is a status or finding that the re-run and the report do not
// agree on.
type Difference struct {
	What string `json:"what"` // "status", "finding" or "count"
	Side string `json:"side"` // "only_in_report", "only_in_rerun" or "differs"
	Item string `json:"item"`
}

// VerifyResult is the outcome of Verify. OK is true only when every check
// passed, every evidence item given is unchanged and the re-run agrees.
type VerifyResult struct {
	OK             bool            `json:"ok"`
	Dir            string          `json:"dir"`
	Signer         string          `json:"signer"` // identity in the report
	Fingerprint    string          `json:"fingerprint"`
	Pinned         bool            `json:"signer_pinned"`
	Checks         []Check         `json:"checks"`
	Warnings       []string        `json:"warnings"`
	Evidence       []EvidenceCheck `json:"evidence,omitempty"`
	EvidenceCounts map[string]int  `json:"evidence_counts,omitempty"`
	Rerun          bool            `json:"rerun"`
	Differences    []Difference    `json:"differences,omitempty"`
	// Export is every file of the export folder given with --export, in
	// path order: unchanged, changed, missing or added.
	Export []export.FileState `json:"export,omitempty"`
	// Verdict is the report's own verdict on the evidence (what
	// report.json states), and VerdictOK whether it is VERIFIED: a report
	// that verifies may well say the evidence does not.
	Verdict   string `json:"verdict"`
	VerdictOK bool   `json:"verdict_ok"`
	// Timestamp is what a verified RFC 3161 time stamp of the report
	// says (nil when the folder holds none).
	Timestamp *tsp.Token `json:"timestamp,omitempty"`
}

func (r *VerifyResult) add(name string, ok bool, want, got, detail string) {
	st := CheckPass
	if !ok {
		st = CheckFail
	}
	r.Checks = append(r.Checks, Check{Name: name, Status: st, Want: want, Got: got, Detail: detail})
}

var sumsLine = regexp.MustCompile(`^([0-9a-f]{64}) [ *]([^/\\]+)$`)

// Verify checks a report folder: SHA256SUMS against every file, that
// every file is listed, both signatures over SHA256SUMS, that report.json
// is canonical and names the signing key, and the custody chain it
// carries. With opt.Evidence it re-ingests the evidence into a temporary
// case and compares every item; with opt.Rerun it also re-verifies that
// case and compares statuses and findings. It returns an error only when
// a check could not be run at all (e.g. the evidence cannot be ingested).
func Verify(ctx context.Context, dir string, opt VerifyOptions) (*VerifyResult, error) {
	r := &VerifyResult{Dir: dir, Checks: []Check{}, Warnings: []string{}}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("report folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("report folder %s: not a folder", dir)
	}
	sums, err := readFileLimited(filepath.Join(dir, FileSums), maxSums)
	if err != nil {
		r.add("sha256sums", false, "", "", err.Error())
	}
	listed := map[string]bool{FileSums: true, FileSig: true, FileSSHSig: true, FileTSQ: true, FileTSR: true}
	if sums != nil {
		r.checkSums(dir, sums, listed)
	}
	r.checkTSR(dir, sums, opt.TSACerts)

	// The signing key: pinned, or the one in the folder.
	var pub ed25519.PublicKey
	if opt.Signer != "" {
		pub, err = LoadPublicKey(opt.Signer)
		if err != nil {
			return nil, err
		}
		r.Pinned = true
	} else {
		pub, err = loadPublicKey(filepath.Join(dir, FileSignerPEM), true)
		if err != nil {
			r.add("signer key", false, "", "", err.Error())
		}
		r.Warnings = append(r.Warnings, "the signer is not pinned: the signatures were checked against the key inside the report folder, which anyone could have replaced; pass --signer with the signer's public key obtained independently")
	}
	if pub != nil {
		r.Fingerprint = Fingerprint(pub)
		if sums != nil {
			sig, err := readFileLimited(filepath.Join(dir, FileSig), 1024)
			switch {
			case err != nil:
				r.add("signature "+FileSig, false, "", "", err.Error())
			case len(sig) != ed25519.SignatureSize:
				r.add("signature "+FileSig, false, "64 bytes", fmt.Sprintf("%d bytes", len(sig)), "not a raw Ed25519 signature")
			default:
				ok := ed25519.Verify(pub, sums, sig)
				r.add("signature "+FileSig, ok, r.Fingerprint, "", map[bool]string{true: "Ed25519 signature of SHA256SUMS verifies", false: "Ed25519 signature of SHA256SUMS does not verify with " + r.Fingerprint}[ok])
			}
			ssig, err := readFileLimited(filepath.Join(dir, FileSSHSig), maxSSHSIG)
			if err == nil {
				err = VerifySSH(pub, Namespace, bytes.NewReader(sums), ssig)
			}
			if err == nil {
				// ssh-keygen ignores white space in the armor; we wrote
				// the file, so any changed byte is a change.
				err = checkArmor(ssig)
			}
			if err != nil {
				r.add("signature "+FileSSHSig, false, r.Fingerprint, "", err.Error())
			} else {
				r.add("signature "+FileSSHSig, true, "", "", "SSHSIG (namespace "+Namespace+") of SHA256SUMS verifies")
			}
		}
	}

	rf, err := r.checkJSON(dir, pub)
	if err != nil {
		return nil, err
	}
	defer rf.close()
	if opt.Export != "" {
		if err := r.checkExport(rf.doc.Export, opt.Export); err != nil {
			return nil, err
		}
	}
	if len(opt.Evidence) > 0 || opt.Rerun != nil {
		if len(opt.Evidence) == 0 {
			return nil, errors.New("re-run: no evidence given")
		}
		if err := r.recheck(ctx, rf, opt); err != nil {
			return nil, err
		}
	}
	r.OK = true
	for _, c := range r.Checks {
		if c.Status == CheckFail {
			r.OK = false
		}
	}
	for _, e := range r.Evidence {
		if e.Status != EvidenceUnchanged && e.Status != EvidenceNotChecked && e.Status != EvidenceRenamed {
			r.OK = false
		}
	}
	if len(r.Differences) > 0 {
		r.OK = false
	}
	return r, nil
}

// readFileLimited reads a file of the report folder: a regular file, never
// a symbolic link (a report never holds one), at most max bytes.
func readFileLimited(path string, max int64) ([]byte, error) {
	return regfile.ReadFileNoFollow(path, max)
}

// checkSums checks every line of SHA256SUMS and that every file of the
// folder is listed.
func (r *VerifyResult) checkSums(dir string, sums []byte, listed map[string]bool) {
	text := string(sums)
	if !strings.HasSuffix(text, "\n") {
		r.add("sha256sums format", false, "lines ending in newline", "", "SHA256SUMS does not end in a newline")
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		m := sumsLine.FindStringSubmatch(line)
		if m == nil || m[2] == "." || m[2] == ".." {
			r.add("sha256sums format", false, "HEX  NAME", line, fmt.Sprintf("line %d is not a sha256sum line naming a file of this folder", i+1))
			continue
		}
		name := m[2]
		if listed[name] {
			r.add("sha256 "+name, false, "", "", "listed twice, or names SHA256SUMS or a signature")
			continue
		}
		listed[name] = true
		got, err := hashFile(filepath.Join(dir, name))
		if err != nil {
			r.add("sha256 "+name, false, m[1], "", err.Error())
			continue
		}
		r.add("sha256 "+name, got == m[1], m[1], got, "")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		r.add("sha256sums complete", false, "", "", err.Error())
		return
	}
	var extra, irregular []string
	for _, e := range ents {
		if !listed[e.Name()] {
			extra = append(extra, e.Name())
		}
		if !e.Type().IsRegular() {
			irregular = append(irregular, e.Name()+" ("+regfile.TypeName(e.Type())+")")
		}
	}
	r.add("regular files only", len(irregular) == 0, "regular files", strings.Join(irregular, ", "),
		map[bool]string{true: "", false: "a report folder holds only regular files; these are not read or followed"}[len(irregular) == 0])
	r.add("sha256sums complete", len(extra) == 0, "every file listed", strings.Join(extra, ", "),
		map[bool]string{true: "", false: "files not covered by SHA256SUMS (not part of the signed report)"}[len(extra) == 0])
	var absent []string
	for _, n := range []string{FileJSON, FileHTML, FileVerify, FileSignerPEM, FileAllowedSigners} {
		if !listed[n] {
			absent = append(absent, n)
		}
	}
	r.add("sha256sums covers the report", len(absent) == 0, FileJSON+", "+FileHTML+", ...", strings.Join(absent, ", "),
		map[bool]string{true: "", false: "required files not listed"}[len(absent) == 0])
}

func hashFile(path string) (string, error) {
	sum, _, err := regfile.SHA256NoFollow(path)
	return sum, err
}

// reportFile is a report.json that Verify read: its small sections, and
// the file, kept open to read its long arrays again one item at a time.
// Every read must see the bytes the first one hashed.
type reportFile struct {
	f    *os.File
	sum  []byte   // SHA-256 of the file as first read
	size int64    // its size then
	doc  Document // without evidence, statuses and verified_digests
}

// read reads the file again from its start, handing the items of its
// long arrays to items (and its other members to doc, when not nil).
func (rf *reportFile) read(doc *Document, items documentItems) error {
	if _, err := rf.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", FileJSON, err)
	}
	h := sha256.New()
	r := io.TeeReader(io.LimitReader(rf.f, rf.size+1), h)
	if err := readDocument(r, doc, items); err != nil {
		return fmt.Errorf("read %s: %w", FileJSON, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("read %s: %w", FileJSON, err)
	}
	if !bytes.Equal(h.Sum(nil), rf.sum) {
		return fmt.Errorf("read %s: the file changed while it was being checked", FileJSON)
	}
	return nil
}

func (rf *reportFile) close() {
	if rf != nil {
		rf.f.Close()
	}
}

// anchorWarnings says what the report's own verification trusted that an
// auditor should know: keys under verify.MinKeyBits, and trust-anchor
// files that were part of the evidence.
func (r *VerifyResult) anchorWarnings(rep *Document) {
	seen := map[string]bool{}
	for _, k := range rep.TrustAnchors.Keys {
		if k.Bits > 0 && k.Bits < verify.MinKeyBits && !seen[k.Fingerprint] {
			seen[k.Fingerprint] = true
			r.Warnings = append(r.Warnings, fmt.Sprintf("the report's verification trusted the weak key %s (%d-bit RSA, from %s, allowed with --allow-weak-keys): a signature it verifies is weaker proof",
				k.Fingerprint, k.Bits, k.File))
		}
	}
	for _, f := range rep.Findings {
		if f.Type == verify.FindingTrustAnchorInEvidence {
			r.Warnings = append(r.Warnings, "the report's verification trusted public keys that were part of the evidence: "+f.Summary)
		}
	}
}

// checkCanonical reads report.json once, token by token, and reports
// whether its bytes are their canonical form (with the final newline),
// with the SHA-256 and size of what it read; err is set when the file
// holds no single JSON value.
func checkCanonical(f *os.File) (canonical bool, sum []byte, size int64, err error) {
	raw, canon := sha256.New(), sha256.New()
	cr := &countWriter{w: raw}
	r := io.TeeReader(io.LimitReader(f, maxReportJSON+1), cr)
	sorted, err := canonicalStream(r, canon)
	if _, cerr := io.Copy(io.Discard, r); err == nil {
		err = cerr
	}
	if err == nil && cr.n > maxReportJSON {
		err = fmt.Errorf("larger than %d bytes", int64(maxReportJSON))
	}
	if err != nil {
		return false, nil, 0, err
	}
	canon.Write([]byte("\n"))
	return sorted && bytes.Equal(canon.Sum(nil), raw.Sum(nil)), raw.Sum(nil), cr.n, nil
}

// checkJSON checks report.json: canonical bytes, format, signing key, and
// the custody chain it carries. It returns the file for recheck, nil when
// its members could not be read.
func (r *VerifyResult) checkJSON(dir string, pub ed25519.PublicKey) (*reportFile, error) {
	path := filepath.Join(dir, FileJSON)
	f, err := regfile.OpenNoFollow(path)
	if err == nil {
		if fi, serr := f.Stat(); serr == nil && fi.Size() > maxReportJSON {
			f.Close()
			err = &regfile.TooLargeError{Path: path, Max: maxReportJSON}
		}
	}
	if err != nil {
		r.add("report.json", false, "", "", err.Error())
		return nil, nil
	}
	canonical, sum, size, err := checkCanonical(f)
	if err != nil {
		f.Close()
		r.add("report.json canonical", false, "", "", "not JSON: "+err.Error())
		return nil, nil
	}
	r.add("report.json canonical", canonical, "canonical JSON", "", "")
	rf := &reportFile{f: f, sum: sum, size: size}
	rep := &rf.doc
	if err := rf.read(rep, documentItems{}); err != nil {
		f.Close()
		r.add("report.json fields", false, "", "", err.Error())
		return nil, nil
	}
	r.Signer = rep.Signer.Identity
	r.Verdict, r.VerdictOK = rep.Verification.Verdict, rep.Verification.OK
	r.add("report.json format", rep.Format == Format, Format, rep.Format, "")
	if pub != nil {
		got, err := ParsePublicKey([]byte(rep.Signer.PublicKeyPEM))
		ok := err == nil && got.Equal(pub)
		detail := "the signer key named in report.json is the key that signed"
		if !ok {
			detail = "report.json names another signer key than the one checked"
		}
		r.add("report.json signer", ok, Fingerprint(pub), fingerprintOf(got), detail)
	}
	entries := storeEntries(rep.Custody.Entries)
	problems := store.VerifyCustody(entries)
	r.add("custody chain", len(problems) == 0, "intact", fmt.Sprintf("%d entries", len(entries)), strings.Join(problems, "; "))
	head := ""
	if n := len(entries); n > 0 {
		head = entries[n-1].Hash
	}
	r.add("custody head", deref(rep.Custody.HeadHash) == head, head, deref(rep.Custody.HeadHash), "head_hash is the hash of the last entry")
	r.anchorWarnings(rep)
	if rep.Custody.Count != nil {
		r.add("custody count", *rep.Custody.Count == int64(len(entries)), fmt.Sprint(len(entries)), fmt.Sprint(*rep.Custody.Count),
			"count is the number of entries the report carries")
	}
	r.checkCases(rep, entries)
	if rep.Custody.Intact != nil && !*rep.Custody.Intact {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the report says the case's custody record did not hold when it was made (%d problems): %s",
			len(rep.Custody.Problems), strings.Join(rep.Custody.Problems, "; ")))
	}
	// The statuses and findings the report states against what the last
	// verify recorded in the custody log the report carries.
	counts := statusCounts{}
	for kind, m := range rep.Verification.ByKind {
		for st, n := range m.ByStatus {
			if n != 0 {
				if counts[kind] == nil {
					counts[kind] = map[string]int64{}
				}
				counts[kind][st] = n
			}
		}
	}
	diffs := compareVerifyRecord(entries, counts, rep.Verification.Findings.ByType)
	r.add("verification matches custody", len(diffs) == 0, "the counts of the last verify entry", fmt.Sprintf("%d differences", len(diffs)),
		strings.Join(diffs, "; "))
	return rf, nil
}

func fingerprintOf(k ed25519.PublicKey) string {
	if len(k) != ed25519.PublicKeySize {
		return ""
	}
	return Fingerprint(k)
}

// evID identifies an evidence item across machines: its source's file
// name, its path relative to the source, its member name and, when
// recorded, its position in the archive (member_index), so that two
// members of one name are two items.
type evID struct{ source, path, member, index string }

func identity(source, path, member string, index *string) evID {
	rel := ""
	if path != source {
		if p, err := filepath.Rel(source, path); err == nil && !strings.HasPrefix(p, "..") {
			rel = filepath.ToSlash(p)
		} else {
			rel = filepath.ToSlash(path)
		}
	}
	id := evID{filepath.Base(source), rel, member, ""}
	if index != nil {
		id.index = *index
	}
	return id
}

// recheck re-ingests the evidence into a temporary case, compares every
// item, and with opt.Rerun re-verifies and compares. It reads the report's
// inventory and statuses from rf one item at a time.
func (r *VerifyResult) recheck(ctx context.Context, rf *reportFile, opt VerifyOptions) error {
	if rf == nil {
		return errors.New("re-check evidence: report.json could not be read")
	}
	inv, err := readInventory(rf)
	if err != nil {
		return fmt.Errorf("re-check evidence: %w", err)
	}
	tmp, err := os.MkdirTemp(opt.TempDir, "forensic-report-verify-")
	if err != nil {
		return fmt.Errorf("re-check evidence: %w", err)
	}
	defer os.RemoveAll(tmp)
	casePath := filepath.Join(tmp, "case.db")
	c, err := store.Open(ctx, casePath)
	if err != nil {
		return err
	}
	iopt := opt.Ingest
	iopt.EventsFor = inv.eventsFor()
	sum, err := ingest.Run(ctx, c, opt.Evidence, iopt)
	if err != nil {
		c.Close()
		return fmt.Errorf("re-check evidence: ingest: %w", err)
	}
	for _, e := range sum.Errors {
		r.Warnings = append(r.Warnings, fmt.Sprintf("re-ingest: %s: %s", e.Path, e.Error))
	}
	if n := sum.ErrorCount - len(sum.Errors); n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("re-ingest: %d more items could not be read or parsed", n))
	}
	now := map[evID]map[string]bool{}
	// A report of an older case has no positions: compare by name, as it
	// was made.
	events := map[evID]map[string]store.EventsSum{}
	given := map[string]bool{}
	err = c.EachEvidenceEvents(ctx, func(e store.EvidenceEvents) error {
		var ip *string
		if inv.withIndex && e.MemberIndex != nil {
			ip = e.MemberIndex
		}
		id := identity(e.Source, e.Path, e.Member, ip)
		given[id.source] = true
		if now[id] == nil {
			now[id] = map[string]bool{}
		}
		now[id][e.SHA256] = true
		if e.EventCount > 0 {
			if events[id] == nil {
				events[id] = map[string]store.EventsSum{}
			}
			events[id][e.SHA256] = store.EventsSum{Count: e.EventCount, SHA256: e.EventsSHA256}
		}
		return nil
	})
	c.Close()
	if err != nil {
		return err
	}
	// A source given under another name, with the SHA-256 the report
	// records for one of its sources, is that source, renamed.
	renamed := renamedSources(inv.sources, now)
	if len(renamed) > 0 {
		move := func(id evID) evID {
			if n, ok := renamed[id.source]; ok {
				id.source = n
			}
			return id
		}
		now2, events2 := map[evID]map[string]bool{}, map[evID]map[string]store.EventsSum{}
		for id, v := range now {
			now2[move(id)] = v
		}
		for id, v := range events {
			events2[move(id)] = v
		}
		now, events = now2, events2
		for _, name := range renamed {
			given[name] = true
		}
	}
	givenAs := map[string]string{}
	for g, name := range renamed {
		givenAs[name] = g
	}
	seen := map[evID]bool{}
	r.EvidenceCounts = map[string]int{}
	err = rf.read(nil, documentItems{evidence: func(e EvidenceItem) error {
		id := identity(e.Source, e.Path, e.Member, e.MemberIndex)
		ec := EvidenceCheck{Source: id.source, Path: id.path, Member: id.member, MemberIndex: id.index, SHA256: e.SHA256}
		switch {
		case !given[id.source]:
			ec.Status = EvidenceNotChecked
		case now[id] == nil:
			ec.Status = EvidenceMissing
		case now[id][e.SHA256] && id.path == "" && id.member == "" && givenAs[id.source] != "":
			ec.Status, ec.ActualSHA256, ec.GivenAs = EvidenceRenamed, e.SHA256, givenAs[id.source]
		case now[id][e.SHA256]:
			ec.Status, ec.ActualSHA256 = EvidenceUnchanged, e.SHA256
			if e.EventCount == nil {
				break // a report made before reports carried event hashes
			}
			got := events[id][e.SHA256]
			want := store.EventsSum{Count: *e.EventCount, SHA256: deref(e.EventsSHA256)}
			if want.Count > 0 || got.Count > 0 {
				ec.EventCount, ec.EventsSHA256 = &want.Count, want.SHA256
				ec.ActualEventCount, ec.ActualEventsSHA256 = &got.Count, got.SHA256
			}
			if got != want {
				ec.Status = EvidenceEventsChanged
			}
		default:
			ec.Status = EvidenceChanged
			for s := range now[id] {
				ec.ActualSHA256 = s
			}
		}
		seen[id] = true
		r.Evidence = append(r.Evidence, ec)
		return nil
	}})
	if err != nil {
		return fmt.Errorf("re-check evidence: %w", err)
	}
	var added []EvidenceCheck
	for id, shas := range now {
		if seen[id] {
			continue
		}
		for s := range shas {
			added = append(added, EvidenceCheck{Status: EvidenceAdded, Source: id.source, Path: id.path, Member: id.member, MemberIndex: id.index, ActualSHA256: s})
		}
	}
	sort.Slice(added, func(i, j int) bool {
		a, b := added[i], added[j]
		return a.Source+"\x00"+a.Path+"\x00"+a.Member+"\x00"+a.ActualSHA256 < b.Source+"\x00"+b.Path+"\x00"+b.Member+"\x00"+b.ActualSHA256
	})
	r.Evidence = append(r.Evidence, added...)
	for _, e := range r.Evidence {
		r.EvidenceCounts[e.Status]++
	}
	if inv.items > 0 && !inv.firstHasEvents {
		r.Warnings = append(r.Warnings, "the report carries no per-file event counts and hashes (made by an earlier version): the events the case held were not compared")
	}
	if n := r.EvidenceCounts[EvidenceNotChecked]; n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d evidence items were not checked: their source (by file name) was not given with --evidence", n))
	}
	if opt.Rerun == nil {
		return nil
	}
	r.Rerun = true
	if err := opt.Rerun(ctx, casePath, opt.PublicKeys); err != nil {
		return fmt.Errorf("re-run verification: %w", err)
	}
	rc, err := store.OpenReadOnly(ctx, casePath)
	if err != nil {
		return err
	}
	defer rc.Close()
	got, err := readRerun(ctx, rc)
	if err != nil {
		return fmt.Errorf("re-run verification: %w", err)
	}
	statuses := []string{}
	err = rf.read(nil, documentItems{statuses: func(s ItemStatus) error {
		statuses = append(statuses, statusKey(s.Kind, s.Status, deref(s.S3Bucket), deref(s.S3Key)))
		return nil
	}})
	if err != nil {
		return fmt.Errorf("re-run verification: %w", err)
	}
	sort.Strings(statuses)
	rep := &rf.doc
	r.Differences = Compare(Outcome{Statuses: statuses, Findings: findingKeys(rep.Findings),
		Counts: countKeys(rep.Verification.ByKind)}, *got)
	if got.AnchorsInEvidence > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the re-run trusted public keys that are part of the evidence (%d %s findings): "+
			"pass --public-keys with keys fetched from AWS independently", got.AnchorsInEvidence, verify.FindingTrustAnchorInEvidence))
	}
	if len(rep.TrustAnchors.Keys) > 0 {
		var fps []string
		for _, k := range rep.TrustAnchors.Keys {
			fps = append(fps, k.Fingerprint)
		}
		sort.Strings(fps)
		if strings.Join(dedup(fps), ",") != strings.Join(got.Anchors, ",") {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the re-run used other trust anchors (%s) than the report (%s)",
				strings.Join(got.Anchors, ","), strings.Join(dedup(fps), ",")))
		}
	}
	return nil
}

// inventory is what recheck needs to know of the report's evidence before
// it re-ingests: whether the report records members' positions, whether
// it carries event hashes, and the events filter of each item whose
// records were indexed by one.
type inventory struct {
	items          int64
	withIndex      bool // some item has a member_index: compare by position too
	firstHasEvents bool // the first item carries event_count
	filters        map[filterKey]store.EventFilter
	sources        map[string]string // the report's sources: file name -> SHA-256
}

type filterKey struct {
	id  evID
	sha string
}

// readInventory reads the report's evidence, one item at a time.
func readInventory(rf *reportFile) (*inventory, error) {
	inv := &inventory{filters: map[filterKey]store.EventFilter{}, sources: map[string]string{}}
	err := rf.read(nil, documentItems{evidence: func(e EvidenceItem) error {
		if e.Path == e.Source && e.Member == "" {
			inv.sources[filepath.Base(e.Source)] = e.SHA256
		}
		if inv.items == 0 {
			inv.firstHasEvents = e.EventCount != nil
		}
		inv.items++
		inv.withIndex = inv.withIndex || e.MemberIndex != nil
		if e.EventsFilter == nil {
			return nil
		}
		f, err := store.DecodeEventFilter(*e.EventsFilter)
		if err != nil {
			return fmt.Errorf("report.json: evidence %s: %w", e.Path, err)
		}
		id := identity(e.Source, e.Path, e.Member, e.MemberIndex)
		inv.filters[filterKey{id, e.SHA256}] = f
		inv.filters[filterKey{id, ""}] = f
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// eventsFor gives the re-ingest, for each item the report says was
// indexed by a filter, that filter, so that its events hash as the case's
// did (nil when every record of every item was indexed).
func (inv *inventory) eventsFor() func(ev *store.Evidence) (store.EventFilter, bool) {
	if len(inv.filters) == 0 {
		return nil
	}
	return func(ev *store.Evidence) (store.EventFilter, bool) {
		var ip *string
		if inv.withIndex {
			s := store.EncodeMemberIndex(ev.MemberIndex)
			ip = &s
		}
		id := identity(ev.Source, ev.Path, ev.Member, ip)
		if f, ok := inv.filters[filterKey{id, ev.SHA256}]; ok && ev.SHA256 != "" {
			return f, true
		}
		f, ok := inv.filters[filterKey{id, ""}]
		return f, ok
	}
}

// checkCases checks, for a report over several cases, each case's custody
// log as the report carries it (the chain, its head), and that the merged
// case's log records the merge of that case at that head.
func (r *VerifyResult) checkCases(rep *Document, merged []store.CustodyEntry) {
	heads := map[string]bool{}
	for _, e := range merged {
		if e.Command != store.CommandMerge {
			continue
		}
		var in struct {
			Head   string `json:"custody_head"`
			SHA256 string `json:"case_sha256"`
		}
		if json.Unmarshal(e.Inputs, &in) == nil {
			heads[in.Head+" "+in.SHA256] = true
		}
	}
	for _, c := range rep.Cases {
		entries := storeEntries(c.Custody.Entries)
		problems := store.VerifyCustody(entries)
		name := "case custody chain of " + c.Path
		r.add(name, len(problems) == 0, "intact", fmt.Sprintf("%d entries", len(entries)), strings.Join(problems, "; "))
		head := ""
		if n := len(entries); n > 0 {
			head = entries[n-1].Hash
		}
		r.add("case merged at its custody head: "+c.Path, heads[head+" "+c.SHA256] && deref(c.Custody.HeadHash) == head,
			head+" "+c.SHA256, deref(c.Custody.HeadHash)+" "+c.SHA256,
			"the merged case's custody log has a merge entry naming this case's SHA-256 and the last entry of the log the report carries")
	}
}

// storeEntries are custody entries as report.json carries them, back in
// the form store.VerifyCustody hashes.
func storeEntries(es []CustodyEntry) []store.CustodyEntry {
	out := make([]store.CustodyEntry, len(es))
	for i, e := range es {
		out[i] = store.CustodyEntry{Seq: e.Seq, Time: e.Time, Operator: e.Operator, Host: e.Host, Tool: e.Tool,
			Command: e.Command, Args: e.Args, Inputs: json.RawMessage(e.Inputs), Outputs: json.RawMessage(e.Outputs),
			PrevHash: e.PrevHash, Hash: e.Hash}
		if out[i].Args == nil {
			out[i].Args = []string{}
		}
	}
	return out
}

// checkTSR checks a time stamp in the folder, when there is one.
func (r *VerifyResult) checkTSR(dir string, sums []byte, roots *x509.CertPool) {
	resp, err := readFileLimited(filepath.Join(dir, FileTSR), tsp.MaxResponse)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		r.add("timestamp "+FileTSR, false, "", "", err.Error())
		return
	}
	if sums == nil {
		r.add("timestamp "+FileTSR, false, "an RFC 3161 time stamp of SHA256SUMS", "", "SHA256SUMS could not be read")
		return
	}
	tok, err := checkTimestamp(dir, sums, resp, roots)
	if err != nil {
		r.add("timestamp "+FileTSR, false, "an RFC 3161 time stamp of SHA256SUMS", "", err.Error())
		return
	}
	r.Timestamp = tok
	detail := fmt.Sprintf("SHA256SUMS existed at %s, says %s", tok.GenTime.Format(time.RFC3339), tok.TSA)
	if !tok.Chained {
		r.Warnings = append(r.Warnings, "the time stamp's TSA certificate was not checked against a certificate you trust: pass --tsa-cert with the TSA's CA certificate, obtained independently")
	}
	r.add("timestamp "+FileTSR, true, "", tok.GenTime.Format(time.RFC3339), detail)
}

// renamedSources maps the file name a source was given under to the name
// the report knows it by, for every source of the report not given under
// its own name whose SHA-256 is that of a source given under a name the
// report does not know (the same bytes, renamed).
func renamedSources(report map[string]string, now map[evID]map[string]bool) map[string]string {
	bySHA := map[string][]string{} // SHA-256 of a given source -> the names it was given under
	for id, shas := range now {
		if id.path != "" || id.member != "" {
			continue
		}
		if _, known := report[id.source]; known {
			continue
		}
		for s := range shas {
			bySHA[s] = append(bySHA[s], id.source)
		}
	}
	out := map[string]string{}
	for name, sha := range report {
		if _, given := now[evID{source: name}]; given {
			continue
		}
		if g := bySHA[sha]; len(g) == 1 {
			out[g[0]] = name
		}
	}
	return out
}
