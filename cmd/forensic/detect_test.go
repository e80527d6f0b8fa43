package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/testcorpus"
)

func readHits(t *testing.T, out string) []detectHit {
	t.Helper()
	var hs []detectHit
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var h detectHit
		require.NoError(t, json.Unmarshal(sc.Bytes(), &h), sc.Text())
		hs = append(hs, h)
	}
	return hs
}

// stratusExpected is the built-in rule each Stratus Red Team detonation
// must trigger (at least; others may fire too).
var stratusExpected = map[string]string{
	"aws.credential-access.ec2-get-password-data.json":                 "ec2_password_data",
	"aws.credential-access.ec2-steal-instance-credentials.json":        "ssm_command_or_session",
	"aws.credential-access.secretsmanager-batch-retrieve-secrets.json": "secrets_batch_read",
	"aws.credential-access.secretsmanager-retrieve-secrets.json":       "secrets_bulk_read",
	"aws.credential-access.ssm-retrieve-securestring-parameters.json":  "ssm_parameters_bulk_decrypt",
	"aws.defense-evasion.cloudtrail-delete.json":                       "cloudtrail_delete_trail",
	"aws.defense-evasion.cloudtrail-event-selectors.json":              "cloudtrail_event_selectors_drop",
	"aws.defense-evasion.cloudtrail-stop.json":                         "cloudtrail_stop_logging",
	"aws.defense-evasion.dns-delete-logs.json":                         "dns_query_logging_deleted",
	"aws.defense-evasion.organizations-leave.json":                     "organizations_leave",
	"aws.defense-evasion.vpc-remove-flow-logs.json":                    "vpc_flow_logs_deleted",
	"aws.discovery.ec2-download-user-data.json":                        "ec2_user_data_read",
	"aws.execution.ec2-launch-unusual-instances.json":                  "ec2_unusual_instances",
	"aws.execution.ec2-user-data.json":                                 "ec2_user_data_changed",
	"aws.execution.ssm-send-command.json":                              "ssm_command_or_session",
	"aws.execution.ssm-start-session.json":                             "ssm_command_or_session",
	"aws.exfiltration.ec2-security-group-open-port-22-ingress.json":    "ec2_security_group_open_to_world",
	"aws.exfiltration.ec2-share-ami.json":                              "snapshot_or_image_shared",
	"aws.exfiltration.ec2-share-ebs-snapshot.json":                     "snapshot_or_image_shared",
	"aws.exfiltration.rds-share-snapshot.json":                         "snapshot_or_image_shared",
	"aws.impact.bedrock-invoke-model.json":                             "bedrock_model_access",
	"aws.initial-access.console-login-without-mfa.json":                "console_login_without_mfa",
	"aws.lateral-movement.ec2-instance-connect.json":                   "ec2_ssh_key_pushed",
	"aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json": "ec2_ssh_key_pushed",
	"aws.persistence.iam-backdoor-role.json":                           "iam_role_trust_changed",
	"aws.persistence.iam-backdoor-user.json":                           "iam_access_key_for_other_user",
	"aws.persistence.iam-create-admin-user.json":                       "iam_admin_policy_attached",
	"aws.persistence.iam-create-backdoor-role.json":                    "iam_admin_policy_attached",
	"aws.persistence.iam-create-user-login-profile.json":               "iam_login_profile",
	"aws.persistence.lambda-backdoor-function.json":                    "lambda_public_permission",
	"aws.persistence.lambda-layer-extension.json":                      "lambda_code_or_layers_changed",
	"aws.persistence.lambda-overwrite-code.json":                       "lambda_code_or_layers_changed",
	"aws.persistence.rolesanywhere-create-trust-anchor.json":           "rolesanywhere_trust_anchor",
	"aws.persistence.sts-federation-token.json":                        "sts_federation_token",
	"aws.privilege-escalation.iam-update-user-login-profile.json":      "iam_login_profile",
}

