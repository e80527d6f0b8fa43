package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyCase copies a case at rest (with its -wal and -shm, if any).
func copyCase(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "case.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(src + suffix)
		if suffix != "" && os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst+suffix, b, 0o644))
	}
	return dst
}

// sqlite3 edits a case with the sqlite3 shell, as someone with the file
// could.
func sqlite3(t *testing.T, db, sql string) string {
	t.Helper()
	out, err := exec.Command("sqlite3", db, sql).CombinedOutput()
	require.NoError(t, err, "%s: %s", sql, out)
	return strings.TrimSpace(string(out))
}

func forensicEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(forensicBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{o.String(), e.String(), code}
}

// TestCustodyVerifyCatchesTruncation: removing the last custody entry, or
// all of them, or editing the anchor the case keeps of its log, fails
// custody verify with a message saying what is wrong, and the case then
// refuses new entries that would hide it; the untouched case passes.
func TestCustodyVerifyCatchesTruncation(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 3, 4)
	db := filepath.Join(dir, "case.db")
	for i := 0; i < 2; i++ {
		r := forensic(t, "ingest", "--case", db, ev)
		require.Equal(t, 0, r.code, r.stderr)
	}
	r := forensic(t, "custody", "verify", "--case", db)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "custody log intact: 2 entries")

	for _, tc := range []struct{ name, sql, want string }{
		{"last entry removed", "DELETE FROM custody WHERE seq = 2", "the last 1 entries were removed"},
		{"all entries removed", "DELETE FROM custody", "the last 2 entries were removed"},
		{"anchor count edited", "UPDATE case_info SET value = '1' WHERE key = 'custody_count'", "or the anchor was edited"},
		{"anchor head edited", "UPDATE case_info SET value = (SELECT hash FROM custody WHERE seq = 1) WHERE key = 'custody_head'", "or the anchor was edited"},
		{"anchor removed", "DELETE FROM case_info WHERE key LIKE 'custody_%'", "holds no custody anchor"},
		{"log and anchor rewritten without the ingest that recorded the items",
			"DELETE FROM custody; UPDATE case_info SET value = '0' WHERE key = 'custody_count'; " +
				"UPDATE case_info SET value = '0000000000000000000000000000000000000000000000000000000000000000' WHERE key = 'custody_head'",
			"name custody entry 1, which is not in the log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := copyCase(t, db)
			sqlite3(t, cp, tc.sql)
			r := forensic(t, "custody", "verify", "--case", cp)
			assert.Equal(t, 1, r.code, r.stdout)
			assert.Contains(t, r.stdout, "BROKEN: ")
			assert.Contains(t, r.stdout, tc.want)
			assert.Contains(t, r.stderr, "custody log of "+cp+" is broken")
		})
	}

	// A truncated log is not silently healed by the next command.
	cp := copyCase(t, db)
	sqlite3(t, cp, "DELETE FROM custody WHERE seq = 2")
	r = forensic(t, "ingest", "--case", cp, ev)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "refusing to add to it")
	r = forensic(t, "custody", "verify", "--case", cp)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "the last 1 entries were removed")
}

// TestIngestRecoversUnclaimedItems: items an ingest recorded and never
// wrote its custody entry for (it was killed after a commit, or the disk
// filled before the entry) fail custody verify; the next ingest claims
// them in its own entry and says so, and the case verifies again.
func TestIngestRecoversUnclaimedItems(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 4, 3)
	db := filepath.Join(dir, "case.db")
	// What such a run leaves: its items, committed, and no custody entry.
	c, err := store.Open(ctx, db)
	require.NoError(t, err)
	first, err := ingest.Run(ctx, c, []string{ev}, ingest.Options{})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Greater(t, first.Added, 0)

	r := forensic(t, "custody", "verify", "--case", db)
	assert.Equal(t, 1, r.code, r.stdout)
	assert.Contains(t, r.stdout, "evidence items are named by no custody entry")

	r = forensic(t, "ingest", "--case", db, "--json", ev)
	require.Equal(t, 0, r.code, r.stderr)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	assert.EqualValues(t, 0, sum["added"])
	assert.EqualValues(t, first.Added, sum["recovered"], "the unclaimed items do not vanish into already_in_case")
	assert.Equal(t, "0|"+itoa(first.Added)+"|"+itoa(first.Added),
		sqlite3(t, db, "SELECT json_extract(outputs, '$.added') || '|' || json_extract(outputs, '$.recovered') || '|' || json_extract(outputs, '$.claimed') FROM custody"))
	r = forensic(t, "custody", "verify", "--case", db)
	assert.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stdout, "custody log intact: 1 entries")

	// The text summary says so too.
	cp := copyCase(t, db)
	sqlite3(t, cp, "UPDATE evidence SET custody_seq = NULL WHERE kind = 'cloudtrail_log'")
	r = forensic(t, "ingest", "--case", cp, ev)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "recovered 4 items an earlier ingest recorded without a custody entry")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestOperatorIsOneLine: an operator name with a control character is a
