package export

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// lakeCase ingests a CloudTrail Lake export of two queries (one result
// file changed after delivery) with --lake-rows and verifies it.
func lakeCase(t *testing.T) (string, *fixtures.LakeSet) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fixtures.GenerateLake(dir, fixtures.LakeOptions{Seed: 3, Queries: 2, FilesPerQuery: 2, RowsPerFile: 3})
	require.NoError(t, err)
	require.NoError(t, fixtures.TamperLake(s, fixtures.LakeResultChanged))
	p := filepath.Join(dir, "case.db")
	c, err := store.Open(ctx, p)
	require.NoError(t, err)
	sum, err := ingest.Run(ctx, c, []string{s.Root}, ingest.Options{Workers: 1, LakeRows: true})
	require.NoError(t, err)
	require.Empty(t, sum.Errors)
	require.NoError(t, c.Close())
	_, err = verify.RunCase(ctx, p, []string{s.KeyFile})
	require.NoError(t, err)
	return p, s
}

// TestExportLake: the Lake tables carry every sign file (its members as
// the verifier reads them, its exact bytes, its status), every result
// file (header, row count, hash, status) and every indexed row with
// whether its result file is proven; --verified-only keeps the rows of
// valid result files only.
func TestExportLake(t *testing.T) {
	p, s := lakeCase(t)
	dir, m := exportCase(t, p, Options{})
	changed := filepath.ToSlash(s.Abs(s.Queries[0].Results[0].Path))

	signs := readRows[lakeSignRow](t, dir, m, "lake_sign_files")
	require.Len(t, signs, len(s.Queries))
	for i, q := range s.Queries {
		r := signs[i]
		assert.Equal(t, "valid", *r.Status, "the sign file's signature verifies; one file it lists changed")
		assert.True(t, r.Verified)
		assert.Equal(t, s.Fingerprint, r.PublicKeyFingerprint)
		assert.Equal(t, "SHA-256", r.HashAlgorithm)
		assert.Equal(t, "SHA256withRSA", r.SignatureAlgorithm)
		require.NotNil(t, r.QueryCompleteTime)
		assert.True(t, q.CompleteTime.Equal(*r.QueryCompleteTime))
		raw, err := os.ReadFile(s.Abs(q.SignPath))
		require.NoError(t, err)
		assert.Equal(t, string(raw), r.Raw, "the exact bytes")
		assert.Empty(t, r.Problems)
		require.Len(t, r.Files, len(q.Results))
		for j, res := range q.Results {
			assert.Equal(t, filepath.Base(res.Path), r.Files[j].FileName)
			if i > 0 || j > 0 {
				assert.Equal(t, res.SHA256, r.Files[j].FileHashValue)
			}
		}
	}

	results := readRows[lakeResultRow](t, dir, m, "lake_results")
	require.Len(t, results, 4)
	byStatus := map[string]int{}
	for _, r := range results {
		byStatus[*r.Status]++
		assert.Equal(t, *r.Status == "valid", r.Verified)
		assert.Equal(t, strings.HasSuffix(r.Path, changed), *r.Status == "hash_mismatch", r.Path)
		require.NotNil(t, r.RowCount)
		assert.EqualValues(t, 3, *r.RowCount)
		assert.NotEmpty(t, r.Header)
		assert.Equal(t, caseQuery(t, p, "SELECT sha256 FROM evidence WHERE id = "+itoa(r.EvidenceID))[0][0], r.SHA256)
	}
	assert.Equal(t, map[string]int{"valid": 3, "hash_mismatch": 1}, byStatus)

	rows := readRows[lakeRowRow](t, dir, m, "lake_rows")
	require.Len(t, rows, 12)
	proven := 0
	for _, r := range rows {
		assert.Len(t, r.Fields, len(results[0].Header))
		if r.Verified {
			proven++
		}
	}
	assert.Equal(t, 9, proven, "the changed file's rows are not proven")
	first := caseQuery(t, p, "SELECT json_array_length(fields), json_extract(fields, '$[0]'), json_extract(fields, '$[3]') FROM lake_rows ORDER BY evidence_id, row_no LIMIT 1")[0]
	assert.Equal(t, []string{itoa(int64(len(rows[0].Fields))), rows[0].Fields[0], rows[0].Fields[3]}, first, "the case's first row, field for field")

	vdir, vm := exportCase(t, p, Options{VerifiedOnly: true})
	vrows := readRows[lakeRowRow](t, vdir, vm, "lake_rows")
	assert.Len(t, vrows, 9)
	for _, r := range vrows {
		assert.True(t, r.Verified)
	}

	// DuckDB reads the Lake tables through the export's own DDL.
	node, script := duckDB(t)
	ddlSQL, err := os.ReadFile(filepath.Join(dir, "ddl", "duckdb.sql"))
	require.NoError(t, err)
	out, err := exec.Command(node, script, dir, string(ddlSQL),
		"SELECT sum(len(files)) AS n, min(query_complete_time) < max(query_complete_time) AS ordered FROM lake_sign_files",
		"SELECT status, count(*) AS n FROM lake_results GROUP BY status ORDER BY status",
		"SELECT count(*) AS n FROM lake_rows r JOIN lake_results f USING (evidence_id) WHERE r.verified AND f.status = 'valid'",
	).CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 4, "%s", out)
	assert.JSONEq(t, `[{"n":"4","ordered":true}]`, lines[1])
	assert.JSONEq(t, `[{"status":"hash_mismatch","n":"1"},{"status":"valid","n":"3"}]`, lines[2])
	assert.JSONEq(t, `[{"n":"9"}]`, lines[3])
}
