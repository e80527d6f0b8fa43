// Package conformance checks `forensic verify` against the reference
// validator: the `aws cloudtrail validate-logs` code of the installed awscli
// 1.x (awscli/customizations/cloudtrail/validation.py).
//
// awscli_validate.py (embedded here as AwscliScript) runs awscli's real
// CloudTrailValidateLogs command — handle_args, setup_services, the digest
// traversal (DigestProvider, DigestTraverser, PublicKeyProvider,
// Sha256RSADigestValidator) and its log-download loop — over a local export
// <root>/<bucket>/<key>, with only the AWS clients replaced by fakes that
// serve the export: S3 list_objects/get_object (Metadata from the digest's
// <key>.metadata.json head-object sidecar, {} without one), CloudTrail
// list_public_keys from <root>/keys/<region>/list-public-keys.json and
// describe_trails, Organizations describe_organization. Any other client or
// socket use aborts the run. awscli's verdicts are captured where it writes
// them (CloudTrailValidateLogs._write_status) and printed as JSON.
//
// The conformance test generates fixture sets (package fixtures) —
// untampered, each tampering awscli can observe, key rotation, a logging
// gap, an organization trail, a backfill digest, lost metadata — runs the
// script and `forensic ingest` + `forensic verify --json` on each, and
// asserts that every digest and log file awscli calls valid is valid for
// us and every one it calls invalid is not. The cases where we deliberately
// go further are a table in the test (and in README.md) whose statuses are
// asserted on both sides.
package conformance

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// AwscliScript is awscli_validate.py. It is run as `python3 - ARGS` with
// the script on stdin, so callers need no path to the source tree.
//
//go:embed awscli_validate.py
var AwscliScript []byte

// PythonEnv names the environment variable that overrides the python3
// interpreter RunAwscli starts.
const PythonEnv = "FORENSIC_PYTHON"

// AwscliItem is one digest or log file verdict of awscli.
type AwscliItem struct {
	S3Bucket string `json:"s3_bucket"`
	S3Key    string `json:"s3_key"`
	Verdict  string `json:"verdict"` // "valid" or "invalid"
	Message  string `json:"message"` // "valid" or "INVALID: <reason>"
	Backfill bool   `json:"backfill"`
}

// AwscliSummary holds awscli's own counters after the run.
type AwscliSummary struct {
	ValidDigests           int    `json:"valid_digests"`
	InvalidDigests         int    `json:"invalid_digests"`
	ValidBackfillDigests   int    `json:"valid_backfill_digests"`
	InvalidBackfillDigests int    `json:"invalid_backfill_digests"`
	ValidLogs              int    `json:"valid_logs"`
	InvalidLogs            int    `json:"invalid_logs"`
	ExitCode               int    `json:"exit_code"`
	AwscliVersion          string `json:"awscli_version"`
	BotocoreVersion        string `json:"botocore_version"`
	ValidationModule       string `json:"validation_module"`
}

// AwscliResult is the script's JSON output.
type AwscliResult struct {
	Digests []AwscliItem   `json:"digests"`
	Logs    []AwscliItem   `json:"logs"`
	Gaps    []string       `json:"gaps"`
	Other   []any          `json:"other"`
	Summary AwscliSummary  `json:"summary"`
	Calls   map[string]int `json:"calls"`
	Text    string         `json:"text"`
	Error   *string        `json:"error"`
	Seconds float64        `json:"seconds"`
}

// ParseAwscli decodes the script's --json output.
func ParseAwscli(out []byte) (*AwscliResult, error) {
	var r AwscliResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("decode awscli_validate.py output: %w", err)
	}
	return &r, nil
}

// RunAwscli runs awscli's validate-logs code over the export at root:
// `python3 - --root root --json args...` (args: --bucket, --region,
// --account-id, --trail or --trail-arn, --start-time, --end-time, --prefix,
// --org-id; see awscli_validate.py). seconds is the time awscli's command
// took inside the interpreter (imports and interpreter start-up excluded),
// out the JSON. Exit status 0 (all valid) and 1 (something invalid) are
// results; any other status (awscli stopped with an error, a network
// attempt, python or awscli missing) is an error that quotes stderr.
func RunAwscli(root string, args ...string) (seconds float64, out []byte, err error) {
	python := os.Getenv(PythonEnv)
	if python == "" {
		python = "python3"
	}
	bin, err := exec.LookPath(python)
	if err != nil {
		return 0, nil, fmt.Errorf("awscli reference: %s not found (install Python 3 with awscli 1.x, or set %s): %w", python, PythonEnv, err)
	}
	cmd := exec.Command(bin, append([]string{"-", "--root", root, "--json"}, args...)...)
	cmd.Stdin = bytes.NewReader(AwscliScript)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	out = stdout.Bytes()
	code := 0
	if runErr != nil {
		var ee *exec.ExitError
		if !errors.As(runErr, &ee) {
			return 0, out, fmt.Errorf("awscli reference: run %s: %w", bin, runErr)
		}
		code = ee.ExitCode()
	}
	if code == 4 {
		return 0, out, fmt.Errorf("awscli reference: awscli is not installed for %s: %s", bin, strings.TrimSpace(stderr.String()))
	}
	r, perr := ParseAwscli(out)
	if perr != nil {
		return 0, out, fmt.Errorf("awscli reference: exit status %d: %w; stderr: %s", code, perr, strings.TrimSpace(stderr.String()))
	}
	if code != 0 && code != 1 {
		msg := "unknown error"
		if r.Error != nil {
			msg = *r.Error
		}
		return r.Seconds, out, fmt.Errorf("awscli reference: exit status %d: %s; stderr: %s", code, msg, strings.TrimSpace(stderr.String()))
	}
	return r.Seconds, out, nil
}
