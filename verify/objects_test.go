package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// objectSet is the fixture set of the object tests: small() with objects
// and access logs.
func objectSet() fixtures.Options {
	o := small()
	o.Objects, o.AccessLogs = true, true
	return o
}

// objectStatuses maps "key?version" to the status of every object item.
func objectStatuses(rep *Report) map[string]string {
	out := map[string]string{}
	for _, it := range rep.Items {
		if it.Kind == KindObject {
			out[it.S3Key+"?"+objectDetail(it).VersionID] = it.Status
		}
	}
	return out
}

// allObjects returns "key?version" -> valid for every object of m, with
// the given exceptions.
func allObjects(m *fixtures.Manifest, except map[string]string) map[string]string {
	out := map[string]string{}
	for _, o := range m.Objects {
		out[o.Key+"?"+o.VersionID] = StatusValid
	}
	for k, v := range except {
		out[k] = v
	}
	return out
}

func objectItem(t *testing.T, rep *Report, key, version string) Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Kind == KindObject && it.S3Key == key && objectDetail(it).VersionID == version {
			return it
		}
	}
	t.Fatalf("no object item %s?%s", key, version)
	return Item{}
}

// cloudTrailNotValid is notValid for digests and log files only.
func cloudTrailNotValid(rep *Report) map[string]string {
	out := map[string]string{}
	for k, s := range notValid(rep) {
		if !strings.HasPrefix(k, KindObject+" ") {
			out[k] = s
		}
	}
	return out
}

func findingsOf(rep *Report, typ string) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

func TestObjectsUntamperedAllValid(t *testing.T) {
	c, m := set(t, objectSet())
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Equal(t, allObjects(m, nil), objectStatuses(rep))
	assert.Empty(t, cloudTrailNotValid(rep))
	assert.False(t, rep.Failed(), "findings: %v", rep.Findings)
	assert.Empty(t, findingsOf(rep, FindingCorrelation))
	assert.Equal(t, Counts{Total: len(m.Objects), Valid: len(m.Objects), ByStatus: map[string]int{StatusValid: len(m.Objects)}}, rep.Summary.Objects)
	for _, o := range m.Objects {
		it := objectItem(t, rep, o.Key, o.VersionID)
		assert.Equal(t, o.Bucket, it.S3Bucket)
		assert.Equal(t, o.Path, it.Path)
		assert.Equal(t, o.SHA256, str(objectDetail(it).SHA256), o.Key)
		assert.Equal(t, sz(o.Size, o.Size), objectDetail(it).Size, o.Key)
		// The exported checksum is among the checks, matched.
		found := false
		require.NotNil(t, objectDetail(it).Checks, o.Key)
		for _, ck := range *objectDetail(it).Checks {
			if ck.Algorithm == o.ChecksumAlgorithm && ck.Type == o.ChecksumType {
				found = true
				assert.True(t, ck.Match, o.Key)
				// A composite may be shown without head-object's "-N".
				assert.Contains(t, []string{o.Checksum, strings.Split(o.Checksum, "-")[0]}, ck.Expected, o.Key)
			}
		}
		assert.True(t, found, "%s: no %s %s check in %v", o.Key, o.ChecksumAlgorithm, o.ChecksumType, objectDetail(it).Checks)
	}
	// Object statuses are recorded in the case.
	rows, err := c.ItemStatuses(context.Background())
	require.NoError(t, err)
	n := 0
	for _, r := range rows {
		if r.Kind == KindObject {
			n++
			assert.Equal(t, StatusValid, r.Status)
			assert.NotZero(t, r.EvidenceID)
		}
	}
	assert.Equal(t, len(m.Objects), n)
}

