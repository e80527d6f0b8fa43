package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

const verifyUsage = `Usage: forensic verify --case CASE.db --public-keys FILE|DIR... [--json] [--rehash]
       forensic verify --case CASE.db --no-trust-anchors [--json] [--rehash]

Verifies every CloudTrail digest and log file in the case offline: digest
signatures (RSA SHA-256, from the saved head-object metadata or the next
digest's previousDigestSignature), the keys that signed them, the links of
each chain, the hash of every log file, and what is missing: digests a
successor points to, log files a digest lists, log files no digest lists,
and digests that should exist after the newest one (tail truncation).

It also checks every local copy of an S3 object against the metadata
exported for it (head-object --checksum-mode ENABLED, get-object-attributes,
list-object-versions, S3 Inventory): its size and every checksum and ETag,
all computed in one read ("kind": "object" in --json; statuses valid,
checksum_mismatch, size_mismatch, unverifiable, metadata_missing,
object_missing). S3 server access-log lines that delete, overwrite, copy or
change the ACL of CloudTrail's objects become findings linked to the
digests and log files they touched.

Only keys given with --public-keys are trusted: files or folders of
'aws cloudtrail list-public-keys' output (one per region; name the region
in the path, e.g. keys/us-east-1.json), PEM or DER keys. Keys ingested into
the case as evidence are not trusted. Fetch the keys from AWS yourself and
keep them outside the evidence: a key file that is also evidence (the same
bytes as an ingested item, or inside an ingested folder) gives a
trust_anchor_in_evidence warning. RSA keys under 2048 bits are refused
unless --allow-weak-keys is given (never under 512 bits); the output and
the report then say that weak keys were trusted.

Every status is recorded in the case; to query verified events only:
  forensic query --case CASE.db "SELECT event_time, event_name, principal FROM ct_events_status WHERE verified = 1"

Examples:
  forensic verify --case case.db --public-keys keys/us-east-1.json --public-keys keys/eu-west-1.json
  forensic verify --case case.db --public-keys keys/ --json > verdicts.json
  forensic verify --case case.db --public-keys keys/ --rehash

Without --public-keys verify refuses (exit 2): no digest could be valid,
and the results would replace the case's last ones. --no-trust-anchors
verifies anyway (every digest is then unverified); the report's verdict
says so in its first sentence.

Exit status: 0 every digest, log file and object is valid and nothing is missing,
1 otherwise (each problem is listed), 2 usage error or unusable key file
(unreadable, not a regular file, not keys, or a key too weak).
`

type verifyOptions struct {
	casePath  string
	keys      []string
	allowWeak bool
	json      bool
	rehash    bool
	workers   int
	operator  string
	noAnchors bool // --no-trust-anchors: verify with none, on purpose
	// anchorsFrom and objectsFrom: the verification of a merged case
	// (report --case A --case B) took the trust anchors, and the object
	// verdicts, from that case.
	anchorsFrom, objectsFrom string
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o verifyOptions
	fs := newFlagSet("verify", verifyUsage, stderr)
	fs.StringVar(&o.casePath, "case", "", "case file (required)")
	fs.StringArrayVar(&o.keys, "public-keys", nil, "trusted public keys: file or folder (repeatable)")
	fs.BoolVar(&o.noAnchors, "no-trust-anchors", false, "verify without any trust anchor: no digest can be valid (the output and the report say so)")
	fs.BoolVar(&o.allowWeak, "allow-weak-keys", false, "trust RSA keys of 512 to 2047 bits (the output and the report say so)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON on stdout")
	fs.BoolVar(&o.rehash, "rehash", false, "re-read and re-hash every log file from the evidence")
	fs.IntVar(&o.workers, "workers", 0, "re-hash workers (default: number of CPUs)")
	fs.StringVar(&o.operator, "operator", "", "who runs the command, for the custody log (default: the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.casePath == "" {
		return usagef("verify: --case is required")
	}
	if fs.NArg() > 0 {
		return usagef("verify: unexpected argument %q (keys go with --public-keys)", fs.Arg(0))
	}
	if _, err := regfile.Check(o.casePath); err != nil {
		return usagef("verify: case %s: %v", o.casePath, unwrap(err))
	}
	if err := outputInSource("verify", "--case", o.casePath, caseSources(ctx, o.casePath)); err != nil {
		return err
	}
	if err := needAnchors("verify", o.keys, o.noAnchors); err != nil {
		return err
	}
	_, err := runVerify(ctx, o, stdout)
	return err
}

