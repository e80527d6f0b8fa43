package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/export"
	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/report"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

const reportUsage = `Usage:
  forensic report --case CASE.db --key KEY --out DIR [--identity NAME] [--allow-unverified] [--export DIR] [--json]
  forensic report --case A.db --case B.db ... --key KEY --out DIR [--merged-case FILE] [--public-keys PATH... [--allow-weak-keys]] [--identity NAME] [--export DIR] [--json]
  forensic report verify DIR [--signer PUB] [--evidence PATH]... [--rerun [--public-keys FILE|DIR]... [--allow-weak-keys]] [--export DIR] [--tsa-cert CA.pem] [--json]
  forensic report timestamp-request DIR
  forensic report timestamp DIR --response SHA256SUMS.tsr [--tsa-cert CA.pem]

forensic report writes a signed chain-of-custody report of a case into a new
folder DIR: report.json (the complete record, canonical JSON), report.html
(for people), report.pdf (the same first page, chart, findings and method,
A4 or --paper letter, fonts embedded), the signer's public key (signer.pub.pem, signer.pub,
signer.allowed_signers), VERIFY.txt (how to check it with sha256sum, openssl
and ssh-keygen only), SHA256SUMS over all of them, and two signatures of
SHA256SUMS: SHA256SUMS.sig (raw Ed25519, for openssl) and SHA256SUMS.sshsig
(SSHSIG, namespace forensic-report, for ssh-keygen). Make a key with
'forensic keygen'. The report is recorded in the case's custody log with the
hash of every file. Run 'forensic verify' on the case first: the report
states what verification recorded.

The signer identity is --identity, else the first field of KEY's
.allowed_signers file beside it (analyst.key -> analyst.allowed_signers),
else OPERATOR@HOST. The signing time is the local clock, and the report
says so.

forensic report verify checks a report folder: every file against
SHA256SUMS, no file unlisted, both signatures (against --signer when given;
otherwise against the key inside the folder, with a warning), that
report.json is canonical and names the signing key, and the custody chain it
carries. --evidence re-ingests the evidence into a temporary case and lists
every item as unchanged, changed, missing or added; --rerun also verifies
that case again with --public-keys (--allow-weak-keys as for 'forensic
verify') and lists every status and finding that differs from the report.
--export DIR (report) puts the SHA-256 of a 'forensic export' of the case
— its MANIFEST.json and every data file — into report.json, so that the
signature covers the dataset; the report is refused if the export is of
another case or any file is not as its manifest lists it. --export DIR
(report verify) re-hashes that folder and lists every file as unchanged,
changed, missing or added.
Several --case make one report over the cases of several shards (ingest
--shard on several machines; see forensic plan). Each case must be
verified, its custody log intact, and all made from the same sources with
the same trust anchors, as its own record says (its custody log, events,
statuses and findings as a report of it alone checks them); no shard or
item may be in two cases, no item of a shard a case does not claim,
object copies judged in one case only (plan puts them all in shard
rest), and no case whose last verify --rehash found changes. The cases are merged into one case (temporary, or
kept at --merged-case), which is verified again as a whole with those trust
anchors (or with --public-keys, which must be the files every case was
verified with) — so that unreferenced log files, access-log correlation, tail
coverage and gap explanations from other regions' events are found over
all the shards — with the object verdicts carried from the case that read
the objects (the evidence itself is not needed). report.json lists every
case (its SHA-256, shards and whole custody log) under "cases"; the merged
case's custody log records each merge at that case's custody head, and
each case's own log records the report. --export then takes the merged
export ('forensic export merge') of exactly those cases' exports.
'report timestamp-request DIR' and 'report timestamp DIR --response FILE'
add an RFC 3161 time stamp of SHA256SUMS from a time-stamping authority
(see 'forensic report timestamp --help'); report verify then checks it
(--tsa-cert: the TSA's CA certificate) and prints its time.
Every file of the folder must be a regular file: a symbolic link, named
pipe or device in a report folder is a failed check (reports never hold
one), and is never opened or followed.

Examples:
  forensic keygen --out analyst
  forensic report --case case.db --key analyst.key --out report/
  forensic report verify report/ --signer analyst.pub.pem
  forensic report verify report/ --signer analyst.pub.pem --evidence evidence.tar.zst
  forensic report verify report/ --evidence evidence.tar.zst --rerun --public-keys keys/
  forensic report --case case.db --key analyst.key --out report/ --export export/
  forensic report verify report/ --signer analyst.pub.pem --export export/
  forensic report --case rest.db --case area-1a2b3c4d5e6f.db --key analyst.key --out report/

report refuses (exit 1) a case that the last 'forensic verify' does not
cover — never verified, evidence ingested since, or a digest, log file or
object without a status — naming what is not covered; --allow-unverified
writes the report anyway, with a NOT VERIFIED verdict whose first sentence
gives the reason.

Exit status: report: 0 the report was written (whatever its verdict), 1 it
could not be (or was refused), 2 usage error or unusable key. report verify: 0 everything
matches, 1 something does not (each is listed), 2 usage error.
`

