package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// queryJSON runs forensic query --json on db.
func queryJSON(t *testing.T, db, q string) []map[string]any {
	t.Helper()
	r := forensic(t, "query", "--case", db, "--json", q)
	require.Equal(t, 0, r.code, r.stderr)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	return rows
}

// shardedSet writes a set of four areas — an organization trail of two
// accounts in two regions, with access logs, objects, backfill and three
// tamperings, and the extra ones; logging stopped for an hour, which the
// home region records — and its archive, with the trust
// anchors outside it.
func shardedSet(t *testing.T, extra ...fixtures.Tampering) (dir, root, arc, keys string) {
	t.Helper()
	dir = t.TempDir()
	opt := fixtures.Options{Seed: 5, Hours: 6, FilesPerHour: 2, EventsPerFile: 2, GapAfter: 1, GapHours: 1,
		Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"},
		OrgID: "o-aa11bb22cc", AccessLogs: true, Objects: true, Backfill: true}
	m, err := fixtures.Generate(filepath.Join(dir, "ev"), opt)
	require.NoError(t, err)
	for _, tp := range append([]fixtures.Tampering{fixtures.LogHashMismatch, fixtures.DigestMissing, fixtures.ObjectChecksumMismatch}, extra...) {
		_, err := fixtures.Tamper(m, tp)
		require.NoError(t, err)
	}
	keys = filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	arc = filepath.Join(dir, "ev.tar.zst")
	require.NoError(t, fixtures.WriteTarZst(m.Root, arc))
	return dir, m.Root, arc, keys
}

