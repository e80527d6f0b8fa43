package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

func newCase(t *testing.T) *store.Case {
	t.Helper()
	c, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "case.db"))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func ingestPaths(t *testing.T, c *store.Case, paths ...string) *Summary {
	t.Helper()
	sum, err := Run(context.Background(), c, paths, Options{})
	require.NoError(t, err)
	return sum
}

func queryInt(t *testing.T, c *store.Case, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, casetest.DB(t, c).QueryRow(q, args...).Scan(&n), q)
	return n
}

// caseCounts is the shape of a case, for comparing runs.
func caseCounts(t *testing.T, c *store.Case) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"evidence", "ct_events", "ct_digests", "ct_digest_logs", "public_keys", "s3_object_meta", "s3_inventory_manifests", "s3_access"} {
		out[tbl] = queryInt(t, c, "SELECT count(*) FROM "+tbl)
	}
	return out
}

func TestIngestCorpus(t *testing.T) {
	corpus := testcorpus.Dir(t)
	c := newCase(t)
	before := snapshot(t, corpus)
	sum := ingestPaths(t, c, corpus)
	assert.Equal(t, before, snapshot(t, corpus), "evidence must not change")

	like := func(folder string) string { return filepath.Join(corpus, folder) + "/%" }
	events := func(folder string) int {
		return queryInt(t, c, "SELECT count(*) FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE v.path LIKE ?", like(folder))
	}
	// Exact record counts per corpus folder (PROVENANCE.md).
	assert.Equal(t, 2900, events("invictus-aws-dataset"))
	assert.Equal(t, 2900, queryInt(t, c, "SELECT count(*) FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE v.path LIKE ? AND v.format = 'records' AND e.verifiable = 1", like("invictus-aws-dataset")))
	assert.Equal(t, 310, events("stratus-red-team-detonation-logs"))
	assert.Equal(t, 0, queryInt(t, c, "SELECT count(*) FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE v.path LIKE ? AND e.verifiable = 1", like("stratus-red-team-detonation-logs")))
	// The OTRF zip holds one NDJSON file of 103 events: an archive member.
	assert.Equal(t, 103, queryInt(t, c, "SELECT count(*) FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE v.path LIKE ? AND v.member <> '' AND v.format = 'ndjson'", "%ec2_proxy_s3_exfiltration.zip"))
	assert.Equal(t, 3, queryInt(t, c, "SELECT count(*) FROM ct_digests"))
	assert.Equal(t, 4, queryInt(t, c, "SELECT count(*) FROM public_keys"))
	assert.Equal(t, 0, queryInt(t, c, "SELECT count(*) FROM public_keys WHERE error IS NOT NULL OR fingerprint <> listed_fingerprint"))
	assert.Equal(t, 41, queryInt(t, c, "SELECT count(*) FROM s3_access"))
	assert.Equal(t, 0, queryInt(t, c, "SELECT count(*) FROM s3_access WHERE parse_error IS NOT NULL"))
	assert.Equal(t, 3, queryInt(t, c, "SELECT count(*) FROM s3_inventory_manifests"))
	assert.Equal(t, 2, queryInt(t, c, "SELECT count(*) FROM s3_object_meta"))
	// No real AWS format fails to parse.
	rows, err := casetest.DB(t, c).Query("SELECT path, member, kind, error FROM evidence WHERE error IS NOT NULL")
	require.NoError(t, err)
	for rows.Next() {
		var p, m, k, e string
		require.NoError(t, rows.Scan(&p, &m, &k, &e))
		t.Errorf("corpus item failed: %s %s (%s): %s", p, m, k, e)
	}
	require.NoError(t, rows.Close())
	assert.Empty(t, sum.Errors)
	assert.Equal(t, 2900+310+103, sum.Events)
	// Every file is inventoried (plus the folders' source item, and the two zips' members).
	files := 0
	filepath.WalkDir(corpus, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	assert.Equal(t, files, queryInt(t, c, "SELECT count(*) FROM evidence WHERE member = '' AND kind NOT IN ('source')"))
	// The folder's hash is its sorted sha256sum listing, reproducible by hand.
	assert.Equal(t, folderHash(t, corpus), sum.Sources[0].SHA256)
}

// folderHash computes the documented folder hash the way the README tells
// a third party to: (cd F && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum
func folderHash(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", "(cd \"$1\" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum", "_", dir)
	out, err := cmd.Output()
	require.NoError(t, err)
	return strings.Fields(string(out))[0]
}

type fileState struct {
	sha   string
	mtime time.Time
	mode  fs.FileMode
}

// snapshot records every file's bytes, mtime and mode under dir.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fileState{mtime: fi.ModTime(), mode: fi.Mode()}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			st.sha = hex.EncodeToString(s[:])
		}
		out[p] = st
		return nil
	}))
	return out
}

