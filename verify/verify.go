package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	gojson "github.com/goccy/go-json"
	"path"
	"sort"
	"time"

	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// Item kinds.
const (
	KindDigest = verdict.KindDigest
	KindLog    = verdict.KindLog
)

// Digest statuses (a public contract: `forensic verify --json` prints
// them; add, never rename).
const (
	StatusValid                = "valid"
	StatusSignatureInvalid     = "signature_invalid"
	StatusSignatureUnavailable = "signature_unavailable"
	StatusKeyUnknown           = "key_unknown"
	StatusKeyNotValidAtTime    = "key_not_valid_at_time"
	StatusFormatInvalid        = "format_invalid"
	StatusMoved                = "moved"
	StatusMissing              = "missing"
	StatusChainMismatch        = "chain_mismatch"
)

// Log-file statuses (valid, missing and format_invalid are shared).
const (
	StatusHashMismatch = "hash_mismatch"
	StatusTrailingData = "trailing_data"
	StatusUnreferenced = "unreferenced"
	StatusUnverified   = "unverified"
	// StatusNotCovered: a log file no digest lists that no digest covers by
	// design: a file of a folder whose digest coverage CloudTrail does not
	// document (CloudTrail-Insight/, CloudTrail-NetworkActivity/,
	// CloudTrail-Aggregated/), or an export of events (NDJSON as
	// EventBridge and CloudWatch Logs carry them, or an array) that
	// CloudTrail never delivered as a file. Not a sign of tampering as
	// unreferenced is; its events are not proven authentic.
	StatusNotCovered = "not_covered"
	// StatusChangedSinceIngest: read again from the evidence (log files
	// with --rehash, object copies always), the item's bytes are not the
	// ones ingested, so nothing in the case is about them (shared by log
	// files and objects).
	StatusChangedSinceIngest = "changed_since_ingest"
)