func runVerify(ctx context.Context, o verifyOptions, stdout io.Writer) (*verify.Report, error) {
	var anchors *verify.TrustAnchors
	if len(o.keys) > 0 {
		a, err := loadAnchors("verify", o.keys, o.allowWeak)
		if err != nil {
			return nil, err
		}
		anchors = a
	}
	c, err := store.Open(ctx, o.casePath)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now().UTC()
	rep, err := verify.Run(ctx, c, verify.Options{Anchors: anchors, Rehash: o.rehash, Workers: o.workers})
	if err != nil {
		return nil, err
	}
	if err := appendVerifyCustody(ctx, c, o, anchors, rep, start); err != nil {
		return rep, err
	}
	indexed, note, err := eventsIndexing(ctx, c)
	if err != nil {
		return rep, err
	}
	if note != "" {
		rep.Summary.Notes = append(rep.Summary.Notes, note)
	}
	if o.json {
		// The items are streamed from the case, where Run recorded them.
		if err := rep.WriteJSON(ctx, c, stdout, verify.JSONField{Name: "events_indexed", Value: indexed}); err != nil {
			return rep, err
		}
	} else if err := printVerify(ctx, c, stdout, rep); err != nil {
		return rep, err
	}
	if rep.Failed() {
		s := rep.Summary
		msg := fmt.Sprintf("verification failed: %d of %d digests and %d of %d log files are not valid",
			s.Digests.Total-s.Digests.Valid, s.Digests.Total, s.Logs.Total-s.Logs.Valid, s.Logs.Total)
		if s.Objects.Total > 0 {
			msg += fmt.Sprintf(", %d of %d objects are not valid", s.Objects.Total-s.Objects.Valid, s.Objects.Total)
		}
		if n := s.LakeSigns.Total + s.LakeResults.Total; n > 0 {
			msg += fmt.Sprintf(", %d of %d CloudTrail Lake files are not valid", n-s.LakeSigns.Valid-s.LakeResults.Valid, n)
		}
		return rep, failedError{fmt.Sprintf("%s, %s (listed above)", msg, display.Plural(rep.FindingCount(), "finding", "findings"))}
	}
	return rep, nil
}

// needAnchors refuses a verification without trust anchors unless the
// analyst asked for one (--no-trust-anchors): without them no digest can
// be valid, and the results would replace the case's last ones.
func needAnchors(cmd string, keys []string, none bool) error {
	switch {
	case len(keys) == 0 && !none:
		return usagef("%s: no --public-keys given: nothing can be verified. Give the output of 'aws cloudtrail list-public-keys' for each region "+
			"(--public-keys FILE|DIR, kept outside the evidence), or --no-trust-anchors to verify without any (every digest then stays unverified)", cmd)
	case len(keys) > 0 && none:
		return usagef("%s: choose one of --public-keys and --no-trust-anchors", cmd)
	}
	return nil
}