const recordsA = `{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA1","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIA1","userName":"alice"},"eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2","requestParameters":{"bucketName":"b"},"responseElements":null,"requestID":"R1","eventID":"11111111-1111-1111-1111-111111111111","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data"},{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"},"eventTime":"2024-03-04T10:01:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","sourceIPAddress":"cloudtrail.amazonaws.com","userAgent":"cloudtrail.amazonaws.com","requestParameters":null,"responseElements":null,"requestID":"R2","eventID":"22222222-2222-2222-2222-222222222222","readOnly":false,"eventType":"AwsServiceEvent","recipientAccountId":"111122223333","eventCategory":"Management"}]}`

const logKey = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/111122223333_CloudTrail_us-east-1_20240304T1005Z_abcdefghijklmnop.json.gz"

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, b, 0o644))
}

// files is a small evidence set: name -> bytes.
func smallSet(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"bucket/" + logKey: gz(t, []byte(recordsA)),
		"flat/111122223333_CloudTrail_us-east-1_20240304T1010Z_zzzzzzzzzzzzzzzz.json": []byte(recordsA),
		"notes.txt": []byte("analyst notes\n"),
	}
}

func writeTar(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}))
		_, err := tw.Write(files[n])
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func writeZip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		require.NoError(t, err)
		_, err = w.Write(files[n])
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func zst(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// Every container format yields the same records.
func TestIngestFormats(t *testing.T) {
	set := smallSet(t)
	tarBytes := writeTar(t, set)
	cases := map[string]func(dir string) string{
		"dir": func(dir string) string {
			for n, b := range set {
				writeFile(t, filepath.Join(dir, "e", n), b)
			}
			return filepath.Join(dir, "e")
		},
		"tar":    func(dir string) string { p := filepath.Join(dir, "e.tar"); writeFile(t, p, tarBytes); return p },
		"tar.gz": func(dir string) string { p := filepath.Join(dir, "e.tgz"); writeFile(t, p, gz(t, tarBytes)); return p },
		"tar.zst": func(dir string) string {
			p := filepath.Join(dir, "e.tar.zst")
			writeFile(t, p, zst(t, tarBytes))
			return p
		},
		"zip": func(dir string) string { p := filepath.Join(dir, "e.zip"); writeFile(t, p, writeZip(t, set)); return p },
		"nested": func(dir string) string {
			p := filepath.Join(dir, "outer.zip")
			writeFile(t, p, writeZip(t, map[string][]byte{"inner/evidence.tar.gz": gz(t, tarBytes), "readme.txt": []byte("x")}))
			return p
		},
		"renamed": func(dir string) string {
			p := filepath.Join(dir, "evidence.bin")
			writeFile(t, p, zst(t, tarBytes))
			return p
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := mk(dir)
			c := newCase(t)
			sum := ingestPaths(t, c, src)
			assert.Empty(t, sum.Errors)
			assert.Equal(t, 4, sum.Events)
			assert.Equal(t, 2, sum.LogFiles)
			unknown := 1
			if name == "nested" {
				unknown = 2 // readme.txt beside the inner archive
			}
			assert.Equal(t, unknown, sum.Unknown)
			assert.Equal(t, 4, queryInt(t, c, "SELECT count(*) FROM ct_events"))
			assert.Equal(t, 2, queryInt(t, c, "SELECT count(*) FROM ct_events WHERE verifiable = 1 AND event_name = 'GetObject'"))
			// The S3 key comes from the AWSLogs/ suffix; the gzip content hash is recorded.
			var key, csha string
			require.NoError(t, casetest.DB(t, c).QueryRow("SELECT s3_key, content_sha256 FROM evidence WHERE s3_key LIKE 'AWSLogs/%' AND compression = 'gzip'").Scan(&key, &csha))
			assert.Equal(t, logKey, key)
			want := sha256.Sum256([]byte(recordsA))
			assert.Equal(t, hex.EncodeToString(want[:]), csha)
			// The source is an item with its own hash.
			assert.Equal(t, 1, queryInt(t, c, "SELECT count(*) FROM evidence WHERE kind = 'source' AND length(sha256) = 64"))
		})
	}
}