type reportOptions struct {
	casePath string
	// cases are the --case values; several make a report over several
	// cases (reportcases.go), merged into mergedCase (a temporary case
	// when ""); merged describes them once merged, for the report.
	cases      []string
	paper      string // report.pdf: report.PaperA4 or report.PaperLetter
	mergedCase string
	merged     []report.MergedCase
	// keys (--public-keys, with allowWeak): the trust anchors a report
	// over several cases verifies the merge with, instead of those the
	// cases recorded.
	keys      []string
	allowWeak bool
	keyPath   string
	out       string
	identity  string
	operator  string
	json      bool
	// allowUnverified writes a NOT VERIFIED report of a case the last
	// verify does not cover, instead of refusing.
	allowUnverified bool
	export          string           // a Parquet export of the case the report covers
	now             func() time.Time // tests
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return cmdReportVerify(ctx, args[1:], stdout, stderr)
		case "timestamp-request":
			return cmdTimestampRequest(args[1:], stdout, stderr)
		case "timestamp":
			return cmdTimestamp(args[1:], stdout, stderr)
		}
	}
	var o reportOptions
	fs := newFlagSet("report", reportUsage, stderr)
	fs.StringArrayVar(&o.cases, "case", nil, "case file (required; repeat it for one report over the cases of several shards)")
	fs.StringVar(&o.paper, "paper", report.PaperA4, "report.pdf's paper: a4 or letter")
	fs.StringVar(&o.mergedCase, "merged-case", "", "with several --case: keep the merged case there (a new file) instead of a temporary one")
	fs.StringArrayVar(&o.keys, "public-keys", nil, "with several --case: verify the merged case with these trust anchors (file or folder, repeatable; every case must have been verified with the same files), not those the cases recorded")
	fs.BoolVar(&o.allowWeak, "allow-weak-keys", false, "with --public-keys: trust RSA keys of 512 to 2047 bits")
	fs.StringVar(&o.keyPath, "key", "", "Ed25519 private key from 'forensic keygen' (required)")
	fs.StringVar(&o.out, "out", "", "report folder to create (required; must not exist or be empty)")
	fs.StringVar(&o.identity, "identity", "", "signer identity (default: from KEY's .allowed_signers, else OPERATOR@HOST)")
	fs.StringVar(&o.operator, "operator", "", "who runs the command, for the custody log (default: the OS user)")
	fs.BoolVar(&o.json, "json", false, "print what was written as JSON on stdout")
	fs.StringVar(&o.export, "export", "", "a 'forensic export' folder of the case for the report to cover (every file's SHA-256 in report.json)")
	fs.BoolVar(&o.allowUnverified, "allow-unverified", false, "write the report even when the last verify does not cover the case (its verdict is then NOT VERIFIED, saying why)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case len(o.cases) == 0:
		return usagef("report: --case is required")
	case o.paper != report.PaperA4 && o.paper != report.PaperLetter:
		return usagef("report: --paper is a4 or letter, not %q", o.paper)
	case o.mergedCase != "" && len(o.cases) < 2:
		return usagef("report: --merged-case is used only with several --case")
	case len(o.keys) > 0 && len(o.cases) < 2:
		return usagef("report: --public-keys is used only with several --case (a case's report states what its verify recorded)")
	case o.allowWeak && len(o.keys) == 0:
		return usagef("report: --allow-weak-keys is used only with --public-keys")
	case len(o.cases) > 1 && o.allowUnverified:
		return usagef("report: --allow-unverified is not used with several --case: each case must be verified")
	case o.keyPath == "":
		return usagef("report: --key is required (make one with 'forensic keygen --out analyst')")
	case o.out == "":
		return usagef("report: --out is required")
	case fs.NArg() > 0:
		return usagef("report: unexpected argument %q", fs.Arg(0))
	}
	o.casePath = o.cases[0]
	for _, p := range o.cases {
		if _, err := regfile.Check(p); err != nil {
			return usagef("report: case %s: %v", p, unwrap(err))
		}
	}
	if err := report.CheckOut(o.out); err != nil {
		return usagef("report: %v", err)
	}
	if o.mergedCase != "" {
		if _, err := os.Lstat(o.mergedCase); err == nil {
			return usagef("report: --merged-case %s exists; name a new file", o.mergedCase)
		}
	}
	for _, p := range o.cases {
		if err := outputInSource("report", "--out", o.out, caseSources(ctx, p)); err != nil {
			return err
		}
		if o.mergedCase != "" {
			if err := outputInSource("report", "--merged-case", o.mergedCase, caseSources(ctx, p)); err != nil {
				return err
			}
		}
	}
	var err error
	if len(o.cases) > 1 {
		_, err = runCasesReport(ctx, o, stdout)
	} else {
		_, err = runReport(ctx, o, stdout)
	}
	return err
}

