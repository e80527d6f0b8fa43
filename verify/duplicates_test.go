package verify

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/store"
)

// The attacks of this file put two items under one name in one source —
// a tampered copy and the original — and check that every evidence row
// gets a status of its own, judged on its own bytes, whatever their
// order, and that the repeated name is itself an error finding.

type archived struct {
	name string
	body []byte
}

func writeTar(t *testing.T, p string, members []archived) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range members {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(m.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p
}

func writeZip(t *testing.T, p string, members []archived) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate})
		require.NoError(t, err)
		_, err = w.Write(m.body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p
}

func tarBytes(t *testing.T, members []archived) []byte {
	t.Helper()
	p := writeTar(t, filepath.Join(t.TempDir(), "x.tar"), members)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func slurp(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

// rel is p's slash path below root.
func rel(t *testing.T, root, p string) string {
	t.Helper()
	r, err := filepath.Rel(root, p)
	require.NoError(t, err)
	return filepath.ToSlash(r)
}

// objectCase generates the object set, writes one source holding the
// members build returns, ingests it and verifies.
func objectCase(t *testing.T, build func(m *fixtures.Manifest, ob fixtures.ObjectInfo) (string, []archived)) (*store.Case, *Report, fixtures.ObjectInfo) {
	t.Helper()
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), objectSet())
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	ob := m.Objects[4] // hello/sha256.txt: a single-part object with a SHA-256 checksum
	require.NotEmpty(t, ob.MetadataPath)
	kind, members := build(m, ob)
	arc := filepath.Join(dir, "ev."+kind)
	if kind == "zip" {
		writeZip(t, arc, members)
	} else {
		writeTar(t, arc, members)
	}
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assertOneVerdictPerItem(t, c)
	return c, rep, ob
}

// objectRows returns, for every object item of key, its status and the
// SHA-256 its evidence row recorded at ingest.
func objectRows(t *testing.T, c *store.Case, rep *Report, key string) map[string]string {
	t.Helper()
	db := casetest.DB(t, c)
	out := map[string]string{}
	for _, it := range rep.Items {
		if it.Kind != KindObject || !strings.HasSuffix(it.S3Key, key) {
			continue
		}
		var sha string
		require.NoError(t, db.QueryRow("SELECT sha256 FROM evidence WHERE id = ?", it.EvidenceID).Scan(&sha))
		_, dup := out[sha]
		require.False(t, dup, "two items for one evidence row")
		out[sha] = it.Status
	}
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestRepeatedObjectNameEachRowItsOwnStatus(t *testing.T) {
	tampered := func(b []byte) []byte { return append([]byte("X"), b[1:]...) }
	for _, tt := range []struct {
		name          string
		kind          string
		tamperedFirst bool
		spell         func(name string) (string, string) // how the two copies (and their sidecars) are named
	}{
		{"tar tampered first", "tar", true, func(n string) (string, string) { return n, n }},
		{"tar original first", "tar", false, func(n string) (string, string) { return n, n }},
		{"zip tampered first", "zip", true, func(n string) (string, string) { return n, n }},
		{"zip original first", "zip", false, func(n string) (string, string) { return n, n }},
		{"dot-slash beside plain", "tar", true, func(n string) (string, string) { return "./" + n, n }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var orig, bad []byte
			c, rep, ob := objectCase(t, func(m *fixtures.Manifest, ob fixtures.ObjectInfo) (string, []archived) {
				orig = slurp(t, ob.Path)
				bad = tampered(orig)
				n := rel(t, m.Root, ob.Path)
				a, b := tt.spell(n)
				first, second := archived{a, bad}, archived{b, orig}
				if !tt.tamperedFirst {
					first, second = archived{a, orig}, archived{b, bad}
				}
				members := []archived{first, second}
				for _, spelt := range []string{a, b} {
					members = append(members, archived{spelt + ".metadata.json", slurp(t, ob.MetadataPath)},
						archived{spelt + ".attributes.json", slurp(t, ob.AttributesPath)})
					if a == b {
						break // one set of sidecars for one spelling
					}
				}
				return tt.kind, members
			})
			assert.Equal(t, map[string]string{
				sha256Hex(orig): StatusValid,
				sha256Hex(bad):  StatusChecksumMismatch,
			}, objectRows(t, c, rep, ob.Key))
			d := findingsOf(rep, FindingDuplicateName)
			require.NotEmpty(t, d, "a repeated name is a finding")
			assert.Equal(t, SeverityError, d[0].Severity)
			assert.True(t, rep.Failed())
		})
	}
}