// TestDetectCorpus: the built-in rules over the corpus's Stratus Red Team
// detonations and the Invictus IR dataset give the hits written down per
// file in testdata/detect-corpus.golden (FORENSIC_UPDATE_GOLDEN=1
// rewrites it), and every Stratus technique triggers its rule.
func TestDetectCorpus(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	stratus := testcorpus.Path(t, "stratus-red-team-detonation-logs")
	r := forensic(t, "ingest", "--case", db, stratus, testcorpus.Path(t, "invictus-aws-dataset"))
	require.Equal(t, 0, r.code, r.stderr)
	r = forensic(t, "detect", "--case", db, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "partial coverage: the last verify does not cover the case")
	counts := map[string]int{}
	fired := map[string]map[string]bool{}
	for _, h := range readHits(t, r.stdout) {
		assert.Equal(t, "not_verified", h.Verification, "never verified")
		file := filepath.Base(strings.SplitN(h.LogPath, "!/", 2)[0])
		rule := strings.TrimSuffix(strings.TrimPrefix(h.RuleSource, "builtin:"), ".yml")
		counts[file+"\t"+rule]++
		if fired[file] == nil {
			fired[file] = map[string]bool{}
		}
		fired[file][rule] = true
	}
	for file, rule := range stratusExpected {
		assert.True(t, fired[file][rule], "%s does not trigger %s (it triggers %v)", file, rule, fired[file])
	}
	ents, err := os.ReadDir(stratus)
	require.NoError(t, err)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") {
			assert.Contains(t, stratusExpected, e.Name(), "every detonation has its expected rule")
		}
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s\t%d", k, n))
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "detect-corpus.golden")
	if os.Getenv("FORENSIC_UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "file, rule and hits; FORENSIC_UPDATE_GOLDEN=1 rewrites %s", golden)
}