// One test per object status the fixtures can produce; the first object
// is hello/crc32.txt ("hello world", CRC32 DUoRhQ==, 11 bytes).
func TestObjectStatuses(t *testing.T) {
	tests := []struct {
		tamper fixtures.Tampering
		status string
		check  func(t *testing.T, it Item, m *fixtures.Manifest)
	}{
		{fixtures.ObjectChecksumMismatch, StatusChecksumMismatch, func(t *testing.T, it Item, m *fixtures.Manifest) {
			// byte 5 (' ') became '!': "hello!world" (values from Python's
			// zlib.crc32 and hashlib.md5).
			assert.Equal(t, "CRC32", objectDetail(it).Algorithm)
			assert.Equal(t, "DUoRhQ==", str(objectDetail(it).Expected))
			assert.Equal(t, "xhbCIA==", str(objectDetail(it).Computed))
			assert.Equal(t, "full object", str(objectDetail(it).Method))
			assert.Equal(t, sz(int64(11), int64(11)), objectDetail(it).Size)
			assert.Equal(t, "CRC32 FULL_OBJECT expected DUoRhQ==, computed xhbCIA==; ETAG SINGLE_ETAG expected 5eb63bbbe01eeed093cb22bb8f5acdc3, computed 4b460dd7310c9f783242f2809cdfc2ee", objectDetail(it).Reason)
		}},
		{fixtures.ObjectSizeMismatch, StatusSizeMismatch, func(t *testing.T, it Item, m *fixtures.Manifest) {
			assert.Equal(t, sz(int64(11), int64(12)), objectDetail(it).Size)
			assert.Equal(t, "read 12 bytes, metadata says 11", objectDetail(it).Reason)
			assert.Equal(t, "DUoRhQ==", str(objectDetail(it).Expected))
		}},
		{fixtures.ObjectMetadataMissing, StatusMetadataMissing, func(t *testing.T, it Item, m *fixtures.Manifest) {
			assert.Equal(t, m.Objects[0].Path, it.Path)
			assert.NotZero(t, it.EvidenceID)
			assert.Equal(t, "no head-object or get-object-attributes export beside it (crc32.txt.metadata.json, crc32.txt.attributes.json) and no listing or inventory row for s3://amzn-s3-demo-evidence-bucket/hello/crc32.txt", objectDetail(it).Reason)
			assert.Equal(t, sz(nil, int64(11)), objectDetail(it).Size)
			assert.Equal(t, m.Objects[0].SHA256, str(objectDetail(it).SHA256))
		}},
		{fixtures.ObjectMissing, StatusObjectMissing, func(t *testing.T, it Item, m *fixtures.Manifest) {
			assert.Equal(t, "", it.Path)
			assert.Zero(t, it.EvidenceID)
			assert.Equal(t, m.Objects[0].Path, objectDetail(it).ExpectedPath)
			assert.Equal(t, sz(int64(11), nil), objectDetail(it).Size)
			assert.Len(t, objectDetail(it).Metadata, 2)
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.tamper), func(t *testing.T) {
			c, m := set(t, objectSet(), tt.tamper)
			ob := m.Objects[0]
			require.Equal(t, "hello/crc32.txt", ob.Key)
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			want := allObjects(m, map[string]string{ob.Key + "?" + ob.VersionID: tt.status})
			if tt.tamper == fixtures.ObjectMetadataMissing {
				// Without its sidecars nothing names the version.
				delete(want, ob.Key+"?"+ob.VersionID)
				want[ob.Key+"?"] = tt.status
			}
			assert.Equal(t, want, objectStatuses(rep))
			assert.True(t, rep.Failed())
			assert.Equal(t, 1, rep.Summary.Objects.ByStatus[tt.status])
			version := ob.VersionID
			if tt.tamper == fixtures.ObjectMetadataMissing {
				version = ""
			}
			it := objectItem(t, rep, ob.Key, version)
			assert.Equal(t, ob.Bucket, it.S3Bucket)
			tt.check(t, it, m)
			assert.Empty(t, cloudTrailNotValid(rep), "digests and log files are untouched")
		})
	}
}

// editJSON rewrites a JSON file through f.
func editJSON(t *testing.T, p string, f func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v))
	f(v)
	b, err = json.MarshalIndent(v, "", "    ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b, 0o644))
}