// usage error, from the flag or the environment; values already in a case
// are quoted by custody verify, so none forges a line of its output.
func TestOperatorIsOneLine(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 1, 2)
	db := filepath.Join(dir, "case.db")
	forged := "mallory\n   2  2024-01-01T00:00:00Z  ingest   root@lab  0000\ncustody log intact: 2 entries"
	r := forensic(t, "ingest", "--case", db, "--operator", forged, ev)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--operator contains U+000A")
	_, err := os.Stat(db)
	assert.True(t, os.IsNotExist(err), "nothing was written")
	for _, tc := range []struct{ env, want string }{
		{"FORENSIC_OPERATOR=jane\rdoe", "FORENSIC_OPERATOR contains U+000D"},
		{"FORENSIC_OPERATOR=jane\x1b[2Kdoe", "FORENSIC_OPERATOR contains U+001B"},
		{"FORENSIC_OPERATOR=jane\u202edoe", "FORENSIC_OPERATOR contains U+202E"},
		{"FORENSIC_OPERATOR=jane\xffdoe", "FORENSIC_OPERATOR is not valid UTF-8"},
	} {
		r := forensicEnv(t, []string{tc.env}, "ingest", "--case", db, ev)
		assert.Equal(t, 2, r.code, tc.env)
		assert.Contains(t, r.stderr, tc.want)
	}
	r = forensicEnv(t, []string{"FORENSIC_OPERATOR=jane doe"}, "ingest", "--case", db, ev)
	require.Equal(t, 0, r.code, r.stderr)

	// An entry an earlier version recorded with such a name.
	ctx := context.Background()
	c, err := store.Open(ctx, db)
	require.NoError(t, err)
	_, err = c.AppendCustody(ctx, store.CustodyEntry{Operator: forged, Host: "lab\rhost", Tool: "old", Command: "verify"})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	r = forensic(t, "custody", "verify", "--case", db)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 4, r.stdout) // two entries, the anchor, the verdict
	assert.Contains(t, lines[1], `"mallory\n   2  2024-01-01T00:00:00Z  ingest   root@lab  0000\ncustody log intact: 2 entries"@"lab\rhost"`)
	assert.Contains(t, lines[0], "jane doe@")
}