func TestIngestIdempotentAndEvidenceUnchanged(t *testing.T) {
	dir := t.TempDir()
	for n, b := range smallSet(t) {
		writeFile(t, filepath.Join(dir, n), b)
	}
	before := snapshot(t, dir)
	c := newCase(t)
	first := ingestPaths(t, c, dir)
	counts := caseCounts(t, c)
	second := ingestPaths(t, c, dir)
	assert.Equal(t, counts, caseCounts(t, c), "re-ingest adds nothing")
	assert.Equal(t, first.Items, second.Items)
	assert.Equal(t, first.Events, second.Events)
	assert.Equal(t, 0, second.Added)
	assert.Equal(t, first.Items, second.AlreadyInCase)
	assert.Equal(t, before, snapshot(t, dir))
	// Changing one byte of an item makes it a new item (and keeps the old one).
	p := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(p, []byte("analyst notes!\n"), 0o644))
	third := ingestPaths(t, c, dir)
	assert.Equal(t, 2, third.Added, "the changed file and the folder (whose listing hash changed)")
}

func TestIngestBadInputContinues(t *testing.T) {
	dir := t.TempDir()
	good := gz(t, []byte(recordsA))
	writeFile(t, filepath.Join(dir, "a-good", logKey), good)
	// truncated gzip of a CloudTrail log
	writeFile(t, filepath.Join(dir, "b-trunc", logKey), good[:len(good)/2])
	// malformed JSON in a CloudTrail-named file
	writeFile(t, filepath.Join(dir, "c-bad-json", logKey), gz(t, []byte(`{"Records":[{"eventVersion":"1.08",`)))
	// invalid UTF-8 inside a record
	writeFile(t, filepath.Join(dir, "d-utf8.json"), []byte("{\"Records\":[{\"eventVersion\":\"1.08\",\"eventTime\":\"2024-03-04T10:00:00Z\",\"eventName\":\"X\xff\xfe\",\"eventSource\":\"s3.amazonaws.com\",\"eventID\":\"e\"}]}"))
	// corrupt archives
	tarBytes := writeTar(t, smallSet(t))
	writeFile(t, filepath.Join(dir, "e-trunc.tar.gz"), gz(t, tarBytes)[:200])
	zipBytes := writeZip(t, smallSet(t))
	writeFile(t, filepath.Join(dir, "f-corrupt.zip"), append(zipBytes[:30:30], bytes.Repeat([]byte{0xAA}, 100)...))
	zstBytes := zst(t, tarBytes)
	writeFile(t, filepath.Join(dir, "g-trunc.tar.zst"), zstBytes[:len(zstBytes)-10])
	// a gzip bomb: 512 MiB of zeros
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < 512; i++ {
		zw.Write(zero)
	}
	zw.Close()
	writeFile(t, filepath.Join(dir, "h-bomb.json.gz"), bomb.Bytes())
	// a fifo: never opened, recorded as a special file (not an error)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "i-fifo"), 0o644))
	// an access log with a 300 MiB line between two good lines
	line := "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \"-\" \"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1\n"
	f, err := os.Create(filepath.Join(dir, "j-access", "2019-02-06-00-00-38-5C2F7A1B9E0D4C3A"))
	if os.IsNotExist(err) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "j-access"), 0o755))
		f, err = os.Create(filepath.Join(dir, "j-access", "2019-02-06-00-00-38-5C2F7A1B9E0D4C3A"))
	}
	require.NoError(t, err)
	f.WriteString(line)
	long := bytes.Repeat([]byte("x"), 1<<20)
	for i := 0; i < 300; i++ {
		f.Write(long)
	}
	f.WriteString("\n" + line)
	require.NoError(t, f.Close())

	before := snapshot(t, dir)
	c := newCase(t)
	sum, err := Run(context.Background(), c, []string{dir}, Options{})
	require.NoError(t, err)
	assert.Equal(t, before, snapshot(t, dir))

	errs := map[string]string{}
	for _, e := range sum.Errors {
		_, dup := errs[e.Path]
		assert.False(t, dup, "error reported twice for %s", e.Path)
		errs[e.Path] = e.Error
	}
	expect := map[string]string{
		filepath.Join(dir, "b-trunc", logKey):                                  "truncated",
		filepath.Join(dir, "c-bad-json", logKey):                               "offset",
		filepath.Join(dir, "e-trunc.tar.gz"):                                   "",
		filepath.Join(dir, "f-corrupt.zip"):                                    "",
		filepath.Join(dir, "g-trunc.tar.zst"):                                  "",
		filepath.Join(dir, "h-bomb.json.gz"):                                   "cap of 1000:1",
		filepath.Join(dir, "j-access", "2019-02-06-00-00-38-5C2F7A1B9E0D4C3A"): "1 lines could not be parsed",
	}
	for p, frag := range expect {
		msg, ok := errs[p]
		if !ok {
			// archive errors may be reported on a member path
			for ep, em := range errs {
				if strings.HasPrefix(ep, p) {
					msg, ok = em, true
				}
			}
		}
		if assert.True(t, ok, "no error recorded for %s; errors: %v", p, errs) {
			assert.Contains(t, msg, frag, p)
		}
	}
	assert.NotContains(t, errs, filepath.Join(dir, "i-fifo"))
	assert.Equal(t, "special fifo", queryString(t, c, "SELECT kind || ' ' || format FROM evidence WHERE path = ?", filepath.Join(dir, "i-fifo")))
	// The good items are all in.
	assert.Equal(t, 2, queryInt(t, c, "SELECT count(*) FROM ct_events e JOIN evidence v ON v.id = e.evidence_id WHERE v.path LIKE '%a-good%'"))
	assert.Equal(t, 3, queryInt(t, c, "SELECT count(*) FROM s3_access"))
	assert.Equal(t, 2, queryInt(t, c, "SELECT count(*) FROM s3_access WHERE parse_error IS NULL"))
	// The truncated log is still classified as a CloudTrail log (verify will call it format_invalid).
	assert.Equal(t, "cloudtrail_log", queryString(t, c, "SELECT kind FROM evidence WHERE path = ?", filepath.Join(dir, "b-trunc", logKey)))
	// invalid UTF-8 is kept byte for byte
	assert.Equal(t, 1, queryInt(t, c, "SELECT count(*) FROM ct_events WHERE instr(raw, 'X') > 0 AND event_id = 'e'"))
}

