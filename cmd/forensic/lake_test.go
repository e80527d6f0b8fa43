package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// lakeStatuses runs ingest and verify on a Lake export and returns the
// status of every Lake item verify printed, as "kind file status" in
// order, and the verify --json report.
func lakeStatuses(t *testing.T, s *fixtures.LakeSet, src string) ([]string, map[string]any) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "case.db")
	r := forensic(t, "ingest", "--case", db, src)
	require.Equal(t, 0, r.code, r.stderr)
	r = forensic(t, "verify", "--case", db, "--public-keys", s.KeyFile, "--json")
	require.Contains(t, []int{0, 1}, r.code, r.stderr)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	var out []string
	for _, it := range rep["items"].([]any) {
		m := it.(map[string]any)
		kind := m["kind"].(string)
		if kind != "lake_sign_file" && kind != "lake_result" {
			continue
		}
		d := m["detail"].(map[string]any)
		name, _ := d["file_name"].(string)
		if kind == "lake_sign_file" {
			name = "result_sign.json"
		}
		out = append(out, kind+" "+name+" "+m["status"].(string))
		if m["status"] != "valid" {
			assert.NotEmpty(t, d["reason"], "a status that is not valid says why: %v", m)
		}
	}
	sort.Strings(out)
	// Every Lake evidence item has exactly one status of its own.
	rows := queryJSON(t, db, `SELECT e.id, count(s.id) AS n FROM evidence e LEFT JOIN item_status s ON s.evidence_id = e.id
		WHERE e.kind IN ('lake_sign_file', 'lake_result') GROUP BY e.id`)
	for _, row := range rows {
		assert.Equal(t, float64(1), row["n"], "evidence %v has one status", row["id"])
	}
	return out, rep
}

// TestLakeVerify: CloudTrail Lake exports signed with test keys verify
// offline; each tampering gets exactly the statuses it must, and every
// Lake file one status with its reason.
func TestLakeVerify(t *testing.T) {
	valid := []string{"lake_result result_1.csv.gz valid", "lake_result result_2.csv.gz valid", "lake_sign_file result_sign.json valid"}
	for _, tt := range []struct {
		tamper fixtures.LakeTampering
		want   []string
	}{
		{"", valid},
		{fixtures.LakeResultChanged, []string{"lake_result result_1.csv.gz hash_mismatch", "lake_result result_2.csv.gz valid", "lake_sign_file result_sign.json valid"}},
		{fixtures.LakeResultDeleted, []string{"lake_result result_1.csv.gz valid", "lake_result result_2.csv.gz missing", "lake_sign_file result_sign.json valid"}},
		{fixtures.LakeResultAdded, []string{"lake_result result_1.csv.gz valid", "lake_result result_2.csv.gz valid", "lake_result result_3.csv.gz unreferenced", "lake_sign_file result_sign.json valid"}},
		{fixtures.LakeHashesReordered, []string{"lake_result result_1.csv.gz unverified", "lake_result result_2.csv.gz unverified", "lake_sign_file result_sign.json signature_invalid"}},
		{fixtures.LakeSignatureChanged, []string{"lake_result result_1.csv.gz unverified", "lake_result result_2.csv.gz unverified", "lake_sign_file result_sign.json signature_invalid"}},
		{fixtures.LakeOtherKeyFingerprint, []string{"lake_result result_1.csv.gz unverified", "lake_result result_2.csv.gz unverified", "lake_sign_file result_sign.json signature_invalid"}},
		{fixtures.LakeKeyUnknown, []string{"lake_result result_1.csv.gz unverified", "lake_result result_2.csv.gz unverified", "lake_sign_file result_sign.json key_unknown"}},
		{fixtures.LakeKeyNotValidAtTime, []string{"lake_result result_1.csv.gz unverified", "lake_result result_2.csv.gz unverified", "lake_sign_file result_sign.json key_not_valid_at_time"}},
		{fixtures.LakeFilesEmpty, []string{"lake_result result_1.csv.gz unreferenced", "lake_result result_2.csv.gz unreferenced", "lake_sign_file result_sign.json format_invalid"}},
	} {
		t.Run(string(tt.tamper), func(t *testing.T) {
			s, err := fixtures.GenerateLake(filepath.Join(t.TempDir(), "lake"), fixtures.LakeOptions{Seed: 7})
			require.NoError(t, err)
			if tt.tamper != "" {
				require.NoError(t, fixtures.TamperLake(s, tt.tamper))
			}
			got, rep := lakeStatuses(t, s, s.Root)
			assert.Equal(t, tt.want, got)
			sum := rep["summary"].(map[string]any)
			assert.Equal(t, tt.tamper == "", sum["ok"], "only untouched evidence verifies")
		})
	}
}

// TestLakeFlattened: two queries' files downloaded into one folder are
// matched by hash, all valid, from the folder and from an archive of it
// (whose result files are found beside their sign files after the walk);
// and a query folder in an archive verifies as on disk.
func TestLakeFlattened(t *testing.T) {
	dir := t.TempDir()
	s, err := fixtures.GenerateLake(filepath.Join(dir, "lake"), fixtures.LakeOptions{Seed: 8, Queries: 2})
	require.NoError(t, err)
	whole := filepath.Join(dir, "whole.tar.zst")
	require.NoError(t, fixtures.WriteTarZst(s.Root, whole))
	got, _ := lakeStatuses(t, s, whole)
	assert.Len(t, got, 6)
	for _, g := range got {
		assert.Regexp(t, ` valid$`, g, "query folders in an archive")
	}
	require.NoError(t, fixtures.TamperLake(s, fixtures.LakeFlattened))
	flat := filepath.Join(dir, "flat.tar.zst")
	require.NoError(t, fixtures.WriteTarZst(s.Root, flat))
	for _, src := range []string{s.Root, flat} {
		got, rep := lakeStatuses(t, s, src)
		require.Len(t, got, 6, src)
		for _, g := range got {
			assert.Regexp(t, ` valid$`, g, src)
		}
		assert.Equal(t, true, rep["summary"].(map[string]any)["ok"], src)
	}
}

