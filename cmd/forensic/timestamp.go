package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/report"
)

const timestampUsage = `Usage:
  forensic report timestamp-request DIR
  forensic report timestamp DIR --response FILE [--tsa-cert CA.pem]

A report's signing time is the local clock of the machine that signed it.
An RFC 3161 time stamp from a time-stamping authority (TSA) proves that the
report existed at a time. The signing machine is offline, so:

timestamp-request writes DIR/SHA256SUMS.tsq, a TimeStampReq over the
SHA-256 of DIR/SHA256SUMS (with a nonce, asking for the TSA's certificate).
Carry it to a connected machine and send it to any TSA:

  curl --data-binary @SHA256SUMS.tsq -H 'Content-Type: application/timestamp-query' https://tsa.example -o SHA256SUMS.tsr

timestamp checks the response against the request and SHA256SUMS (the
imprint, the nonce, the TSA's signature, its certificate's timeStamping
usage and, with --tsa-cert, its chain to that CA at the time stamp's time)
and copies it into the folder as SHA256SUMS.tsr. Both files sit outside
SHA256SUMS, like the signatures (they cover it). 'forensic report verify'
then checks the time stamp too (--tsa-cert as here) and prints the TSA's
time and name; VERIFY.txt gives the openssl ts commands.

Exit status: 0 done, 1 the response does not verify (named), 2 usage error.
`

func cmdTimestampRequest(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report timestamp-request", timestampUsage, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report timestamp-request: name one report folder")
	}
	dir := fs.Arg(0)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usagef("report timestamp-request: %s is not a report folder", dir)
	}
	p, err := report.TimestampRequest(dir)
	if err != nil {
		return failedError{fmt.Sprintf("report timestamp-request: %v", err)}
	}
	fmt.Fprintf(stdout, "time-stamp request written to %s\nsend it to a TSA, for example:\n  curl --data-binary @%s -H 'Content-Type: application/timestamp-query' https://TSA -o %s\nthen: forensic report timestamp %s --response %s\n",
		display.Quote(p), display.Quote(report.FileTSQ), display.Quote(report.FileTSR), display.Quote(dir), display.Quote(report.FileTSR))
	return nil
}

func cmdTimestamp(args []string, stdout, stderr io.Writer) error {
	var resp, tsaCert string
	fs := newFlagSet("report timestamp", timestampUsage, stderr)
	fs.StringVar(&resp, "response", "", "the TSA's response to SHA256SUMS.tsq (required)")
	fs.StringVar(&tsaCert, "tsa-cert", "", "the TSA's CA certificate (PEM): the response must chain to it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		return usagef("report timestamp: name one report folder")
	case resp == "":
		return usagef("report timestamp: --response is required")
	}
	dir := fs.Arg(0)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usagef("report timestamp: %s is not a report folder", dir)
	}
	var roots *x509.CertPool
	if tsaCert != "" {
		var err error
		if roots, err = report.LoadTSACerts(tsaCert); err != nil {
			return usagef("report timestamp: %v", err)
		}
	}
	tok, err := report.AddTimestamp(dir, resp, roots)
	if err != nil {
		return failedError{fmt.Sprintf("report timestamp: %v", err)}
	}
	q := display.Quote
	fmt.Fprintf(stdout, "time stamp added to %s: SHA256SUMS existed at %s, says %s (serial %s, policy %s)\n", q(dir),
		q(tok.GenTime.Format(time.RFC3339)), q(tok.TSA), q(tok.SerialNumber), q(tok.Policy))
	if !tok.Chained {
		fmt.Fprintln(stderr, "forensic: warning: the TSA's certificate was not checked against a CA you trust: pass --tsa-cert")
	}
	return nil
}
