package main

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// verdicts are verify --json's item statuses: "kind path status" lines,
// sorted.
func verdicts(t *testing.T, out string) ([]string, map[string]any) {
	t.Helper()
	var rep struct {
		Items []struct {
			Kind, Path, Status, S3Key string
		} `json:"items"`
		EventsIndexed map[string]any `json:"events_indexed"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	var lines []string
	for _, it := range rep.Items {
		lines = append(lines, it.Kind+" "+it.S3Key+" "+it.Path+" "+it.Status)
	}
	sort.Strings(lines)
	return lines, rep.EventsIndexed
}

// TestEventsFilteredVerifySameStatuses: on evidence with tamperings, a
// filtered ingest (and one that indexes no record) followed by verify
// gives every digest, log file and object exactly the status a full
// ingest gives it; verify says which events are indexed (a note, and
// events_indexed in --json); ingest refuses bad filter flags.
func TestEventsFilteredVerifySameStatuses(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, fixtures.Options{Seed: 9, Hours: 8, FilesPerHour: 2, EventsPerFile: 6,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"}, GapAfter: 1, GapHours: 1})
	require.NoError(t, err)
	for _, tp := range []fixtures.Tampering{fixtures.LogHashMismatch, fixtures.DigestMissing, fixtures.LogUnreferenced, fixtures.LogFormatInvalid} {
		_, err := fixtures.Tamper(m, tp)
		require.NoError(t, err)
	}
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))

	run := func(name string, flags ...string) ([]string, map[string]any, string) {
		db := filepath.Join(dir, name+".db")
		r := forensic(t, append(append([]string{"ingest", "--case", db}, flags...), ev)...)
		require.Equal(t, 1, r.code, "the format-invalid log is an error: %s", r.stderr) // LogFormatInvalid
		r = forensic(t, "verify", "--case", db, "--public-keys", keys, "--json")
		require.Equal(t, 1, r.code, r.stderr)
		lines, ix := verdicts(t, r.stdout)
		text := forensic(t, "verify", "--case", db, "--public-keys", keys)
		c := forensic(t, "custody", "verify", "--case", db)
		assert.Equal(t, 0, c.code, "custody verify %s: %s %s", name, c.stdout, c.stderr)
		return lines, ix, text.stdout
	}
	full, fullIx, fullText := run("full")
	require.NotEmpty(t, full)
	assert.Equal(t, false, fullIx["indexed_by_filter"] != float64(0))
	assert.NotContains(t, fullText, "indexed in part")
	for _, flags := range [][]string{
		{"--account", "444455556666", "--region", "eu-west-1"},
		{"--from", "2024-03-04T02:30Z", "--to", "2024-03-04T04:00Z"},
		{"--events", "none"},
	} {
		name := strings.ReplaceAll(strings.Join(flags, "_"), ":", "")
		got, ix, text := run(name, flags...)
		assert.Equal(t, full, got, "statuses with %v", flags)
		assert.Equal(t, fullIx["log_files"], ix["log_files"], "%v", flags)
		assert.Equal(t, true, ix["log_files"].(float64) >= float64(len(m.Logs)))
		assert.Contains(t, text, "Note: events are indexed in part", "%v", flags)
	}

	for _, bad := range [][]string{
		{"--events", "some"},
		{"--events", "none", "--region", "us-east-1"},
		{"--from", "yesterday"},
		{"--from", "2024-03-05", "--to", "2024-03-04"},
		{"--account", "12345"},
		{"--region", "Mars"},
	} {
		r := forensic(t, append(append([]string{"ingest", "--case", filepath.Join(dir, "bad.db")}, bad...), ev)...)
		assert.Equal(t, 2, r.code, "%v: %s", bad, r.stderr)
		r = forensic(t, append(append([]string{"analyze", "--key", "k", "--out", filepath.Join(dir, "out")}, bad...), ev)...)
		assert.Equal(t, 2, r.code, "analyze %v: %s", bad, r.stderr)
	}
}
