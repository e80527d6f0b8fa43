package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/store"
)

// assertRoundTrip decodes the report.json of the report folder dir into a
// Document (refusing any member Document does not name) and writes it
// again: the bytes must be the file's, so a member missing from the
// struct tree, or written differently, fails. Reading it item by item
// must give the same Document.
func assertRoundTrip(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, FileJSON))
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc Document
	require.NoError(t, dec.Decode(&doc), "report.json has a member the struct tree does not name")
	var out bytes.Buffer
	require.NoError(t, writeDocument(&out, &doc, nil))
	if !bytes.Equal(data, out.Bytes()) {
		got, want := out.Bytes(), data
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		lo := max(0, i-200)
		t.Fatalf("report.json decoded and written again differs at byte %d:\n got: ...%s\nwant: ...%s",
			i, got[lo:min(len(got), i+200)], want[lo:min(len(want), i+200)])
	}

	streamed := Document{Evidence: []EvidenceItem{}, Statuses: []ItemStatus{}, VerifiedDigests: []VerifiedDigest{}}
	require.NoError(t, readDocument(bytes.NewReader(data), &streamed, documentItems{
		evidence: func(e EvidenceItem) error { streamed.Evidence = append(streamed.Evidence, e); return nil },
		statuses: func(s ItemStatus) error { streamed.Statuses = append(streamed.Statuses, s); return nil },
		digests: func(d VerifiedDigest) error {
			streamed.VerifiedDigests = append(streamed.VerifiedDigests, d)
			return nil
		},
	}))
	assert.Equal(t, doc, streamed, "readDocument item by item")
	out.Reset()
	require.NoError(t, writeDocument(&out, &streamed, nil))
	assert.True(t, bytes.Equal(data, out.Bytes()), "report.json read item by item and written again differs")
}

// TestDocumentRoundTrip: the struct tree holds every member of report.json
// and writes it byte for byte: for the golden case (statuses, findings,
// gaps, verified digests, trust anchors, custody anchor), for a case whose
// records were indexed by a filter (events_filter, records_seen,
// records_indexed, one of them NULL), with details and checks that are not
// JSON or NULL, and for a case never verified.
func TestDocumentRoundTrip(t *testing.T) {
	t.Run("golden", func(t *testing.T) {
		c, _, _ := fixtureCase(t, smallOptions(), fixtures.LogHashMismatch, fixtures.DigestMissing, fixtures.LogUnreferenced)
		addCustody(t, c, 2)
		assertRoundTrip(t, buildReport(t, c))
	})
	t.Run("filtered and edited", func(t *testing.T) {
		dir := t.TempDir()
		ev := filepath.Join(dir, "evidence")
		m, err := fixtures.Generate(ev, smallOptions())
		require.NoError(t, err)
		_, err = fixtures.Tamper(m, fixtures.LogHashMismatch)
		require.NoError(t, err)
		keys := filepath.Join(dir, "keys")
		require.NoError(t, fixtures.KeysOutside(m, keys))
		c, err := store.Open(t.Context(), filepath.Join(dir, "case.db"))
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		c.Now = func() time.Time { return testSignedAt.Add(-time.Hour) }
		ingestFiltered(t, c, ev, keys, store.EventFilter{Restricted: true, Clauses: []store.EventClause{{Regions: []string{"eu-west-1"}}}})
		db := caseDB(t, c)
		for _, q := range []string{
			"UPDATE evidence SET records_seen = NULL WHERE id = (SELECT min(id) FROM evidence WHERE events_filter IS NOT NULL)",
			"UPDATE item_status SET detail = 'not JSON', checks = NULL WHERE id = (SELECT min(id) FROM item_status WHERE status <> 'valid')",
			"UPDATE item_status SET detail = '', checks = '[1, 2.50, {\"b\": null, \"a\": \"\\u00e9\"}]' WHERE id = (SELECT max(id) FROM item_status WHERE status <> 'valid')",
		} {
			_, err := db.Exec(q)
			require.NoError(t, err, q)
		}
		out := filepath.Join(t.TempDir(), "report")
		opt := testBuildOptions(out)
		opt.AllowUnverified = true
		_, err = Build(t.Context(), c, opt)
		require.NoError(t, err)
		assertRoundTrip(t, out)
		r := readReport(t, out)
		nulls := 0
		for _, e := range r["evidence"].([]any) {
			if v, ok := e.(map[string]any)["records_seen"]; ok && v == nil {
				nulls++
			}
		}
		assert.Equal(t, 1, nulls, "records_seen null where the case holds NULL")
	})
	t.Run("not verified", func(t *testing.T) {
		dir := t.TempDir()
		ev := filepath.Join(dir, "evidence")
		_, err := fixtures.Generate(ev, fixtures.Options{Seed: 5, Hours: 2})
		require.NoError(t, err)
		c, err := store.Open(t.Context(), filepath.Join(dir, "case.db"))
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		ingestOnly(t, c, ev, store.AllEvents)
		out := filepath.Join(t.TempDir(), "report")
		opt := testBuildOptions(out)
		opt.AllowUnverified = true
		_, err = Build(t.Context(), c, opt)
		require.NoError(t, err)
		assertRoundTrip(t, out)
	})
}

// TestVerifyReadsAsAStream: a report.json that is JSON but not canonical
// (indented, re-signed) fails only the canonical check, and its evidence
// is still read item by item; a file that changes between two reads is
// an error, not a result.
func TestVerifyReadsAsAStream(t *testing.T) {
	c, ev, _ := fixtureCase(t, fixtures.Options{Seed: 2, Hours: 2})
	dir := buildReport(t, c)
	path := filepath.Join(dir, FileJSON)
	var m map[string]any
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &m))
	indented, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(indented, '\n'), 0o644))
	resign(t, dir)
	res, err := Verify(t.Context(), dir, VerifyOptions{Signer: signerPEM(t), Evidence: []string{ev}})
	require.NoError(t, err)
	assert.Equal(t, []string{"report.json canonical"}, failedChecks(res))
	assert.NotZero(t, res.EvidenceCounts[EvidenceUnchanged])
	assert.Len(t, res.EvidenceCounts, 1, "%v", res.EvidenceCounts)

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rf := &reportFile{f: f, sum: make([]byte, 32), size: int64(len(indented) + 1)}
	err = rf.read(nil, documentItems{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed while it was being checked")
}