// An SSE-KMS object whose exports carry no checksum: its ETag is not an
// MD5, so nothing can be checked.
func TestObjectUnverifiable(t *testing.T) {
	var ob fixtures.ObjectInfo
	c, m := setWith(t, objectSet(), func(m *fixtures.Manifest) {
		for _, o := range m.Objects {
			if o.KMSKeyID != "" {
				ob = o
			}
		}
		require.Equal(t, "secure/payroll.csv", ob.Key)
		editJSON(t, ob.MetadataPath, func(v map[string]any) { delete(v, "ChecksumCRC32"); delete(v, "ChecksumType") })
		editJSON(t, ob.AttributesPath, func(v map[string]any) { delete(v, "Checksum") })
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Equal(t, allObjects(m, map[string]string{ob.Key + "?" + ob.VersionID: StatusUnverifiable}), objectStatuses(rep))
	it := objectItem(t, rep, ob.Key, ob.VersionID)
	assert.Equal(t, "ETAG SINGLE_ETAG: not verifiable by ETag: the object is encrypted with SSE-KMS (aws:kms), whose ETag is not an MD5", objectDetail(it).Reason)
	assert.Equal(t, sz(ob.Size, ob.Size), objectDetail(it).Size)
	assert.Empty(t, objectDetail(it).Algorithm, "no check ran")
}

// A copy that changed after ingest is judged on the bytes read now and
// gets a rehash finding.
func TestObjectChangedSinceIngest(t *testing.T) {
	c, m := set(t, objectSet())
	ob := m.Objects[3] // hello/sha1.txt
	require.NoError(t, os.WriteFile(ob.Path, []byte("hello World"), 0o644))
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Equal(t, allObjects(m, map[string]string{ob.Key + "?" + ob.VersionID: StatusChangedSinceIngest}), objectStatuses(rep))
	assert.Equal(t, StatusChecksumMismatch, objectDetail(objectItem(t, rep, ob.Key, ob.VersionID)).StatusOfBytesRead)
	re := findingsOf(rep, FindingRehash)
	require.Len(t, re, 1)
	assert.Equal(t, ob.Path, det(re[0].Detail)["path"])
	assert.Equal(t, ob.SHA256, det(re[0].Detail)["expected_sha256"])
	assert.Equal(t, "db4067cec62c58bf8b2f8982071e77c082da9e00924bf3631f3b024fa54e7d7e", det(re[0].Detail)["actual_sha256"])
	// Deleted after ingest: unverifiable, and said why.
	require.NoError(t, os.Remove(ob.Path))
	rep = runVerify(t, c, Options{Anchors: anchors(t, m)})
	it := objectItem(t, rep, ob.Key, ob.VersionID)
	assert.Equal(t, StatusUnverifiable, it.Status)
	assert.Contains(t, objectDetail(it).Reason, "cannot read "+ob.Path+": ")
}

// Objects inside an archive are read by walking it once; statuses and
// paths are the same as on disk, with archive!/member paths.
func TestObjectsInArchive(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), objectSet())
	require.NoError(t, err)
	_, err = fixtures.Tamper(m, fixtures.ObjectChecksumMismatch) // hello/crc32.txt
	require.NoError(t, err)
	_, err = fixtures.Tamper(m, fixtures.ObjectMetadataMissing) // hello/crc32c.txt
	require.NoError(t, err)
	_, err = fixtures.Tamper(m, fixtures.ObjectMissing) // hello/crc64nvme.txt
	require.NoError(t, err)
	arc := filepath.Join(dir, "objects.tar.zst")
	require.NoError(t, fixtures.WriteTarZst(filepath.Join(m.Root, "objects"), arc))
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	rep := runVerify(t, c, Options{})
	o := m.Objects
	want := allObjects(m, map[string]string{
		o[0].Key + "?" + o[0].VersionID: StatusChecksumMismatch,
		o[1].Key + "?":                  StatusMetadataMissing,
		o[2].Key + "?" + o[2].VersionID: StatusObjectMissing,
	})
	delete(want, o[1].Key+"?"+o[1].VersionID)
	assert.Equal(t, want, objectStatuses(rep))
	it := objectItem(t, rep, o[0].Key, o[0].VersionID)
	assert.Equal(t, arc+"!/amzn-s3-demo-evidence-bucket/hello/crc32.txt", it.Path)
	assert.Equal(t, "xhbCIA==", str(objectDetail(it).Computed))
	it = objectItem(t, rep, o[2].Key, o[2].VersionID)
	assert.Equal(t, arc+"!/amzn-s3-demo-evidence-bucket/hello/crc64nvme.txt", objectDetail(it).ExpectedPath)
	it = objectItem(t, rep, o[6].Key, o[6].VersionID)
	require.Equal(t, "uploads/disk-image.bin", o[6].Key)
	assert.Equal(t, StatusValid, it.Status)
	assert.Equal(t, o[6].SHA256, str(objectDetail(it).SHA256))
}