// loadAnchors loads the trust anchors for cmd; an unusable key file is a
// usage error, with a hint when the key is only too weak.
func loadAnchors(cmd string, keys []string, allowWeak bool) (*verify.TrustAnchors, error) {
	a, err := verify.LoadTrustAnchorsWith(keys, verify.AnchorOptions{AllowWeakKeys: allowWeak})
	if err == nil {
		return a, nil
	}
	var ke *verify.KeyFileError
	if !errors.As(err, &ke) {
		return nil, err
	}
	var we *verify.WeakKeyError
	if errors.As(err, &we) && we.Reason == "" {
		return nil, usagef("%s: %v\nforensic: hint: CloudTrail signs with %d-bit keys; --allow-weak-keys trusts this one anyway, and the output and the report then say so",
			cmd, err, verify.MinKeyBits)
	}
	return nil, usagef("%s: %v", cmd, err)
}

func appendVerifyCustody(ctx context.Context, c *store.Case, o verifyOptions, anchors *verify.TrustAnchors, rep *verify.Report, start time.Time) error {
	type keyFile struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
		Keys   int    `json:"keys"`
	}
	files := []keyFile{}
	if anchors != nil {
		for _, f := range anchors.Files {
			files = append(files, keyFile{f.Path, f.SHA256, f.Size, len(f.Keys)})
		}
	}
	inputs := map[string]any{"public_keys": files, "rehash": o.rehash}
	if o.allowWeak {
		inputs["allow_weak_keys"] = true
	}
	if o.anchorsFrom != "" {
		inputs["public_keys_from_case"] = o.anchorsFrom
	}
	if o.objectsFrom != "" {
		inputs["object_verdicts_from_case"] = o.objectsFrom
	}
	in, _ := json.Marshal(inputs)
	s := rep.Summary
	res := map[string]any{"ok": s.OK, "digests": s.Digests, "logs": s.Logs, "objects": s.Objects, "findings": s.Findings,
		"rehashed": s.Rehashed}
	if s.LakeSigns.Total+s.LakeResults.Total > 0 {
		res["lake_sign_files"], res["lake_results"] = s.LakeSigns, s.LakeResults
	}
	out, _ := json.Marshal(res)
	args := []string{"verify", "--case", o.casePath}
	for _, k := range o.keys {
		args = append(args, "--public-keys", k)
	}
	if o.allowWeak {
		args = append(args, "--allow-weak-keys")
	}
	if o.rehash {
		args = append(args, "--rehash")
	}
	if o.noAnchors {
		args = append(args, "--no-trust-anchors")
	}
	_, err := c.AppendCustody(ctx, store.CustodyEntry{
		Time: start.Format(time.RFC3339Nano), Operator: operator(o.operator), Host: hostname(),
		Tool: toolString(), Command: "verify", Args: args, Inputs: in, Outputs: out,
	})
	return err
}