// TestShardsSplitTheWork: forensic plan lists one shard per area and
// rest; ingesting each shard into a case of its own takes every item of
// the export exactly once across the shards, every case holds the same
// source (hashed whole), and every digest, log file and object verified
// in its shard's case gets the status the single case gives it.
func TestShardsSplitTheWork(t *testing.T) {
	dir, root, arc, keys := shardedSet(t)
	r := forensic(t, "plan", "--json", arc)
	require.Equal(t, 0, r.code, r.stderr)
	var plan []planShard
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &plan))
	require.Len(t, plan, 5, "four areas and rest: %s", r.stdout)
	assert.Equal(t, "rest", plan[4].Shard)
	r2 := forensic(t, "plan", "--json", root)
	require.Equal(t, 0, r2.code, r2.stderr)
	var plan2 []planShard
	require.NoError(t, json.Unmarshal([]byte(r2.stdout), &plan2))
	for i := range plan {
		assert.Equal(t, plan[i].Shard, plan2[i].Shard, "the same shards for the folder and the archive")
	}

	full := filepath.Join(dir, "full.db")
	require.Equal(t, 0, forensic(t, "ingest", "--case", full, arc).code)
	forensic(t, "verify", "--case", full, "--public-keys", keys)
	const items = "SELECT path, member, sha256, kind FROM evidence WHERE kind NOT IN ('source', 'archive') ORDER BY 1, 2, 3"
	const statuses = "SELECT s.kind, coalesce(s.s3_key, '') AS k, coalesce(e.member, '') AS member, s.status FROM item_status s LEFT JOIN evidence e ON e.id = s.evidence_id ORDER BY 1, 2, 3, 4"
	key := func(row map[string]any, cols ...string) string {
		b, _ := json.Marshal(func() []any {
			var v []any
			for _, c := range cols {
				v = append(v, row[c])
			}
			return v
		}())
		return string(b)
	}
	want := map[string]bool{}
	for _, row := range queryJSON(t, full, items) {
		want[key(row, "path", "member", "sha256", "kind")] = true
	}
	wantStatus := map[string]string{}
	for _, row := range queryJSON(t, full, statuses) {
		wantStatus[key(row, "kind", "k", "member")] = row["status"].(string)
	}
	source := queryJSON(t, full, "SELECT sha256 FROM evidence WHERE kind = 'source'")

	got := map[string]bool{}
	checked := 0
	for _, s := range plan {
		db := filepath.Join(dir, s.Shard+".db")
		r := forensic(t, "ingest", "--case", db, "--shard", s.Shard, arc)
		require.Equal(t, 0, r.code, r.stderr)
		for _, row := range queryJSON(t, db, items) {
			k := key(row, "path", "member", "sha256", "kind")
			assert.False(t, got[k], "%s in two shards", k)
			got[k] = true
		}
		assert.Equal(t, source, queryJSON(t, db, "SELECT sha256 FROM evidence WHERE kind = 'source'"), "the source, hashed whole")
		custody := queryJSON(t, db, "SELECT inputs FROM custody WHERE command = 'ingest'")
		require.Len(t, custody, 1)
		assert.Contains(t, custody[0]["inputs"], `"shards":["`+s.Shard+`"]`)
		forensic(t, "verify", "--case", db, "--public-keys", keys)
		for _, row := range queryJSON(t, db, statuses) {
			k := key(row, "kind", "k", "member")
			w, ok := wantStatus[k]
			if assert.True(t, ok, "%s: not in the single case", k) {
				assert.Equal(t, w, row["status"], "%s: %s", s.Shard, k)
				checked++
			}
		}
	}
	assert.Equal(t, want, got, "every item of the export in exactly one shard")
	assert.Equal(t, len(wantStatus), checked, "every status of the single case, in some shard")

	// Each shard's export, copied into one folder and merged, holds the
	// rows the single case's export holds.
	r = forensic(t, "export", "--case", full, "--out", filepath.Join(dir, "export-full"))
	require.Equal(t, 0, r.code, r.stderr)
	merged := filepath.Join(dir, "merged")
	for _, s := range plan {
		out := filepath.Join(dir, "export-"+s.Shard)
		r := forensic(t, "export", "--case", filepath.Join(dir, s.Shard+".db"), "--out", out)
		require.Equal(t, 0, r.code, r.stderr)
		_, err := os.Stat(filepath.Join(out, "MANIFEST-"+s.Shard+".json"))
		require.NoError(t, err, "a shard's manifest is named after it")
		require.NoError(t, os.CopyFS(merged, os.DirFS(out)))
	}
	stray := filepath.Join(merged, "events", "stray.parquet")
	require.NoError(t, os.WriteFile(stray, []byte("PAR1"), 0o644))
	r = forensic(t, "export", "merge", merged)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "events/stray.parquet added")
	require.NoError(t, os.Remove(stray))
	r = forensic(t, "export", "merge", merged)
	require.Equal(t, 0, r.code, r.stderr)
	rowsOf := func(p string) map[string]float64 {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var m struct {
			Tables []struct {
				Name string  `json:"name"`
				Rows float64 `json:"rows"`
			} `json:"tables"`
		}
		require.NoError(t, json.Unmarshal(b, &m))
		out := map[string]float64{}
		for _, t := range m.Tables {
			out[t.Name] = t.Rows
		}
		return out
	}
	all, mg := rowsOf(filepath.Join(dir, "export-full", "MANIFEST.json")), rowsOf(filepath.Join(merged, "MANIFEST.json"))
	for _, tb := range []string{"events", "access_log", "item_status", "digests"} {
		assert.Equal(t, all[tb], mg[tb], tb)
	}
	assert.Equal(t, all["evidence"]+float64(len(plan)-1), mg["evidence"], "each shard's case lists the source once")
	r = forensic(t, "export", "merge", merged)
	assert.Equal(t, 1, r.code, "merged once")

	r = forensic(t, "ingest", "--case", filepath.Join(dir, "x.db"), "--shard", "area-xyz", arc)
	assert.Equal(t, 2, r.code, "not a shard id")

	// A shard's report says, in its verdict and limitations, that it
	// covers that shard only.
	signer := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", signer).code)
	rep := filepath.Join(dir, "report-shard")
	r = forensic(t, "report", "--case", filepath.Join(dir, plan[0].Shard+".db"), "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)
	b, err := os.ReadFile(filepath.Join(rep, "report.json"))
	require.NoError(t, err)
	var doc struct {
		Limitations  []string `json:"limitations"`
		Verification struct {
			Verdict string `json:"verdict"`
		} `json:"verification"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Contains(t, doc.Verification.Verdict, "This case holds only shard "+plan[0].Shard+" of its sources")
	assert.Contains(t, strings.Join(doc.Limitations, "\n"), "This case holds only shard "+plan[0].Shard)
	rep = filepath.Join(dir, "report-full")
	r = forensic(t, "report", "--case", full, "--key", signer+".key", "--out", rep)
	require.Equal(t, 0, r.code, r.stderr)
	b, err = os.ReadFile(filepath.Join(rep, "report.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "This case holds only shard")
}