// signerIdentity is --identity, else the first field of the
// .allowed_signers file beside the key, else operator@host.
func signerIdentity(flag, keyPath, op string) string {
	if flag != "" {
		return flag
	}
	base := strings.TrimSuffix(keyPath, report.SuffixPrivate)
	if b, err := regfile.ReadFile(base+report.SuffixAllowedSigners, 64<<10); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			return f[0]
		}
	}
	return op + "@" + hostname()
}

func runReport(ctx context.Context, o reportOptions, stdout io.Writer) (*report.Result, error) {
	key, err := report.LoadKey(o.keyPath)
	if err != nil {
		return nil, usagef("report: %v", err)
	}
	op := operator(o.operator)
	id := signerIdentity(o.identity, o.keyPath, op)
	if err := report.CheckIdentity(id); err != nil {
		return nil, usagef("report: %v (choose one with --identity)", err)
	}
	c, err := store.Open(ctx, o.casePath)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	signedAt := now().UTC()
	ver, rev, mod := buildInfo()
	args := reportArgs(o, id)
	res, err := report.Build(ctx, c, report.BuildOptions{
		Out: o.out, Key: key, Identity: id, Operator: op, Host: hostname(), SignedAt: signedAt,
		Tool: report.Tool{Name: "forensic", Version: ver, Revision: rev, Modified: mod, BinarySHA256: executableSHA256(),
			Platform: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
		Command: args, AllowUnverified: o.allowUnverified, Export: o.export, Cases: o.merged, Paper: o.paper,
	})
	var ue *report.UnverifiedError
	if errors.As(err, &ue) {
		return nil, failedError{fmt.Sprintf("report: refused: %v. Run 'forensic verify --case %s --public-keys KEYS' first "+
			"(or pass --allow-unverified to write a report whose verdict is NOT VERIFIED)", ue, o.casePath)}
	}
	if err != nil {
		return nil, err
	}
	if err := appendReportCustody(ctx, c, res, op, id, args, signedAt); err != nil {
		return res, fmt.Errorf("report written to %s, but recording it in the custody log failed: %w", res.Dir, err)
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return res, enc.Encode(res)
	}
	q := display.Quote
	fmt.Fprintf(stdout, "report written to %s\n", q(res.Dir))
	fmt.Fprintf(stdout, "  signed by %s (%s) at %s\n", q(res.Identity), q(res.Fingerprint), q(res.SignedAt))
	for _, f := range res.Files {
		fmt.Fprintf(stdout, "  %s  %s\n", q(f.SHA256), q(f.Name))
	}
	fmt.Fprintf(stdout, "  %s\n", q(res.Verdict))
	fmt.Fprintf(stdout, "check it with: forensic report verify %s --signer PUB.pem   (or the commands in %s)\n",
		q(res.Dir), q(filepath.Join(res.Dir, report.FileVerify)))
	return res, nil
}

// reportArgs is the command line a report records (in report.json and
// the custody log).
func reportArgs(o reportOptions, id string) []string {
	args := []string{"report"}
	cases := o.cases
	if len(cases) == 0 {
		cases = []string{o.casePath}
	}
	for _, p := range cases {
		args = append(args, "--case", p)
	}
	if o.mergedCase != "" {
		args = append(args, "--merged-case", o.mergedCase)
	}
	args = append(args, "--key", o.keyPath, "--out", o.out, "--identity", id)
	if o.allowUnverified {
		args = append(args, "--allow-unverified")
	}
	if o.export != "" {
		args = append(args, "--export", o.export)
	}
	if o.paper != "" && o.paper != report.PaperA4 {
		args = append(args, "--paper", o.paper)
	}
	for _, k := range o.keys {
		args = append(args, "--public-keys", k)
	}
	if o.allowWeak {
		args = append(args, "--allow-weak-keys")
	}
	return args
}

func appendReportCustody(ctx context.Context, c *store.Case, res *report.Result, op, id string, args []string, at time.Time) error {
	in, _ := json.Marshal(map[string]any{"custody_head": res.CustodyHead, "signer_identity": id,
		"signer_fingerprint": res.Fingerprint})
	out, _ := json.Marshal(map[string]any{"dir": res.Dir, "files": res.Files, "sha256sums_sha256": res.SumsSHA256,
		"verified": res.Verified})
	_, err := c.AppendCustody(ctx, store.CustodyEntry{
		Time: at.Format(time.RFC3339Nano), Operator: op, Host: hostname(), Tool: toolString(),
		Command: "report", Args: args, Inputs: in, Outputs: out,
	})
	return err
}

// executableSHA256 is the hex SHA-256 of the running binary, "" when it
// cannot be read.
func executableSHA256() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

type reportVerifyOptions struct {
	tsaCert   string
	dir       string
	signer    string
	evidence  []string
	rerun     bool
	keys      []string
	allowWeak bool
	json      bool
	export    string
}

func cmdReportVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o reportVerifyOptions
	fs := newFlagSet("report verify", reportUsage, stderr)
	fs.StringVar(&o.signer, "signer", "", "the signer's public key (PEM, .pub or allowed_signers), obtained independently")
	fs.StringArrayVar(&o.evidence, "evidence", nil, "evidence to re-hash and compare with the report (repeatable)")
	fs.BoolVar(&o.rerun, "rerun", false, "re-ingest and re-verify the evidence and compare findings (needs --evidence)")
	fs.StringArrayVar(&o.keys, "public-keys", nil, "trusted CloudTrail public keys for --rerun: file or folder (repeatable)")
	fs.BoolVar(&o.allowWeak, "allow-weak-keys", false, "with --rerun: trust RSA keys of 512 to 2047 bits")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON on stdout")
	fs.StringVar(&o.export, "export", "", "an export folder to re-hash against the report (report --export)")
	fs.StringVar(&o.tsaCert, "tsa-cert", "", "the TSA's CA certificate (PEM) an RFC 3161 time stamp of the report must chain to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		return usagef("report verify: name one report folder")
	case o.rerun && len(o.evidence) == 0:
		return usagef("report verify: --rerun needs the evidence (--evidence PATH)")
	case len(o.keys) > 0 && !o.rerun:
		return usagef("report verify: --public-keys is used only with --rerun")
	case o.allowWeak && !o.rerun:
		return usagef("report verify: --allow-weak-keys is used only with --rerun")
	}
	o.dir = fs.Arg(0)
	if fi, err := os.Stat(o.dir); err != nil || !fi.IsDir() {
		return usagef("report verify: %s is not a report folder", o.dir)
	}
	for _, p := range append(append([]string{}, o.evidence...), o.keys...) {
		if _, err := os.Stat(p); err != nil {
			return usagef("report verify: cannot read %s: %v", p, unwrap(err))
		}
	}
	if len(o.evidence) > 0 {
		// The re-ingest writes a temporary case there.
		if err := outputInSource("report verify", "the temporary folder (TMPDIR)", os.TempDir(), o.evidence); err != nil {
			return err
		}
	}
	if o.signer != "" {
		if _, err := report.LoadPublicKey(o.signer); err != nil {
			return usagef("report verify: --signer: %v", err)
		}
	}
	if len(o.keys) > 0 {
		// Before the re-ingest, which can take a while.
		if _, err := loadAnchors("report verify", o.keys, o.allowWeak); err != nil {
			return err
		}
	}
	_, err := runReportVerify(ctx, o, stdout)
	return err
}