// printVerify writes the text report: every problem with its S3 key and
// local path, the findings, then the summary per account, region and
// trail. Values from the evidence go through display.Quote.
func printVerify(ctx context.Context, c *store.Case, w io.Writer, rep *verify.Report) error {
	problems := 0
	err := c.EachItemStatus(ctx, true, func(it store.ItemStatus) error {
		if problems == 0 {
			fmt.Fprintln(w, "Problems:")
		}
		problems++
		loc := it.S3Key
		if it.S3Bucket != "" {
			loc = "s3://" + it.S3Bucket + "/" + it.S3Key
		}
		fmt.Fprintf(w, "  %-6s %-22s %s\n", display.Quote(strings.ToUpper(it.Kind)), display.Quote(it.Status), display.Quote(loc))
		path := "(not in the evidence)"
		if it.Path != "" {
			path = display.Quote(it.Path)
		}
		fmt.Fprintf(w, "         path: %s\n", path)
		var d struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(it.Detail, &d) == nil && d.Reason != "" {
			fmt.Fprintf(w, "         %s\n", display.Quote(d.Reason))
		}
		return nil
	})
	if err != nil {
		return err
	}
	errorFindings := 0
	if rep.FindingCount() > 0 {
		fmt.Fprintln(w, "Findings:")
		err := c.EachFinding(ctx, func(f store.Finding) error {
			if f.Severity == verify.SeverityError {
				errorFindings++
			}
			_, err := fmt.Fprintf(w, "  [%s] %s: %s\n", display.Quote(f.Severity), display.Quote(f.Type), display.Quote(f.Summary))
			return err
		})
		if err != nil {
			return err
		}
	}
	s := rep.Summary
	fmt.Fprintln(w, "Summary:")
	for _, c := range s.Chains {
		gaps := "none"
		if len(c.Gaps) > 0 {
			q := make([]string, len(c.Gaps))
			for i, g := range c.Gaps {
				q[i] = display.Quote(g)
			}
			gaps = strings.Join(q, ", ")
		}
		trail := "(unknown trail)"
		if c.Trail != "" {
			trail = display.Quote(c.Trail)
		}
		covered := "-"
		if c.Start != "" {
			covered = display.Quote(c.Start) + " to " + display.Quote(c.End)
		}
		fmt.Fprintf(w, "  %s %s %s: digests %d/%d valid, logs %d/%d valid, covered %s, gaps: %s\n",
			display.Quote(c.Account), display.Quote(c.Region), trail, c.DigestsValid, c.DigestsTotal, c.LogsValid, c.LogsTotal, covered, gaps)
	}
	if s.Objects.Total > 0 {
		fmt.Fprintf(w, "  objects: %d/%d valid\n", s.Objects.Valid, s.Objects.Total)
	}
	if s.LakeSigns.Total+s.LakeResults.Total > 0 {
		fmt.Fprintf(w, "  CloudTrail Lake: sign files %d/%d valid, result files %d/%d valid\n",
			s.LakeSigns.Valid, s.LakeSigns.Total, s.LakeResults.Valid, s.LakeResults.Total)
	}
	fmt.Fprintf(w, "  total: digests %d/%d valid, logs %d/%d valid, %d findings\n",
		s.Digests.Valid, s.Digests.Total, s.Logs.Valid, s.Logs.Total, rep.FindingCount())
	if len(s.TrustAnchors) == 0 {
		fmt.Fprintln(w, "Trust anchors: none (--public-keys not given)")
	} else {
		fmt.Fprintln(w, "Trust anchors:")
		for _, a := range s.TrustAnchors {
			fmt.Fprintf(w, "  %s sha256 %s keys %s\n", display.Quote(a.Path), a.SHA256, display.Quote(strings.Join(a.Fingerprints, ",")))
		}
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "Note: %s\n", display.Quote(n))
	}
	if s.Rehashed > 0 {
		fmt.Fprintf(w, "Re-hashed %d log files from the evidence.\n", s.Rehashed)
	}
	if s.OK {
		caution := ""
		if n := s.Findings[verify.FindingTrustAnchorInEvidence]; n > 0 {
			caution = " CAUTION: trust anchors were taken from the evidence (see the WARNING above)."
		}
		if n := s.Logs.ByStatus[verify.StatusNotCovered]; n > 0 {
			fmt.Fprintf(w, "Result: every item is valid but %s no digest covers by design (not_covered: of CloudTrail-Insight/, -NetworkActivity/ or -Aggregated/, or exports of events): %s not proven authentic; nothing is missing.%s\n",
				display.Plural(n, "log file", "log files"), map[bool]string{true: "its events are", false: "their events are"}[n == 1], caution)
		} else if s.LakeSigns.Total+s.LakeResults.Total > 0 {
			fmt.Fprintln(w, "Result: every digest, log file, object and CloudTrail Lake file is valid; nothing is missing."+caution)
		} else if s.Objects.Total > 0 {
			fmt.Fprintln(w, "Result: every digest, log file and object is valid; nothing is missing."+caution)
		} else {
			fmt.Fprintln(w, "Result: every digest and log file is valid; nothing is missing."+caution)
		}
	} else {
		fmt.Fprintf(w, "Result: NOT VERIFIED: %s.\n", display.Plural(problems+errorFindings, "problem", "problems"))
	}
	return nil
}