// TestCaseEditsCaught: renaming or deleting an event, or editing a
// verification status after verify, is caught by custody verify, by the
// report made from the edited case, and by report verify (with the
// evidence for events; from report.json alone for statuses); the
// untouched case passes all of them.
func TestCaseEditsCaught(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 5, Hours: 2, FilesPerHour: 2, EventsPerFile: 5})
	require.NoError(t, err)
	_, err = fixtures.Tamper(m, fixtures.LogHashMismatch)
	require.NoError(t, err)
	keys := filepath.Join(ev, "keys")
	db := filepath.Join(dir, "case.db")
	var sink strings.Builder
	_, err = runIngest(ctx, ingestOptions{casePath: db, paths: []string{ev}, operator: "jane"}, &sink, &sink, false)
	require.NoError(t, err)
	_, err = runVerify(ctx, verifyOptions{casePath: db, keys: []string{keys}, operator: "jane"}, &sink)
	require.Error(t, err, "the evidence is tampered: verify fails")
	prefix := filepath.Join(dir, "analyst")
	_, errOut, code := runCmd(keygenCmd, "--out", prefix, "--identity", "jane@lab.example")
	require.Equal(t, 0, code, errOut)
	pin := prefix + ".pub.pem"

	check := func(t *testing.T, db string) (custody, reportVerify, rerun result, rep map[string]any) {
		custody = forensic(t, "custody", "verify", "--case", db)
		out := filepath.Join(t.TempDir(), "report")
		r := forensic(t, "report", "--case", db, "--key", prefix+".key", "--out", out)
		require.Equal(t, 0, r.code, r.stderr)
		b, err := os.ReadFile(filepath.Join(out, "report.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &rep))
		reportVerify = forensic(t, "report", "verify", out, "--signer", pin)
		rerun = forensic(t, "report", "verify", out, "--signer", pin, "--evidence", ev, "--rerun", "--public-keys", keys)
		return
	}
	verdict := func(rep map[string]any) string { return rep["verification"].(map[string]any)["verdict"].(string) }

	t.Run("untouched", func(t *testing.T) {
		cust, rv, rerun, rep := check(t, copyCase(t, db))
		assert.Equal(t, 0, cust.code, cust.stdout)
		assert.Equal(t, 0, rv.code, rv.stdout)
		assert.Equal(t, 0, rerun.code, rerun.stdout)
		assert.NotContains(t, verdict(rep), "changed")
		// Every log file carries its event count and hash.
		var logs int
		for _, e := range rep["evidence"].([]any) {
			if e := e.(map[string]any); e["kind"] == "cloudtrail_log" {
				logs++
				assert.EqualValues(t, 5, e["event_count"])
				assert.Len(t, e["events_sha256"], 64)
			}
		}
		assert.Equal(t, 4, logs)
	})
	for _, tc := range []struct{ name, sql string }{
		{"event renamed", "UPDATE ct_events SET event_name = 'DescribeInstances' WHERE id = (SELECT min(id) FROM ct_events WHERE event_name <> 'DescribeInstances')"},
		{"event deleted", "DELETE FROM ct_events WHERE id = (SELECT max(id) FROM ct_events)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := copyCase(t, db)
			sqlite3(t, cp, tc.sql)
			cust, _, rerun, rep := check(t, cp)
			assert.Equal(t, 1, cust.code, cust.stdout)
			assert.Contains(t, cust.stdout, "not those ingest recorded")
			assert.Contains(t, verdict(rep), "The case was changed after ingest or verification recorded it")
			assert.Equal(t, 1, rerun.code, rerun.stdout)
			assert.Contains(t, rerun.stdout, "EVENTS_CHANGED")
			assert.Contains(t, rerun.stdout, "events changed 1")
		})
	}
	t.Run("status edited after verify", func(t *testing.T) {
		cp := copyCase(t, db)
		sqlite3(t, cp, "UPDATE item_status SET status = 'valid' WHERE status <> 'valid'")
		cust, rv, _, rep := check(t, cp)
		assert.Equal(t, 1, cust.code, cust.stdout)
		assert.Contains(t, cust.stdout, "item statuses changed after verification")
		assert.Contains(t, verdict(rep), "The case was changed after ingest or verification recorded it")
		assert.Equal(t, 1, rv.code, rv.stdout)
		assert.Contains(t, rv.stdout, "FAIL verification matches custody")
	})
}

func TestSingleLine(t *testing.T) {
	for in, want := range map[string]string{
		"lab-host":        "lab-host",
		"jane doe":        "jane doe",
		"Zoë":             "Zoë",
		"lab\nhost":       `"lab\nhost"`,
		"lab\x1b[2Khost":  `"lab\x1b[2Khost"`,
		"lab\u202ehost":   `"lab\u202ehost"`,
		"lab\xffhost":     `"lab\xffhost"`,
		`"quoted"`:        `"\"quoted\""`,
		"tab\there":       `"tab\there"`,
		"line\u2028break": `"line\u2028break"`,
	} {
		assert.Equal(t, want, singleLine(in), "singleLine(%q)", in)
	}
}