// TestLakeRowsIndexed: the result files' header and row count are
// indexed; with --lake-rows their rows too, in order.
func TestLakeRowsIndexed(t *testing.T) {
	s, err := fixtures.GenerateLake(filepath.Join(t.TempDir(), "lake"), fixtures.LakeOptions{Seed: 9, RowsPerFile: 4})
	require.NoError(t, err)
	for _, rows := range []bool{false, true} {
		db := filepath.Join(t.TempDir(), "case.db")
		args := []string{"ingest", "--case", db, s.Root}
		if rows {
			args = append(args, "--lake-rows")
		}
		r := forensic(t, args...)
		require.Equal(t, 0, r.code, r.stderr)
		res := queryJSON(t, db, "SELECT row_count, header, error FROM lake_results ORDER BY id")
		require.Len(t, res, 2)
		for _, x := range res {
			assert.Equal(t, float64(4), x["row_count"])
			assert.Contains(t, x["header"], "eventID")
			assert.Nil(t, x["error"])
		}
		n := queryJSON(t, db, "SELECT count(*) AS n FROM lake_rows")[0]["n"]
		if rows {
			assert.Equal(t, float64(8), n)
		} else {
			assert.Equal(t, float64(0), n)
		}
		kinds := queryJSON(t, db, "SELECT kind, count(*) AS n FROM evidence WHERE kind LIKE 'lake%' GROUP BY kind ORDER BY kind")
		assert.Equal(t, []map[string]any{{"kind": "lake_result", "n": float64(2)}, {"kind": "lake_sign_file", "n": float64(1)}}, kinds)
	}
}

// TestLakeDamagedResult: a result file whose CSV cannot be read is named
// at ingest with its error, the rest is ingested, and verify still judges
// its bytes (hash_mismatch: they are not the ones signed).
func TestLakeDamagedResult(t *testing.T) {
	s, err := fixtures.GenerateLake(filepath.Join(t.TempDir(), "lake"), fixtures.LakeOptions{Seed: 10})
	require.NoError(t, err)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte("eventID,eventName\n\"x,1\n"))
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(s.Abs(s.Queries[0].Results[0].Path), b.Bytes(), 0o644))
	db := filepath.Join(t.TempDir(), "case.db")
	r := forensic(t, "ingest", "--case", db, s.Root)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "result_1.csv.gz")
	assert.Contains(t, r.stderr, "lake result: result csv row 1")
	res := queryJSON(t, db, "SELECT e.kind, l.error FROM lake_results l JOIN evidence e ON e.id = l.evidence_id ORDER BY l.id")
	require.Len(t, res, 2)
	assert.NotNil(t, res[0]["error"])
	assert.Nil(t, res[1]["error"])
	r = forensic(t, "verify", "--case", db, "--public-keys", s.KeyFile)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "hash_mismatch")
	assert.Contains(t, r.stdout, "CloudTrail Lake: sign files 1/1 valid, result files 1/2 valid")
}

// TestLakeReport: the report has a section for Lake query results, in
// report.json (lake), report.html and report.pdf, and the first page
// states a tampered result file in plain words.
func TestLakeReport(t *testing.T) {
	dir := t.TempDir()
	s, err := fixtures.GenerateLake(filepath.Join(dir, "lake"), fixtures.LakeOptions{Seed: 11})
	require.NoError(t, err)
	require.NoError(t, fixtures.TamperLake(s, fixtures.LakeResultChanged))
	db := filepath.Join(dir, "case.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", db, s.Root).code)
	forensic(t, "verify", "--case", db, "--public-keys", s.KeyFile)
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(dir, "report")
	r := forensic(t, "report", "--case", db, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)
	var doc struct {
		Lake struct {
			Queries []struct {
				Status         string           `json:"status"`
				ResultStatuses map[string]int64 `json:"result_statuses"`
			} `json:"queries"`
		} `json:"lake"`
		Summary struct {
			NotValid []struct{ Plain string } `json:"not_valid"`
		} `json:"summary"`
	}
	b, err := os.ReadFile(filepath.Join(rep, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Lake.Queries, 1)
	assert.Equal(t, "valid", doc.Lake.Queries[0].Status)
	assert.Equal(t, map[string]int64{"hash_mismatch": 1, "valid": 1}, doc.Lake.Queries[0].ResultStatuses)
	require.Len(t, doc.Summary.NotValid, 1)
	assert.Contains(t, doc.Summary.NotValid[0].Plain, "1 CloudTrail Lake result file was changed after it was delivered: its SHA-256 is not the one its sign file lists (hash_mismatch)")
	html, err := os.ReadFile(filepath.Join(rep, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), "<h2>CloudTrail Lake query results</h2>")
	assert.Contains(t, string(html), "NOT VERIFIED: 1 of 3 digests, log files, objects and CloudTrail Lake files are not valid")
	r = forensic(t, "report", "verify", rep, "--signer", signer+".pub.pem")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
}
