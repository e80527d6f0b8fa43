package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
	"github.com/stretchr/testify/require"
)

var idRE = regexp.MustCompile(`"(id|evidence_id|metadata_evidence_id)":[0-9]+`)

func maskIDs(b []byte) []byte { return idRE.ReplaceAll(b, []byte(`"$1":0`)) }

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// normalizeCase rewrites what differs between runs of the same test:
// the temporary folder in every text column, file modes and times, the
// case id.
func normalizeCase(t *testing.T, c *store.Case, root string) {
	t.Helper()
	replaceInCase(t, c, root, "/evidence")
	ctx := context.Background()
	for _, q := range []string{
		"UPDATE evidence SET mtime = '2024-03-09T00:00:00Z' WHERE mtime IS NOT NULL",
		"UPDATE evidence SET mode = '-rw-r--r--' WHERE mode LIKE '-%'",
		"UPDATE evidence SET mode = 'drwxr-xr-x' WHERE mode LIKE 'd%'",
		"UPDATE case_info SET value = '00112233445566778899aabbccddeeff' WHERE key = 'case_id'",
		"UPDATE case_info SET value = '2024-03-10T10:00:00Z' WHERE key = 'created_at'",
	} {
		_, err := caseDB(t, c).ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
}

// replaceInCase replaces from by to in every text column of the case.
func replaceInCase(t *testing.T, c *store.Case, from, to string) {
	t.Helper()
	ctx := context.Background()
	rows, err := caseDB(t, c).QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Close())
	for _, tbl := range tables {
		cols, err := caseDB(t, c).QueryContext(ctx, "SELECT name, type, hidden FROM pragma_table_xinfo(?)", tbl)
		require.NoError(t, err)
		var text []string
		for cols.Next() {
			var n, typ string
			var hidden int
			require.NoError(t, cols.Scan(&n, &typ, &hidden))
			if hidden == 0 && (typ == "TEXT" || typ == "") {
				text = append(text, n)
			}
		}
		require.NoError(t, cols.Close())
		for _, col := range text {
			q := fmt.Sprintf(`UPDATE %q SET %q = replace(%q, ?, ?) WHERE instr(%q, ?) > 0`, tbl, col, col, col)
			_, err := caseDB(t, c).ExecContext(ctx, q, from, to, from)
			require.NoError(t, err, q)
		}
	}
}

// TestGolden builds a report of a tampered fixture set with a fixed key
// and signing time and compares report.json with
// testdata/golden/report.json (refresh: go test ./report -update).
func TestGolden(t *testing.T) {
	c, ev, keys := fixtureCase(t, smallOptions(), fixtures.LogHashMismatch, fixtures.DigestMissing, fixtures.LogUnreferenced)
	addCustody(t, c, 2)
	normalizeCase(t, c, ev)
	replaceInCase(t, c, keys, "/keys")
	// Entries were hashed before the paths were normalized: re-append so
	// the chain is intact.
	rechainCustody(t, c)
	dir := buildReport(t, c)
	got, err := os.ReadFile(filepath.Join(dir, FileJSON))
	require.NoError(t, err)
	// Evidence ids depend on the order ingest workers finish in.
	got = maskIDs(got)
	golden := filepath.Join("testdata", "golden", "report.json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./report -update to create it")
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		lo := max(0, i-200)
		t.Fatalf("report.json differs from %s at byte %d:\n got: ...%s\nwant: ...%s\n(refresh with go test ./report -update if the change is intended)",
			golden, i, got[lo:min(len(got), i+200)], want[lo:min(len(want), i+200)])
	}
	// The same inputs give the same bytes again.
	again, err := os.ReadFile(filepath.Join(buildReport(t, c), FileJSON))
	require.NoError(t, err)
	require.True(t, bytes.Equal(got, maskIDs(again)), "report.json is not deterministic")
}