// TestDetectVerification: every hit carries the status of its event's
// log file — verified, not_verified before verify, log_not_valid for a
// tampered file — in the case, the JSON lines and the text; the run is a
// custody entry naming its rule files; a rule file that cannot be parsed
// is named (exit 1) and the other rules still run; an unsupported rule is
// listed, not run.
func TestDetectVerification(t *testing.T) {
	dir := t.TempDir()
	opt := fixtures.Options{Seed: 3, Hours: 5, FilesPerHour: 2, EventsPerFile: 3, GapAfter: 1, GapHours: 1}
	m, err := fixtures.Generate(filepath.Join(dir, "ev"), opt)
	require.NoError(t, err)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	db := filepath.Join(dir, "c.db")
	r := forensic(t, "ingest", "--case", db, m.Root)
	require.Equal(t, 0, r.code, r.stderr)

	r = forensic(t, "detect", "--case", db, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	before := readHits(t, r.stdout)
	require.NotEmpty(t, before, "the fixture's StopLogging")
	for _, h := range before {
		assert.Equal(t, "not_verified", h.Verification)
	}

	// The StopLogging's log file, tampered: its hit is on a log not valid.
	stops := queryJSON(t, db, "SELECT v.path FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE e.event_name = 'StopLogging'")
	require.NotEmpty(t, stops)
	forensic(t, "verify", "--case", db, "--public-keys", keys)
	r = forensic(t, "detect", "--case", db, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	buckets := map[string]int{}
	for _, h := range readHits(t, r.stdout) {
		buckets[h.Verification]++
		row := queryJSON(t, db, fmt.Sprintf("SELECT coalesce(log_status, '') AS s, verified FROM ct_events_status WHERE id = %d", h.EventRow))
		require.Len(t, row, 1)
		want := map[bool]string{true: "verified", false: "log_not_valid"}[row[0]["verified"] == float64(1)]
		assert.Equal(t, want, h.Verification, "hit %d: one classification, the view's", h.EventRow)
		assert.Equal(t, row[0]["s"], h.LogStatus)
	}
	assert.Positive(t, buckets["verified"], "%v", buckets)

	// The timeline names the rules that found each event.
	r = forensic(t, "timeline", "--case", db, "--from", "2024-01-01T00:00Z", "--to", "2025-01-01T00:00Z", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	marked := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row timelineRow
		require.NoError(t, json.Unmarshal([]byte(line), &row))
		if row.Action == "StopLogging" {
			assert.Contains(t, row.Detection, "CloudTrail logging stopped")
			marked++
		} else if row.Detection != "" {
			marked++
		}
	}
	events := map[int64]bool{}
	for _, h := range readHits(t, forensic(t, "detect", "--case", db, "--json").stdout) {
		events[h.EventRow] = true
	}
	assert.Equal(t, len(events), marked, "every hit's event, and only those, marked")

	// Tamper the file with the StopLogging: a new case sees it not valid.
	p := stops[0]["path"].(string)
	zr, err := os.Open(p)
	require.NoError(t, err)
	gz, err := gzip.NewReader(zr)
	require.NoError(t, err)
	plain, err := io.ReadAll(gz)
	zr.Close()
	require.NoError(t, err)
	plain = []byte(strings.Replace(string(plain), `"StopLogging"`, `"StopLogging" `, 1)) // one byte more, still JSON
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(plain)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	db2 := filepath.Join(dir, "c2.db")
	r = forensic(t, "ingest", "--case", db2, m.Root)
	require.Equal(t, 0, r.code, r.stderr)
	forensic(t, "verify", "--case", db2, "--public-keys", keys)
	r = forensic(t, "detect", "--case", db2)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "CloudTrail logging stopped")
	assert.Contains(t, r.stdout, "LOG NOT VALID")
	// The report says which hits are proven, and which not.
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(dir, "report")
	r = forensic(t, "report", "--case", db2, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)
	b, err := os.ReadFile(filepath.Join(rep, "report.json"))
	require.NoError(t, err)
	var doc struct {
		Detections struct {
			Current bool `json:"current"`
			Rules   []struct {
				Title  string `json:"title"`
				Author string `json:"author"`
				Hits   struct {
					LogNotValid int64 `json:"log_not_valid"`
					Total       int64 `json:"total"`
				} `json:"hits"`
				Events []struct {
					Verification string `json:"verification"`
				} `json:"events"`
			} `json:"rules"`
			RuleFiles []map[string]any `json:"rule_files"`
		} `json:"detections"`
		Verification struct {
			Verdict string `json:"verdict"`
		} `json:"verification"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.True(t, doc.Detections.Current)
	assert.NotEmpty(t, doc.Detections.RuleFiles)
	found := false
	for _, rr := range doc.Detections.Rules {
		if rr.Title == "CloudTrail logging stopped" {
			found = true
			assert.Equal(t, rr.Hits.Total, rr.Hits.LogNotValid)
			require.NotEmpty(t, rr.Events)
			assert.Equal(t, "log_not_valid", rr.Events[0].Verification)
			assert.Equal(t, "forensic", rr.Author)
		}
	}
	assert.True(t, found, "the rule with hits is in the report")
	assert.Contains(t, doc.Verification.Verdict, "detection hits are on events not proven authentic")
	html, err := os.ReadFile(filepath.Join(rep, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), "LOG NOT VALID (hash_mismatch)")
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)

	r = forensic(t, "detect", "--case", db2, "--verified-only", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	for _, h := range readHits(t, r.stdout) {
		assert.Equal(t, "verified", h.Verification)
		assert.NotEqual(t, "StopLogging", h.EventName, "its log is not valid")
	}

	// Rule files: one that is not Sigma, one unsupported, one good.
	rules := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(filepath.Join(rules, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(rules, "bad.yml"), []byte("title: [oops\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(rules, "sub", "count.yml"), []byte(`title: many
id: 11111111-1111-1111-1111-111111111111
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: StopLogging}
  condition: sel | count() > 3
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(rules, "sub", "stop.yml"), []byte(`title: my stop
id: 22222222-2222-2222-2222-222222222222
author: someone
level: high
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName|endswith: logging, eventSource: cloudtrail.amazonaws.com}
  condition: sel
`), 0o644))
	r = forensic(t, "detect", "--case", db, "--rules", rules, "--json")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "bad.yml")
	assert.Contains(t, r.stderr, "unsupported: an aggregation in the condition")
	hs := readHits(t, r.stdout)
	require.NotEmpty(t, hs, "the good rule ran")
	for _, h := range hs {
		assert.Equal(t, "22222222-2222-2222-2222-222222222222", h.RuleID)
		assert.Equal(t, "someone", h.RuleAuthor, "the author goes with every hit")
	}
	cust := queryJSON(t, db, "SELECT inputs, outputs FROM custody WHERE command = 'detect' ORDER BY seq DESC LIMIT 1")
	require.Len(t, cust, 1)
	assert.Contains(t, cust[0]["inputs"], "stop.yml")
	assert.Contains(t, cust[0]["inputs"], `"sha256":"`)
	assert.Contains(t, cust[0]["outputs"], "bad.yml")

	r = forensic(t, "detect", "--list-rules", "--rules", rules)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "unsupported: an aggregation")
	assert.Contains(t, r.stdout, "my stop")
	r = forensic(t, "detect", "--explain", "22222222-2222-2222-2222-222222222222", "--rules", filepath.Join(rules, "sub", "stop.yml"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "SELECT e.id FROM ct_events_status e WHERE")
	assert.Contains(t, r.stdout, `"%logging"`)
	assert.NotContains(t, strings.SplitN(r.stdout, "-- bound values", 2)[0], "cloudtrail.amazonaws.com", "values are bound, not in the SQL")
	r = forensic(t, "detect", "--case", db, "--rules", filepath.Join(dir, "nope"))
	assert.Equal(t, 2, r.code)
}