// A listing saved apart from the copies pairs by bucket, key and version:
// the copy without sidecars is checked against the listing's size and
// ETag instead of being metadata_missing.
func TestObjectPairedWithListing(t *testing.T) {
	var ob fixtures.ObjectInfo
	c, m := setWith(t, objectSet(), func(m *fixtures.Manifest) {
		ob = m.Objects[0]
		removeFile(t, ob.MetadataPath)
		removeFile(t, ob.AttributesPath)
		var cur, old fixtures.ObjectInfo
		for _, o := range m.Objects {
			if o.Key == "config/app.json" && o.IsLatest {
				cur = o
			} else if o.Key == "config/app.json" {
				old = o
			}
		}
		listing := map[string]any{"Name": ob.Bucket, "IsTruncated": false, "Versions": []map[string]any{
			{"Key": ob.Key, "VersionId": ob.VersionID, "IsLatest": true, "Size": ob.Size, "ETag": `"` + ob.ETag + `"`, "StorageClass": "STANDARD"},
			// Two versions of one key: each matches its own copy only.
			{"Key": cur.Key, "VersionId": cur.VersionID, "IsLatest": true, "Size": cur.Size, "ETag": `"` + cur.ETag + `"`},
			{"Key": old.Key, "VersionId": old.VersionID, "IsLatest": false, "Size": old.Size + 1, "ETag": `"` + old.ETag + `"`},
		}}
		b, err := json.Marshal(listing)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(m.Root, "listings"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(m.Root, "listings", "versions.json"), b, 0o644))
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	var old fixtures.ObjectInfo
	for _, o := range m.Objects {
		if o.Key == "config/app.json" && !o.IsLatest {
			old = o
		}
	}
	want := allObjects(m, map[string]string{old.Key + "?" + old.VersionID: StatusSizeMismatch})
	delete(want, ob.Key+"?"+ob.VersionID)
	want[ob.Key+"?"] = StatusValid
	assert.Equal(t, want, objectStatuses(rep))
	it := objectItem(t, rep, ob.Key, "")
	assert.Equal(t, "ETAG", objectDetail(it).Algorithm)
	assert.Equal(t, ob.ETag, str(objectDetail(it).Computed))
	refs := objectDetail(it).Metadata
	require.Len(t, refs, 1)
	assert.Equal(t, "list-object-versions", refs[0].Source)
	it = objectItem(t, rep, old.Key, old.VersionID)
	assert.Equal(t, sz(old.Size, old.Size), objectDetail(it).Size, "the sidecar size comes first")
	assert.Contains(t, objectDetail(it).Reason, "metadata says "+itoa(old.Size+1))
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestMatchVersion(t *testing.T) {
	tr, fa := true, false
	rows := []store.MetaRow{
		{ObjectMeta: store.ObjectMeta{Source: "a", VersionID: "v2", IsLatest: &tr}},
		{ObjectMeta: store.ObjectMeta{Source: "b", VersionID: "v1", IsLatest: &fa}},
		{ObjectMeta: store.ObjectMeta{Source: "c", VersionID: "v3", DeleteMarker: true}},
		{ObjectMeta: store.ObjectMeta{Source: "d"}},
		{ObjectMeta: store.ObjectMeta{Source: "e", VersionID: "null"}},
	}
	tests := []struct {
		version string
		atKey   bool
		want    []string
	}{
		{"v1", false, []string{"b"}},
		{"v2", true, []string{"a", "d", "e"}}, // unversioned rows describe the copy at the key
		{"", true, []string{"a", "d", "e"}},
		{"", false, nil},
		{"v9", true, []string{"d", "e"}},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range matchVersion(&objectCopy{version: tt.version, atKey: tt.atKey}, rows) {
			got = append(got, m.Source)
		}
		assert.Equal(t, tt.want, got, "version %q atKey %v", tt.version, tt.atKey)
	}
	// One version row with IsLatest unknown is the latest.
	one := []store.MetaRow{{ObjectMeta: store.ObjectMeta{Source: "x", VersionID: "v1"}}}
	assert.Len(t, matchVersion(&objectCopy{atKey: true}, one), 1)
	assert.Empty(t, matchVersion(&objectCopy{atKey: true}, append(one, store.MetaRow{ObjectMeta: store.ObjectMeta{Source: "y", VersionID: "v2"}})))
}

func TestVersionNames(t *testing.T) {
	for _, tt := range []struct{ in, version string }{
		{"/ev/objects/b/k.txt", ""},
		{"/ev/objects/b/k.txt.versions/abc", "abc"},
		{"/ev/objects/b/.versions/abc", ""},
	} {
		v, atKey := versionOf(tt.in)
		assert.Equal(t, tt.version, v, tt.in)
		assert.Equal(t, tt.version == "", atKey, tt.in)
	}
	for _, tt := range []struct{ in, key, version string }{
		{"k.txt", "k.txt", ""},
		{"a/k.txt.versions/abc", "a/k.txt", "abc"},
		{"a/k.txt.versions/", "a/k.txt.versions/", ""},
		{"a.versions/b/c", "a.versions/b/c", ""},
	} {
		k, v := splitVersionKey(tt.in)
		assert.Equal(t, tt.key, k, tt.in)
		assert.Equal(t, tt.version, v, tt.in)
	}
}

// sz is the size detail the tests expect: nil for unknown.
func sz(expected, actual any) *verdict.ObjectSize {
	p := func(v any) *int64 {
		if v == nil {
			return nil
		}
		return verdict.Ptr(v.(int64))
	}
	return &verdict.ObjectSize{Expected: p(expected), Actual: p(actual)}
}

// str dereferences an optional string of a detail ("" for none).
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestObjectMembersFoundByPosition: object copies in an archive are read
// by walking it once and finding each member again by the position the
// case recorded, as --rehash finds log files: a position the archive
// lacks, two rows at one position, and rows recorded before positions
// were kept (found by a name that occurs once; a repeated name cannot
// say which row is which) each give the copy its own verdict with why.
func TestObjectMembersFoundByPosition(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), objectSet())
	require.NoError(t, err)
	arc := filepath.Join(dir, "objects.tar")
	var members []archived
	for _, o := range m.Objects {
		n := rel(t, filepath.Join(m.Root, "objects"), o.Path)
		members = append(members, archived{n, slurp(t, o.Path)})
		if o.MetadataPath != "" {
			members = append(members, archived{n + ".metadata.json", slurp(t, o.MetadataPath)})
		}
		if o.AttributesPath != "" {
			members = append(members, archived{n + ".attributes.json", slurp(t, o.AttributesPath)})
		}
	}
	// One more copy of the first object under its own name again: a name
	// that occurs twice.
	members = append(members, archived{members[0].name, members[0].body})
	writeTar(t, arc, members)
	c := ingestCase(t, filepath.Join(dir, "case.db"), arc)
	for _, chunk := range []int{0, 1} {
		rep := runVerify(t, c, Options{chunk: chunk})
		assert.Equal(t, allObjects(m, nil), objectStatuses(rep), "untouched, chunk %d", chunk)
	}

	db := casetest.DB(t, c)
	rows, err := db.Query("SELECT id, member, member_index, sha256 FROM evidence WHERE kind = 's3_object' ORDER BY id")
	require.NoError(t, err)
	var ids []int64
	var names, idx []string
	seen := map[string]bool{} // SHA-256s: the rows below read each other's bytes, which must differ
	var distinct []int
	for rows.Next() {
		var id int64
		var n, ix, sha string
		require.NoError(t, rows.Scan(&id, &n, &ix, &sha))
		if !seen[sha] && n != members[0].name {
			distinct = append(distinct, len(ids))
		}
		seen[sha] = true
		ids, names, idx = append(ids, id), append(names, n), append(idx, ix)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	// verify --json names each member exactly: its name and position.
	var out bytes.Buffer
	require.NoError(t, runVerify(t, c, Options{}).WriteJSON(context.Background(), c, &out))
	var doc struct {
		Items []struct {
			Kind        string   `json:"kind"`
			EvidenceID  int64    `json:"evidence_id"`
			MemberPath  []string `json:"member_path"`
			MemberIndex []int    `json:"member_index"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	named := 0
	for _, it := range doc.Items {
		if i := slices.Index(ids, it.EvidenceID); it.Kind == KindObject && i >= 0 {
			named++
			assert.Equal(t, []string{names[i]}, it.MemberPath)
			assert.Equal(t, idx[i], store.EncodeMemberIndex(it.MemberIndex))
		}
	}
	assert.Equal(t, len(ids), named)
	// The two rows of the repeated name, and four others.
	var dup, other []int
	for i := range ids {
		if names[i] == members[0].name {
			dup = append(dup, i)
		} else {
			other = append(other, i)
		}
	}
	require.Len(t, dup, 2)
	require.GreaterOrEqual(t, len(other), 5)
	require.GreaterOrEqual(t, len(distinct), 3)
	o1, o2, o3 := distinct[0], distinct[1], distinct[2]
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE evidence SET member_index = '[99999]' WHERE id = ?", []any{ids[o1]}},  // no such position
		{"UPDATE evidence SET member_index = ? WHERE id = ?", []any{idx[o3], ids[o2]}}, // recorded at another one's position too
	} {
		_, err := db.Exec(q.sql, q.args...)
		require.NoError(t, err)
	}
	for _, chunk := range []int{0, 1} {
		rep := runVerify(t, c, Options{chunk: chunk})
		assertOneVerdictPerItem(t, c)
		byID := map[int64]Item{}
		for _, it := range rep.Items {
			if it.Kind == KindObject {
				byID[it.EvidenceID] = it
			}
		}
		reason := func(id int64) string { return objectDetail(byID[id]).Reason }
		assert.Equal(t, StatusUnverifiable, byID[ids[o1]].Status)
		assert.Contains(t, reason(ids[o1]), "member "+names[o1]+" (position [99999]) not found in archive "+arc)
		// Of the two rows at one position, the one with the lower id is
		// judged on the bytes there, which are not its own; the other
		// cannot be told apart.
		lo, hi := o2, o3
		if ids[hi] < ids[lo] {
			lo, hi = hi, lo
		}
		if lo == o2 {
			assert.Equal(t, StatusChangedSinceIngest, byID[ids[lo]].Status)
		} else {
			assert.Equal(t, StatusValid, byID[ids[lo]].Status)
		}
		assert.Equal(t, StatusUnverifiable, byID[ids[hi]].Status)
		assert.Contains(t, reason(ids[hi]), "member "+names[o3]+" of archive "+arc+" is named by more than one evidence row")
		for _, i := range other {
			if i != o1 && i != o2 && i != o3 {
				assert.Equal(t, StatusValid, byID[ids[i]].Status, names[i])
			}
		}
	}

	// Every row of the archive recorded before positions were kept: a
	// name that occurs once finds its row; the repeated one cannot.
	_, err = db.Exec("UPDATE evidence SET member_index = NULL WHERE path = ?", arc)
	require.NoError(t, err)
	for _, chunk := range []int{0, 1} {
		rep := runVerify(t, c, Options{chunk: chunk})
		assertOneVerdictPerItem(t, c)
		st := map[int64]string{}
		for _, it := range rep.Items {
			if it.Kind == KindObject {
				st[it.EvidenceID] = it.Status
				if names[slices.Index(ids, it.EvidenceID)] == members[0].name {
					assert.Equal(t, StatusUnverifiable, it.Status)
					assert.Contains(t, objectDetail(it).Reason, "member "+members[0].name+" occurs 2 times in archive "+arc+" and this evidence row was recorded before positions were kept")
				} else {
					assert.Equal(t, StatusValid, it.Status, it.Path)
				}
			}
		}
		assert.Len(t, st, len(ids))
	}
}