// TestMemberNamedLikeANestedOne: a member literally named
// "inner.tar!/objects/B/K" (a tampered copy, with sidecars spelt the same
// way) beside a nested inner.tar holding the original: the two are told
// apart, each judged on its own bytes and its own sidecars.
func TestMemberNamedLikeANestedOne(t *testing.T) {
	var orig, bad []byte
	c, rep, ob := objectCase(t, func(m *fixtures.Manifest, ob fixtures.ObjectInfo) (string, []archived) {
		orig = slurp(t, ob.Path)
		bad = append([]byte("X"), orig[1:]...)
		n := rel(t, m.Root, ob.Path)
		meta, attrs := slurp(t, ob.MetadataPath), slurp(t, ob.AttributesPath)
		inner := tarBytes(t, []archived{{n, orig}, {n + ".metadata.json", meta}, {n + ".attributes.json", attrs}})
		return "tar", []archived{
			{"inner.tar!/" + n, bad},
			{"inner.tar!/" + n + ".metadata.json", meta},
			{"inner.tar!/" + n + ".attributes.json", attrs},
			{"inner.tar", inner},
		}
	})
	assert.Equal(t, map[string]string{
		sha256Hex(orig): StatusValid,
		sha256Hex(bad):  StatusChecksumMismatch,
	}, objectRows(t, c, rep, ob.Key))
	// Both spell "inner.tar!/<name>": the display name occurs twice.
	var names []string
	for _, f := range findingsOf(rep, FindingDuplicateName) {
		names = append(names, det(f.Detail)["name"].(string))
	}
	assert.Contains(t, names, "inner.tar!/objects/"+ob.Bucket+"/"+ob.Key)
}

// tamperLog returns the gzip of a log file's JSON with the first
// eventName renamed TamperedName.
func tamperLog(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	js, err := io.ReadAll(zr)
	require.NoError(t, err)
	i := bytes.Index(js, []byte(`"eventName":"`))
	require.GreaterOrEqual(t, i, 0)
	j := i + len(`"eventName":"`)
	k := bytes.IndexByte(js[j:], '"')
	out := append(append(append([]byte{}, js[:j]...), "TamperedName"...), js[j+k:]...)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err = zw.Write(out)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// verifiedTampered counts the TamperedName events the case calls
// verified, and all of them.
func verifiedTampered(t *testing.T, c *store.Case) (verified, all int) {
	t.Helper()
	require.NoError(t, casetest.DB(t, c).QueryRow(`SELECT coalesce(sum(verified), 0), count(*) FROM ct_events_status
		WHERE event_name = 'TamperedName'`).Scan(&verified, &all))
	return
}

// TestRepeatedLogNameWithRehash: a tar holding a tampered copy of a log
// file and then the original under one name. Each row is judged on the
// bytes its events were indexed from, with and without --rehash.
func TestRepeatedLogNameWithRehash(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), small())
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	target := m.Logs[4]
	var members []archived
	err = filepath.Walk(m.Root, func(p string, fi os.FileInfo, err error) error {
		require.NoError(t, err)
		if fi.IsDir() || strings.HasPrefix(rel(t, m.Root, p), "keys/") {
			return nil
		}
		b := slurp(t, p)
		if p == target.Path {
			members = append(members, archived{rel(t, m.Root, p), tamperLog(t, b)})
		}
		members = append(members, archived{rel(t, m.Root, p), b})
		return nil
	})
	require.NoError(t, err)
	arc := writeTar(t, filepath.Join(dir, "ev.tar"), members)
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	for _, rehash := range []bool{false, true} {
		rep := runVerify(t, c, Options{Anchors: anchors(t, m), Rehash: rehash})
		assertOneVerdictPerItem(t, c)
		var got []string
		for _, it := range rep.Items {
			if it.Kind == KindLog && it.S3Key == target.Key {
				got = append(got, it.Status)
			}
		}
		assert.ElementsMatch(t, []string{StatusHashMismatch, StatusValid}, got, "rehash %v", rehash)
		v, all := verifiedTampered(t, c)
		assert.Equal(t, 1, all)
		assert.Equal(t, 0, v, "the tampered copy's event is not verified (rehash %v)", rehash)
		assert.NotEmpty(t, findingsOf(rep, FindingDuplicateName))
		assert.True(t, rep.Failed())
	}
}

