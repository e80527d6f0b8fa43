package verify

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// small is the fixture set of the status tests: one region, 6 hours.
func small() fixtures.Options {
	return fixtures.Options{Seed: 7, Hours: 6, FilesPerHour: 3, EventsPerFile: 5}
}

// set generates opt, applies tamperings, moves the keys out of the
// evidence (the analyst's trust anchors are not evidence), ingests it into
// a new case and returns the case and manifest.
func set(t testing.TB, opt fixtures.Options, tamper ...fixtures.Tampering) (*store.Case, *fixtures.Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), opt)
	require.NoError(t, err)
	for _, tp := range tamper {
		_, err := fixtures.Tamper(m, tp)
		require.NoError(t, err)
	}
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	return ingestCase(t, filepath.Join(dir, "case.db"), m.Root), m
}

func ingestCase(t testing.TB, casePath string, paths ...string) *store.Case {
	t.Helper()
	ctx := context.Background()
	c, err := store.Open(ctx, casePath)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = ingest.Run(ctx, c, paths, ingest.Options{Workers: 2})
	require.NoError(t, err)
	return c
}

// anchors loads the fixture's list-public-keys files.
func anchors(t testing.TB, m *fixtures.Manifest) *TrustAnchors {
	t.Helper()
	a, err := LoadTrustAnchors(m.PublicKeyFiles)
	require.NoError(t, err)
	return a
}

// runVerify verifies c and checks, as every verify test must, that each
// digest, log file and object row got exactly one verdict of its own.
func runVerify(t testing.TB, c *store.Case, opt Options) *Report {
	t.Helper()
	opt.KeepItems = true
	rep, err := Run(context.Background(), c, opt)
	require.NoError(t, err)
	assertOneVerdictPerItem(t, c)
	return rep
}

// statuses maps "kind s3_key" to status; an item listed twice gets both,
// joined by "+".
func statuses(rep *Report) map[string]string {
	out := map[string]string{}
	for _, it := range rep.Items {
		k := it.Kind + " " + it.S3Key
		if s, ok := out[k]; ok {
			out[k] = s + "+" + it.Status
		} else {
			out[k] = it.Status
		}
	}
	return out
}

// notValid returns "kind s3_key" → status for every item not valid.
func notValid(rep *Report) map[string]string {
	out := map[string]string{}
	for k, s := range statuses(rep) {
		if s != StatusValid {
			out[k] = s
		}
	}
	return out
}

// setWith is set with a custom change to the generated files.
func setWith(t testing.TB, opt fixtures.Options, change func(m *fixtures.Manifest)) (*store.Case, *fixtures.Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), opt)
	require.NoError(t, err)
	change(m)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	return ingestCase(t, filepath.Join(dir, "case.db"), m.Root), m
}

func removeFile(t testing.TB, p string) {
	t.Helper()
	require.NoError(t, os.Remove(p))
}

// assertOneVerdictPerItem checks the invariant every verification keeps:
// each evidence row of kind cloudtrail_digest, cloudtrail_log or
// s3_object has exactly one item_status row of its own, and no status row
// names an evidence row twice.
func assertOneVerdictPerItem(t testing.TB, c *store.Case) {
	t.Helper()
	db := casetest.DB(t, c)
	rows, err := db.Query(`SELECT e.id, e.kind, e.path, e.member, count(s.id) FROM evidence e
		LEFT JOIN item_status s ON s.evidence_id = e.id
		WHERE e.kind IN ('cloudtrail_digest', 'cloudtrail_log', 's3_object')
		GROUP BY e.id HAVING count(s.id) <> 1`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var kind, p, member string
		require.NoError(t, rows.Scan(&id, &kind, &p, &member, &n))
		t.Errorf("evidence %d (%s %s %s) has %d statuses, want exactly 1", id, kind, p, member, n)
	}
	require.NoError(t, rows.Err())
	var dup int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM (SELECT evidence_id FROM item_status
		WHERE evidence_id IS NOT NULL GROUP BY evidence_id HAVING count(*) > 1)`).Scan(&dup))
	assert.Zero(t, dup, "evidence rows with more than one status")
}

// det is a detail as a JSON object: an item's typed detail as it is
// printed, or a finding's map as it is.
// det is a detail as a JSON object, its whole numbers as ints (findings
// are read back from the case, where their details are JSON).
func det(v any) map[string]any {
	var m map[string]any
	switch d := v.(type) {
	case map[string]any:
		m = d
	case nil:
		return nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(err)
		}
	}
	return wholeInts(m).(map[string]any)
}

// objs is a detail's array of JSON objects.
func objs(v any) []map[string]any {
	var out []map[string]any
	for _, e := range v.([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

func wholeInts(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x)
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = wholeInts(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = wholeInts(e)
		}
		return out
	}
	return v
}

func digestDetail(it Item) *verdict.DigestDetail { return it.Detail.(*verdict.DigestDetail) }
func logDetail(it Item) *verdict.LogDetail       { return it.Detail.(*verdict.LogDetail) }
func objectDetail(it Item) *verdict.ObjectDetail { return it.Detail.(*verdict.ObjectDetail) }
