package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/report"
)

const analyzeUsage = `Usage: forensic analyze PATH... --public-keys PATH... --key KEY --out DIR [--case CASE.db] [--allow-weak-keys]
       [--events all|none] [--from T] [--to T] [--account ID]... [--region R]...

Ingest, verify and report in one go: reads the evidence into a case file,
verifies it against the public keys you supply, and writes a signed report
folder. The case file is kept (default: DIR.case.db beside the report
folder) so it can be queried afterwards. Keep the public keys outside the
evidence (see 'forensic verify --help'); --allow-weak-keys trusts RSA keys
under 2048 bits, and the report says so. --events, --from, --to, --account
and --region choose the CloudTrail records indexed, as for ingest (every
item is verified whatever is indexed; the report says what was not).

Examples:
  forensic keygen --out analyst
  forensic analyze evidence.tar.zst --public-keys keys/ --key analyst.key --out report/
  forensic report verify report/ --signer analyst.pub.pem

Exit status: 0 everything was read, verified valid and reported; 1 the report
was written but some evidence could not be read or is not valid (listed);
2 usage error.
`

func cmdAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		casePath, keyPath, out, identity, op string
		keys, shards                         []string
		allowWeak, noAnchors                 bool
	)
	fs := newFlagSet("analyze", analyzeUsage, stderr)
	fs.StringArrayVar(&keys, "public-keys", nil, "trusted CloudTrail public keys: file or folder (repeatable)")
	fs.BoolVar(&allowWeak, "allow-weak-keys", false, "trust RSA keys of 512 to 2047 bits (the output and the report say so)")
	fs.BoolVar(&noAnchors, "no-trust-anchors", false, "verify without any trust anchor: no digest can be valid (the report's verdict says so first)")
	fs.StringVar(&keyPath, "key", "", "Ed25519 signing key from 'forensic keygen' (required)")
	fs.StringVar(&out, "out", "", "report folder to create (required)")
	fs.StringVar(&casePath, "case", "", "case file (default: OUT.case.db)")
	fs.StringVar(&identity, "identity", "", "signer identity (default: from KEY's .allowed_signers)")
	fs.StringVar(&op, "operator", "", "who runs the command, for the custody log (default: the OS user)")
	fs.StringArrayVar(&shards, "shard", nil, "take only this shard's items, as 'forensic ingest --shard' (repeatable)")
	var ef eventsFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkShards("analyze", shards); err != nil {
		return err
	}
	events, err := ef.filter("analyze")
	if err != nil {
		return err
	}
	paths := fs.Args()
	switch {
	case len(paths) == 0:
		return usagef("analyze: name the evidence to read")
	case keyPath == "":
		return usagef("analyze: --key is required (make one with 'forensic keygen --out analyst')")
	case out == "":
		return usagef("analyze: --out is required")
	}
	if err := needAnchors("analyze", keys, noAnchors); err != nil {
		return err
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			return usagef("analyze: cannot read %s: %v", p, unwrap(err))
		}
	}
	if err := report.CheckOut(out); err != nil {
		return usagef("analyze: %v", err)
	}
	if _, err := report.LoadKey(keyPath); err != nil {
		return usagef("analyze: %v", err)
	}
	if len(keys) > 0 {
		// Before the ingest, which can take a while: the same checks
		// verify makes.
		if _, err := loadAnchors("analyze", keys, allowWeak); err != nil {
			return err
		}
	}
	if casePath == "" {
		casePath = strings.TrimRight(filepath.Clean(out), string(filepath.Separator)) + ".case.db"
	}
	sources := append(append([]string{}, paths...), caseSources(ctx, casePath)...)
	if err := outputInSource("analyze", "--out", out, sources); err != nil {
		return err
	}
	if err := outputInSource("analyze", "--case", casePath, sources); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "== ingest into %s\n", display.Quote(casePath))
	_, ingestErr := runIngest(ctx, ingestOptions{casePath: casePath, paths: paths, operator: op, events: events, shards: shards}, stdout, stderr, isTerminal(stderr))
	if ingestErr != nil && !isFailed(ingestErr) {
		return ingestErr
	}
	fmt.Fprintln(stdout, "\n== verify")
	_, verifyErr := runVerify(ctx, verifyOptions{casePath: casePath, keys: keys, allowWeak: allowWeak, operator: op, noAnchors: noAnchors}, stdout)
	if verifyErr != nil && !isFailed(verifyErr) {
		return verifyErr
	}
	fmt.Fprintln(stdout, "\n== report")
	if _, err := runReport(ctx, reportOptions{casePath: casePath, keyPath: keyPath, out: out, identity: identity, operator: op}, stdout); err != nil {
		return err
	}
	for _, err := range []error{ingestErr, verifyErr} {
		if err != nil {
			return err
		}
	}
	return nil
}

// isFailed reports whether err means "ran, and found problems" (exit 1).
func isFailed(err error) bool {
	var fe failedError
	return errors.As(err, &fe)
}