// Finding types and severities.
const (
	FindingGap      = "gap"      // a chain restarted (null previous fields): a span no digest covers
	FindingConflict = "conflict" // a saved signature disagrees with the successor's copy
	FindingCoverage = "coverage" // evidence newer than a chain's newest digest: tail truncation?
	FindingRehash   = "rehash"   // --rehash found evidence changed or unreadable since ingest
	// FindingDuplicateName: one source holds a name more than once (two
	// members of one name, "./x" beside "x", a member named like a nested
	// one). Each row keeps a status of its own; which copy the export
	// meant cannot be told.
	FindingDuplicateName = "duplicate_name"

	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Options tune a run.
type Options struct {
	// Anchors are the trust anchors (from LoadTrustAnchors); nil means
	// none were supplied, and no digest can be valid.
	Anchors *TrustAnchors
	// Rehash re-reads every log file from the evidence (files on disk, or
	// by walking their archive again) instead of trusting the hashes
	// recorded at ingest.
	Rehash  bool
	Workers int // rehash and object-reading workers; default GOMAXPROCS
	// KeepItems fills Report.Items with every item (for callers that
	// want them in memory, such as tests). Without it the items are only
	// in the case, where Report.WriteJSON and store.Case.EachItemStatus
	// read them back: memory does not grow with the case.
	KeepItems bool
	// CarryObjects takes the verdicts of object copies, and the findings
	// made of them, from the case's last verification instead of reading
	// the copies again (a case merged from others: see carry.go).
	CarryObjects bool
	// window is how many digests of a chain are evaluated at a time
	// (tests); 0 means chainWindow.
	window int
	// chunk is how many items, places or copies object verification
	// handles at a time (tests); 0 means store's default.
	chunk int
}

// Report is the outcome of a run: one Item per digest, log file and
// object copy, in the evidence or expected from it, and the Findings that
// are not per-item statuses (both recorded in the case, where
// Report.WriteJSON, store.Case.EachItemStatus and Findings read them
// back; in Items and Findings too with Options.KeepItems).
type Report struct {
	Summary  Summary   `json:"summary"`
	Items    []Item    `json:"items"`
	Findings []Finding `json:"findings"`
}

// Item is one digest or log file and its status. Detail holds the
// expected and actual values the status rests on ("reason" explains a
// status other than valid in words).
type Item struct {
	Kind       string         `json:"kind"`
	S3Bucket   string         `json:"s3_bucket"`
	S3Key      string         `json:"s3_key"`
	Path       string         `json:"path"` // local path; archive!/member for archive members; "" when missing
	Status     string         `json:"status"`
	Detail     verdict.Detail `json:"detail"` // *verdict.DigestDetail, *LogDetail or *ObjectDetail
	EvidenceID int64          `json:"evidence_id,omitempty"`
	Account    string         `json:"account,omitempty"`
	Region     string         `json:"region,omitempty"`
	Trail      string         `json:"trail,omitempty"`
	// Checks are every check run on the item, in the order they ran,
	// then those that could not run; Status is derived from them.
	Checks []Check `json:"checks"`
}

// Finding is a gap, conflict, coverage, rehash or correlation observation.
type Finding struct {
	Type     string         `json:"type"`
	Severity string         `json:"severity"`
	Summary  string         `json:"summary"`
	Chain    string         `json:"chain,omitempty"`
	Account  string         `json:"account,omitempty"`
	Region   string         `json:"region,omitempty"`
	Trail    string         `json:"trail,omitempty"`
	Start    string         `json:"start_time,omitempty"`
	End      string         `json:"end_time,omitempty"`
	Detail   map[string]any `json:"detail"`
}

// Summary totals a report.
type Summary struct {
	OK           bool            `json:"ok"` // every item valid, no error finding
	Digests      Counts          `json:"digests"`
	Logs         Counts          `json:"logs"`
	Objects      Counts          `json:"objects"`
	LakeSigns    Counts          `json:"lake_sign_files"` // CloudTrail Lake query results' sign files
	LakeResults  Counts          `json:"lake_results"`    // and their result files
	Findings     map[string]int  `json:"findings"`        // by type
	Chains       []ChainSummary  `json:"chains"`
	TrustAnchors []AnchorSummary `json:"trust_anchors"`
	Notes        []string        `json:"notes"`
	Rehashed     int             `json:"rehashed"`
	Seconds      float64         `json:"seconds"`
}

// Counts counts items of one kind.
type Counts struct {
	Total    int            `json:"total"`
	Valid    int            `json:"valid"`
	ByStatus map[string]int `json:"by_status"`
}

// ChainSummary is one account, region and trail.
type ChainSummary struct {
	Account      string   `json:"account"`
	Region       string   `json:"region"`
	Trail        string   `json:"trail"`
	DigestsValid int      `json:"digests_valid"`
	DigestsTotal int      `json:"digests_total"`
	LogsValid    int      `json:"logs_valid"`
	LogsTotal    int      `json:"logs_total"`
	Start        string   `json:"start_time"` // earliest digestStartTime in the evidence (out-of-range times left out)
	End          string   `json:"end_time"`   // latest digestEndTime (likewise)
	Gaps         []string `json:"gaps"`       // "start/end" spans no digest covers
}

// AnchorSummary is one trust-anchor file.
type AnchorSummary struct {
	Path         string   `json:"path"`
	SHA256       string   `json:"sha256"`
	Fingerprints []string `json:"fingerprints"`
}

// FindingCount is how many findings the run made.
func (r *Report) FindingCount() int {
	n := 0
	for _, c := range r.Summary.Findings {
		n += c
	}
	return n
}

// Failed reports whether anything is not valid: an item whose status is
// not valid or a finding of severity error.
func (r *Report) Failed() bool { return !r.Summary.OK }

// Run verifies every CloudTrail digest and log file and every S3 object
// copy in the case (objects.go), correlates them with the S3 access logs
// (correlate.go), records
// the results (item_status, findings, trust anchors; the previous run's
// are replaced in one transaction) and returns the report. It returns an
// error only when the case cannot be read or written, or evidence cannot
// be re-read with Rehash; problems with the evidence are statuses and
// findings.
func Run(ctx context.Context, c *store.Case, opt Options) (*Report, error) {
	started := time.Now()
	x, err := store.OpenScratch(ctx, c.Path)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	s, err := c.BeginVerification(ctx)
	if err != nil {
		return nil, fmt.Errorf("record verification in %s: %w", c.Path, err)
	}
	defer s.Rollback()
	r := &run{ctx: ctx, c: x.Case, x: x, s: s, opt: opt, anchors: opt.Anchors,
		newest: map[chainID]*newestDigest{}, homes: map[string][]chainID{}, after: map[chainID]*logsAfter{},
		results: x.ResultWriter(), sum: newSummaryAcc()}
	if opt.Rehash {
		if err := r.rehash(); err != nil {
			return nil, err
		}
	}
	acc, err := r.loadAccess()
	if err != nil {
		return nil, err
	}
	r.corr = newCorrelator(r, acc)
	if err := r.x.FlatLogs(ctx, func(e *store.Evidence) string { return path.Base(localName(e)) }); err != nil {
		return nil, err
	}
	if err := r.indexDigests(); err != nil {
		return nil, err
	}
	chains, err := x.Chains(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range chains {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.chain(k); err != nil {
			return nil, err
		}
	}
	r.dig, r.byID, r.ord = nil, nil, nil
	if err := r.results.Close(ctx); err != nil {
		return nil, err
	}
	if err := r.logsPass(); err != nil {
		return nil, err
	}
	if err := r.missingLogsPass(); err != nil {
		return nil, err
	}
	if err := r.coverage(); err != nil {
		return nil, err
	}
	if err := r.duplicateNames(); err != nil {
		return nil, err
	}
	objects := r.objects
	if opt.CarryObjects {
		objects = r.carryObjects
	}
	if err := objects(); err != nil {
		return nil, err
	}
	if err := r.lake(); err != nil {
		return nil, err
	}
	anchorNotes, err := r.anchorsInEvidence()
	if err != nil {
		return nil, err
	}
	notes, err := r.corr.findings()
	if err != nil {
		return nil, err
	}
	if err := r.tailFromAccess(acc); err != nil {
		return nil, err
	}
	if r.findErr != nil {
		return nil, r.findErr
	}
	rep := &Report{Items: r.items}
	if rep.Items == nil {
		rep.Items = []Item{}
	}
	sortItems(rep.Items)
	rep.Summary = r.sum.finish()
	r.summaryNotes(&rep.Summary, notes)
	rep.Summary.Notes = append(rep.Summary.Notes, anchorNotes...)
	if n, err := r.c.CountEvidenceKeys(ctx); err == nil && n > 0 && (opt.Anchors == nil || len(opt.Anchors.Keys) == 0) {
		rep.Summary.Notes = append(rep.Summary.Notes, fmt.Sprintf(
			"no --public-keys given: the case holds %d public keys as evidence, but keys are trusted only when supplied with --public-keys, so no digest can be valid", n))
	}
	var files []store.AnchorFile
	if opt.Anchors != nil {
		files = opt.Anchors.Files
	}
	if err := s.Commit(ctx, files); err != nil {
		return nil, fmt.Errorf("record verification in %s: %w", c.Path, err)
	}
	if opt.KeepItems {
		if rep.Findings, err = Findings(ctx, c); err != nil {
			return nil, err
		}
	}
	rep.Summary.Seconds = time.Since(started).Seconds()
	return rep, nil
}

// Findings reads the findings of the last verification back from the
// case, in report order (for callers that want them in memory; they are
// as many as the evidence has problems).
func Findings(ctx context.Context, c *store.Case) ([]Finding, error) {
	out := []Finding{}
	err := c.EachFinding(ctx, func(f store.Finding) error {
		g := Finding{Type: f.Type, Severity: f.Severity, Summary: f.Summary, Chain: f.Chain, Account: f.Account,
			Region: f.Region, Trail: f.Trail, Start: f.StartTime, End: f.EndTime}
		if len(f.Detail) > 0 {
			if err := json.Unmarshal(f.Detail, &g.Detail); err != nil {
				return fmt.Errorf("finding %q: detail: %w", f.Summary, err)
			}
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

// detailJSON is a finding's detail as verify --json prints it: HTML
// characters as they are (goccy/go-json writes encoding/json's bytes,
// faster).
func detailJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := gojson.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// addFinding records a finding (in the session, which writes the
// findings in report order at commit) and adds it to the summary; the
// first error is kept for Run to return.
func (r *run) addFinding(f Finding) {
	if r.findErr != nil {
		return
	}
	r.sum.finding(f)
	d, err := detailJSON(f.Detail)
	if err != nil {
		r.findErr = fmt.Errorf("finding %q: detail: %w", f.Summary, err)
		return
	}
	r.findErr = r.s.QueueFinding(r.ctx, store.Finding{Type: f.Type, Severity: f.Severity, Summary: f.Summary,
		Chain: f.Chain, Account: f.Account, Region: f.Region, Trail: f.Trail, StartTime: f.Start, EndTime: f.End,
		Detail: d}, findingPhase[f.Type])
}

// kindOrder orders items in a report: digests, log files, objects.
var kindOrder = map[string]int{KindDigest: 0, KindLog: 1, KindObject: 2}

// sortItems orders items as a report lists them: digests, log files,
// objects; then by S3 key and local path.
func sortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		return reportLess(a.Kind, a.S3Key, a.Path, b.Kind, b.S3Key, b.Path)
	})
}

// reportLess is the report's order of two items, each by kind, S3 key and
// local path.
func reportLess(aKind, aKey, aPath, bKind, bKey, bPath string) bool {
	if aKind != bKind {
		return kindOrder[aKind] < kindOrder[bKind]
	}
	if aKey != bKey {
		return aKey < bKey
	}
	return aPath < bPath
}

// summaryNotes adds the trust anchors and the notes to a summary.
func (r *run) summaryNotes(s *Summary, notes []string) {
	s.TrustAnchors = []AnchorSummary{}
	if r.anchors != nil {
		for _, f := range r.anchors.Files {
			a := AnchorSummary{Path: f.Path, SHA256: f.SHA256}
			for _, k := range f.Keys {
				a.Fingerprints = append(a.Fingerprints, k.Fingerprint)
			}
			s.TrustAnchors = append(s.TrustAnchors, a)
		}
		for _, p := range r.anchors.Skipped {
			s.Notes = append(s.Notes, "--public-keys: skipped "+p+": not a public key file")
		}
		s.Notes = append(s.Notes, r.anchors.weakNotes()...)
	}
	if s.Digests.Total == 0 && s.Logs.Total == 0 {
		s.Notes = append(s.Notes, "the case holds no CloudTrail digest or log file")
	}
	s.Notes = append(s.Notes, notes...)
	s.Rehashed = r.rehashed
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// duplicateNames records a finding for every name that occurs more than
// once in a source. The rows keep their own statuses (each judged on its
// own bytes); the finding is an error because an attacker who controls
// the evidence can put a tampered copy and the original under one name
// and let the reader pick.
func (r *run) duplicateNames() error {
	dups, err := r.c.DuplicateNames(r.ctx)
	if err != nil {
		return err
	}
	for _, d := range dups {
		items := make([]map[string]any, 0, len(d.Items))
		for _, it := range d.Items {
			items = append(items, map[string]any{"evidence_id": it.EvidenceID, "kind": it.Kind, "member": it.Member,
				"member_path": it.MemberPath, "member_index": it.MemberIndex, "sha256": it.SHA256})
		}
		where := d.Path
		if d.Name != d.Path {
			where = d.Path + "!/" + d.Name
		}
		r.addFinding(Finding{Type: FindingDuplicateName, Severity: SeverityError,
			Summary: fmt.Sprintf("%s: the name occurs %d times in one source; each copy has its own status, and which one the export meant cannot be told", where, d.Count),
			Detail: map[string]any{"path": d.Path, "name": d.Name, "count": d.Count, "items": items,
				"items_listed": len(items)}})
	}
	return nil
}

// displayPath is the local path of an evidence item: the file, or
// archive!/member.
func displayPath(e *store.Evidence) string {
	if e.Member == "" {
		return e.Path
	}
	return e.Path + "!/" + e.Member
}

// localName is the slash-separated name an item has in its scope (see
// place): the file path on disk, or the innermost member name, cleaned
// and rooted at "/".
func localName(e *store.Evidence) string { return placeOf(e).name }

// RunCase opens the case file at casePath, loads the trust anchors from
// keys (files or folders; none means no digest can be verified) and
// verifies it, as 'forensic verify' does. It is what report re-runs use.
func RunCase(ctx context.Context, casePath string, keys []string) (*Report, error) {
	return RunCaseWith(ctx, casePath, keys, AnchorOptions{})
}

// RunCaseWith is RunCase loading the keys with opt.
func RunCaseWith(ctx context.Context, casePath string, keys []string, opt AnchorOptions) (*Report, error) {
	var anchors *TrustAnchors
	if len(keys) > 0 {
		a, err := LoadTrustAnchorsWith(keys, opt)
		if err != nil {
			return nil, err
		}
		anchors = a
	}
	c, err := store.Open(ctx, casePath)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return Run(ctx, c, Options{Anchors: anchors})
}