// rerunVerify returns what verifies the re-ingested case as 'forensic
// verify' would.
func rerunVerify(allowWeak bool) report.VerifyFunc {
	return func(ctx context.Context, casePath string, keys []string) error {
		_, err := verify.RunCaseWith(ctx, casePath, keys, verify.AnchorOptions{AllowWeakKeys: allowWeak})
		return err
	}
}

func runReportVerify(ctx context.Context, o reportVerifyOptions, stdout io.Writer) (*report.VerifyResult, error) {
	opt := report.VerifyOptions{Signer: o.signer, Evidence: o.evidence, PublicKeys: o.keys, Export: o.export}
	if o.tsaCert != "" {
		roots, err := report.LoadTSACerts(o.tsaCert)
		if err != nil {
			return nil, usagef("report verify: %v", err)
		}
		opt.TSACerts = roots
	}
	if o.rerun {
		opt.Rerun = rerunVerify(o.allowWeak)
	}
	res, err := report.Verify(ctx, o.dir, opt)
	if err != nil {
		var ke *verify.KeyFileError
		if errors.As(err, &ke) {
			return nil, usagef("report verify: %v", err)
		}
		return nil, err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return res, err
		}
	} else {
		printReportVerify(stdout, res)
	}
	if !res.OK {
		return res, failedError{fmt.Sprintf("report %s does not verify (see above)", o.dir)}
	}
	return res, nil
}

