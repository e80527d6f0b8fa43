package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/ingest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forensicBin builds the command once per test binary.
var forensicBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "forensic-cli")
	if err != nil {
		panic(err)
	}
	forensicBin = filepath.Join(dir, "forensic")
	out, err := exec.Command("go", "build", "-o", forensicBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func forensic(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(forensicBin, args...)
	var o, e bytes.Buffer
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

// writeExport writes files CloudTrail log files of n records each under
// dir, in the AWSLogs layout.
func writeExport(t *testing.T, dir string, files, n int) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	for f := 0; f < files; f++ {
		var b strings.Builder
		b.WriteString(`{"Records":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u%d","accountId":"111122223333"},"eventTime":"2024-03-04T%02d:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.%d","eventID":"%08x-0000-0000-0000-%012x","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
				rng.Intn(9), f%24, i%60, rng.Intn(250), f, i)
		}
		b.WriteString(`]}`)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write([]byte(b.String()))
		w.Close()
		p := filepath.Join(dir, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04",
			fmt.Sprintf("111122223333_CloudTrail_us-east-1_20240304T%02d%02dZ_%016d.json.gz", f%24, f%60, f))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, gz.Bytes(), 0o644))
	}
}

func TestVersion(t *testing.T) {
	r := forensic(t, "--version")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `^forensic \S+ \(revision \S+`, r.stdout)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nonsense"},
		{"ingest"},
		{"ingest", "--case", filepath.Join(t.TempDir(), "c.db")},
		{"ingest", "--case", filepath.Join(t.TempDir(), "c.db"), "/does/not/exist"},
		{"ingest", "--bogus"},
		{"query", "--case", "x.db"},
		{"query", "--case", filepath.Join(t.TempDir(), "missing.db"), "SELECT 1"},
	} {
		r := forensic(t, args...)
		assert.Equal(t, 2, r.code, "forensic %v: stderr %s", args, r.stderr)
		if len(args) > 0 {
			assert.Contains(t, r.stderr, "forensic: error:", "forensic %v", args)
		}
	}
	assert.Equal(t, 0, forensic(t, "ingest", "--help").code)
}

func TestIngestQueryCustody(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 5, 10)
	db := filepath.Join(dir, "case.db")

	r := forensic(t, "ingest", "--case", db, "--json", ev)
	require.Equal(t, 0, r.code, r.stderr)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum), r.stdout)
	for _, k := range []string{"items", "bytes", "events", "digests", "log_files", "public_keys", "object_metadata", "access_log_records", "unknown", "errors", "kinds"} {
		assert.Contains(t, sum, k)
	}
	assert.EqualValues(t, 50, sum["events"])
	assert.EqualValues(t, 5, sum["log_files"])
	assert.EqualValues(t, 6, sum["added"])

	r = forensic(t, "query", "--case", db, "--csv", "SELECT event_name, count(*) AS n FROM ct_events GROUP BY 1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "event_name,n\nGetObject,50\n", r.stdout)

	r = forensic(t, "query", "--case", db, "--json", "SELECT count(*) AS n, NULL AS x FROM evidence WHERE kind = 'cloudtrail_log'")
	require.Equal(t, 0, r.code, r.stderr)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows))
	assert.Equal(t, []map[string]any{{"n": float64(5), "x": nil}}, rows)

	r = forensic(t, "query", "--case", db, "SELECT kind FROM evidence WHERE kind = 'source'")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "kind\nsource\n", r.stdout)

	// Writes are refused, and the case is unchanged.
	for _, q := range []string{"DELETE FROM ct_events", "DROP TABLE evidence", "UPDATE evidence SET kind = 'x'", "PRAGMA user_version = 3"} {
		r = forensic(t, "query", "--case", db, q)
		assert.Equal(t, 2, r.code, q)
		assert.Contains(t, r.stderr, "read-only", q)
	}
	r = forensic(t, "query", "--case", db, "--csv", "SELECT count(*) FROM ct_events")
	assert.Equal(t, "count(*)\n50\n", r.stdout)

	// A second ingest adds nothing, and both runs are in the custody log.
	r = forensic(t, "ingest", "--case", db, "--json", ev)
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	assert.EqualValues(t, 0, sum["added"])
	r = forensic(t, "custody", "verify", "--case", db)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "custody log intact: 2 entries")

	// Altering an entry is detected.
	require.NoError(t, exec.Command("sqlite3", db, "UPDATE custody SET operator = 'mallory' WHERE seq = 1").Run())
	r = forensic(t, "custody", "verify", "--case", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "entry altered")
}

func TestIngestBadItemExitStatus(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 2, 3)
	bad := filepath.Join(ev, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/111122223333_CloudTrail_us-east-1_20240304T2359Z_truncatedtruncat.json.gz")
	require.NoError(t, os.WriteFile(bad, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}, 0o644))
	r := forensic(t, "ingest", "--case", filepath.Join(dir, "c.db"), ev)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, bad)
	assert.Contains(t, r.stdout, "6 events")
}

// An ingest killed with SIGKILL at any moment leaves a consistent case, and
// running it again ends with exactly the counts of an uninterrupted run.
func TestIngestKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: ingests a 60,000-event set several times")
	}
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 120, 500)

	ref := filepath.Join(dir, "ref.db")
	r := forensic(t, "ingest", "--case", ref, ev)
	require.Equal(t, 0, r.code, r.stderr)
	want := counts(t, ref)
	require.Equal(t, "60000", want["ct_events"])

	hot, refused := 0, 0 // kills that left a rollback journal; queries it stopped
	delays := []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond,
		700 * time.Millisecond, 950 * time.Millisecond, 1200 * time.Millisecond}
	for i, delay := range delays {
		db := filepath.Join(dir, fmt.Sprintf("killed-%d.db", i))
		cmd := exec.Command(forensicBin, "ingest", "--case", db, ev)
		require.NoError(t, cmd.Start())
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if _, err := os.Stat(db); err == nil {
			// Consistent: SQLite's own check passes, and every item has all
			// its records. Checked on a copy, so that the sqlite3 shell's
			// recovery (rolling a hot journal back) is not what the resumed
			// ingest below starts from.
			cp := filepath.Join(dir, fmt.Sprintf("copy-%d.db", i))
			for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
				if b, err := os.ReadFile(db + suffix); err == nil {
					require.NoError(t, os.WriteFile(cp+suffix, b, 0o644))
				}
			}
			// A kill can land before the schema was committed (the case
			// file exists, its tables do not yet): that too is consistent.
			out, err := exec.Command("sqlite3", cp, "PRAGMA integrity_check; SELECT count(*) FROM sqlite_master WHERE name = 'evidence';").CombinedOutput()
			require.NoError(t, err, string(out))
			if string(out) == "ok\n1\n" {
				out, err = exec.Command("sqlite3", cp, "PRAGMA integrity_check; SELECT count(*) FROM evidence v WHERE v.kind = 'cloudtrail_log' AND v.record_count <> (SELECT count(*) FROM ct_events e WHERE e.evidence_id = v.id);").CombinedOutput()
				require.NoError(t, err, string(out))
				assert.Equal(t, "ok\n0\n", string(out), "case after kill at %s", delay)
			} else {
				assert.Equal(t, "ok\n0\n", string(out), "case killed at %s before its schema existed", delay)
			}
			if fi, err := os.Stat(db + "-journal"); err == nil && fi.Size() > 0 {
				hot++
				// A read-only command does not roll a hot journal back; it
				// says what happened and what to do. (A journal whose
				// transaction had written nothing yet is not hot, and the
				// query simply works.)
				q := forensic(t, "query", "--case", db, "SELECT count(*) FROM evidence")
				if q.code != 0 {
					refused++
					assert.Contains(t, q.stderr, "interrupted ingest", "query on a case killed at %s", delay)
				}
			}
		}
		r := forensic(t, "ingest", "--case", db, ev)
		require.Equal(t, 0, r.code, r.stderr)
		got := counts(t, db)
		assert.Equal(t, want, got, "resumed after kill at %s", delay)
		// The resumed run's custody entry claims what the killed one wrote.
		cv := forensic(t, "custody", "verify", "--case", db)
		assert.Equal(t, 0, cv.code, "custody after resuming a kill at %s: %s", delay, cv.stdout)
		// Indexes dropped for the bulk load are back.
		out, err := exec.Command("sqlite3", db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('ct_events_time', 'ct_events_name', 'ct_events_source_ip', 'ct_events_principal', 's3_access_lines_time')").Output()
		require.NoError(t, err)
		assert.Equal(t, "5\n", string(out), "indexes after resuming a kill at %s", delay)
	}
	t.Logf("%d of %d kills left a rollback journal; %d read-only queries were refused for it", hot, len(delays), refused)
}

func counts(t *testing.T, db string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{"evidence", "ct_events"} {
		b, err := exec.Command("sqlite3", db, "SELECT count(*) FROM "+q).Output()
		require.NoError(t, err)
		out[q] = strings.TrimSpace(string(b))
	}
	b, err := exec.Command("sqlite3", db, "SELECT group_concat(path || ':' || sha256, ',') FROM (SELECT path, sha256 FROM evidence WHERE kind <> 'source' ORDER BY path)").Output()
	require.NoError(t, err)
	out["items"] = strings.TrimSpace(string(b))
	return out
}

// TestPrintProgress: while reading, percent and ETA from the bytes on
// disk; after, the phase instead of an ETA.
func TestPrintProgress(t *testing.T) {
	var b strings.Builder
	printProgress(&b, ingest.Progress{Items: 3, Bytes: 2 << 20, Events: 10, TotalBytes: 400, DiskBytes: 100, Elapsed: 2 * time.Second})
	assert.Equal(t, "\r\033[K3 items, 2.0 MiB, 10 events, 5 events/s, 25%, ETA 6s", b.String())
	b.Reset()
	printProgress(&b, ingest.Progress{Items: 3, Bytes: 2 << 20, Events: 10, TotalBytes: 400, DiskBytes: 400, Elapsed: 2 * time.Second, Phase: ingest.PhaseIndexes})
	assert.Equal(t, "\r\033[K3 items, 2.0 MiB, 10 events, 5 events/s, 100%; building indexes…", b.String())
}