func queryString(t *testing.T, c *store.Case, q string, args ...any) string {
	t.Helper()
	var s string
	require.NoError(t, casetest.DB(t, c).QueryRow(q, args...).Scan(&s), q)
	return s
}

// A generated export ingests without errors, from a folder and from its
// tar.zst alike; objects pair with their sidecars in both; both read the
// same bytes of evidence, and the archive's own size is counted apart;
// progress ends with the phase after reading (the indexes).
func TestIngestFixtureExport(t *testing.T) {
	dir := t.TempDir()
	opt := fixtures.DemoOptions()
	m, err := fixtures.Generate(filepath.Join(dir, "export"), opt)
	require.NoError(t, err)
	tarZst := filepath.Join(dir, "export.tar.zst")
	require.NoError(t, fixtures.WriteTarZst(m.Root, tarZst))
	fi, err := os.Stat(tarZst)
	require.NoError(t, err)
	var bytes []int64
	for _, src := range []string{m.Root, tarZst} {
		c := newCase(t)
		var last []Progress
		sum, err := Run(context.Background(), c, []string{src}, Options{Interval: time.Hour, Progress: func(p Progress) { last = append(last, p) }})
		require.NoError(t, err)
		require.NotEmpty(t, last, src)
		final := last[len(last)-1]
		assert.Equal(t, PhaseIndexes, final.Phase, "the last progress names the work after reading: %s", src)
		assert.Equal(t, final.TotalBytes, final.DiskBytes, "every input read before the indexes: %s", src)
		for _, p := range last[:len(last)-1] {
			assert.Empty(t, p.Phase, src)
		}
		bytes = append(bytes, sum.Bytes)
		if src == tarZst {
			assert.Equal(t, fi.Size(), sum.ContainerBytes, "the archive, as stored")
		} else {
			assert.Zero(t, sum.ContainerBytes, "a folder is no archive")
		}
		assert.Empty(t, sum.Errors, src)
		assert.Equal(t, m.Events, sum.Events, src)
		assert.Equal(t, len(m.Logs), sum.LogFiles, src)
		assert.Equal(t, len(m.Digests), sum.Digests, src)
		assert.Equal(t, len(m.Objects), sum.Objects, src)
		assert.Equal(t, 0, sum.Unknown, src)
		assert.Equal(t, len(m.Digests), queryInt(t, c, "SELECT count(*) FROM s3_object_meta WHERE key LIKE 'AWSLogs/%' AND user_metadata LIKE '%signature%'"), src)
		// Every object's metadata names the object's bucket and key.
		assert.Equal(t, 0, queryInt(t, c, `SELECT count(*) FROM evidence o WHERE o.kind = 's3_object' AND NOT EXISTS (
			SELECT 1 FROM s3_object_meta s WHERE s.bucket = o.s3_bucket AND s.key = o.s3_key)`), src)
	}
	assert.Equal(t, bytes[0], bytes[1], "a folder and an archive of the same files read the same bytes")
	assert.Positive(t, bytes[0])
}