// printReportVerify writes the text result. The report folder is
// evidence too (a forged one may name anything): every value is printed
// through display.Quote.
func printReportVerify(w io.Writer, r *report.VerifyResult) {
	q := display.Quote
	fmt.Fprintf(w, "report %s, signed by %s (%s)\n", q(r.Dir), q(r.Signer), q(r.Fingerprint))
	for _, c := range r.Checks {
		line := fmt.Sprintf("  %-4s %s", q(strings.ToUpper(c.Status)), q(c.Name))
		if c.Status != report.CheckPass {
			if c.Want != "" || c.Got != "" {
				line += fmt.Sprintf(": want %s, got %s", q(c.Want), q(c.Got))
			}
			if c.Detail != "" {
				line += " (" + q(c.Detail) + ")"
			}
		}
		fmt.Fprintln(w, line)
	}
	if t := r.Timestamp; t != nil {
		trust := "its TSA certificate chains to --tsa-cert"
		if !t.Chained {
			trust = "its TSA certificate was not checked against a CA you trust (--tsa-cert)"
		}
		fmt.Fprintf(w, "Time stamp: SHA256SUMS existed at %s, says %s (RFC 3161, serial %s; %s)\n", q(t.GenTime.Format(time.RFC3339)),
			q(t.TSA), q(t.SerialNumber), trust)
	}
	if len(r.Export) > 0 {
		fmt.Fprintln(w, "Export:")
		counts := map[string]int{}
		for _, e := range r.Export {
			counts[e.Status]++
			if e.Status == export.FileUnchanged {
				continue
			}
			fmt.Fprintf(w, "  %-9s %s", q(strings.ToUpper(e.Status)), q(e.Path))
			if e.Status == export.FileChanged {
				fmt.Fprintf(w, ": sha256 %s, report says %s", q(e.Got), q(e.Want))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "  unchanged %d, changed %d, missing %d, added %d\n", counts[export.FileUnchanged],
			counts[export.FileChanged], counts[export.FileMissing], counts[export.FileAdded])
	}
	if len(r.Evidence) > 0 {
		fmt.Fprintln(w, "Evidence:")
		for _, e := range r.Evidence {
			if e.Status == report.EvidenceUnchanged || e.Status == report.EvidenceNotChecked {
				continue
			}
			name := e.Source
			if e.Path != "" {
				name += "/" + e.Path
			}
			if e.Member != "" {
				name += "!/" + e.Member
			}
			fmt.Fprintf(w, "  %-9s %s", q(strings.ToUpper(e.Status)), q(name))
			if e.Status == report.EvidenceChanged {
				fmt.Fprintf(w, ": sha256 %s, report says %s", q(e.ActualSHA256), q(e.SHA256))
			}
			if e.Status == report.EvidenceRenamed {
				fmt.Fprintf(w, ": given as %s, the same bytes (sha256 %s)", q(e.GivenAs), q(e.SHA256))
			}
			if e.Status == report.EvidenceEventsChanged && e.EventCount != nil && e.ActualEventCount != nil {
				fmt.Fprintf(w, ": the evidence gives %d events (events_sha256 %s), the case held %d (%s) when the report was made",
					*e.ActualEventCount, q(e.ActualEventsSHA256), *e.EventCount, q(e.EventsSHA256))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "  unchanged %d, changed %d, missing %d, added %d, not checked %d",
			r.EvidenceCounts[report.EvidenceUnchanged], r.EvidenceCounts[report.EvidenceChanged],
			r.EvidenceCounts[report.EvidenceMissing], r.EvidenceCounts[report.EvidenceAdded],
			r.EvidenceCounts[report.EvidenceNotChecked])
		if n := r.EvidenceCounts[report.EvidenceEventsChanged]; n > 0 {
			fmt.Fprintf(w, ", events changed %d", n)
		}
		if n := r.EvidenceCounts[report.EvidenceRenamed]; n > 0 {
			fmt.Fprintf(w, ", sources renamed %d", n)
		}
		fmt.Fprintln(w)
	}
	if r.Rerun {
		if len(r.Differences) == 0 {
			fmt.Fprintln(w, "Re-run: every status and finding matches the report.")
		} else {
			fmt.Fprintf(w, "Re-run: %d differences from the report:\n", len(r.Differences))
			for _, d := range r.Differences {
				fmt.Fprintf(w, "  %s %s: %s\n", q(d.Side), q(d.What), q(d.Item))
			}
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", q(s))
	}
	if r.OK {
		fmt.Fprintln(w, "Result: the report verifies: it is authentic and unchanged.")
		fmt.Fprintf(w, "Its verdict on the evidence: %s\n", display.Quote(r.Verdict))
	} else {
		fmt.Fprintln(w, "Result: the report does NOT verify.")
	}
}