// TestRestoredBytesAreNotVerified: a tampered log file is ingested, then
// the original bytes are put back on disk. --rehash reads the original,
// but the events in the case come from the tampered bytes: the file is
// changed_since_ingest and its events stay unverified.
func TestRestoredBytesAreNotVerified(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), small())
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, filepath.Join(dir, "keys")))
	target := m.Logs[4]
	orig := slurp(t, target.Path)
	require.NoError(t, os.WriteFile(target.Path, tamperLog(t, orig), 0o644))
	c := ingestCase(t, filepath.Join(dir, "case.db"), m.Root)
	require.NoError(t, os.WriteFile(target.Path, orig, 0o644))
	a := anchors(t, m)

	plain := runVerify(t, c, Options{Anchors: a})
	assert.Equal(t, map[string]string{"log " + target.Key: StatusHashMismatch}, notValid(plain))
	re := runVerify(t, c, Options{Anchors: a, Rehash: true})
	assertOneVerdictPerItem(t, c)
	assert.Equal(t, map[string]string{"log " + target.Key: StatusChangedSinceIngest}, notValid(re))
	v, all := verifiedTampered(t, c)
	assert.Equal(t, 1, all)
	assert.Zero(t, v)
	var n int
	require.NoError(t, casetest.DB(t, c).QueryRow(`SELECT count(*) FROM ct_events_status WHERE verified = 1`).Scan(&n))
	assert.Equal(t, m.Events-target.Records, n, "every other event is verified")
	require.Len(t, findingsOf(re, FindingRehash), 1)

	// Untouched: --rehash agrees with the plain run.
	c2 := ingestCase(t, filepath.Join(dir, "case2.db"), m.Root)
	re = runVerify(t, c2, Options{Anchors: a, Rehash: true})
	assertOneVerdictPerItem(t, c2)
	assert.Empty(t, notValid(re))
	assert.Empty(t, re.Findings)
}

// TestNestedArchivesOfOneNameDoNotPair: two nested archives of one name,
// the object in the first and its sidecars in the second: the sidecars
// describe no copy in their own archive, so nothing is valid.
func TestNestedArchivesOfOneNameDoNotPair(t *testing.T) {
	c, rep, ob := objectCase(t, func(m *fixtures.Manifest, ob fixtures.ObjectInfo) (string, []archived) {
		n := rel(t, m.Root, ob.Path)
		return "tar", []archived{
			{"inner.tar", tarBytes(t, []archived{{n, slurp(t, ob.Path)}})},
			{"inner.tar", tarBytes(t, []archived{{n + ".metadata.json", slurp(t, ob.MetadataPath)}, {n + ".attributes.json", slurp(t, ob.AttributesPath)}})},
		}
	})
	_ = c
	var statuses []string
	for _, it := range rep.Items {
		if it.Kind == KindObject && strings.HasSuffix(it.S3Key, ob.Key) {
			statuses = append(statuses, it.Status)
		}
	}
	assert.Equal(t, []string{StatusObjectMissing}, statuses)
	assert.NotEmpty(t, findingsOf(rep, FindingDuplicateName))
}
