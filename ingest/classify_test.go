package ingest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

// itemRow is what a case says about one item, for comparing runs.
type itemRow struct {
	Kind, Format, Error, SHA256, ContentSHA256, S3Key, Account string
	Records                                                    int
}

func itemRows(t *testing.T, c *store.Case) map[string]itemRow {
	t.Helper()
	rows, err := casetest.DB(t, c).Query(`SELECT path, member, kind, coalesce(format, ''), coalesce(error, ''), sha256,
		coalesce(content_sha256, ''), coalesce(s3_key, ''), coalesce(account_id, ''), coalesce(record_count, 0) FROM evidence`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]itemRow{}
	for rows.Next() {
		var p, m string
		var r itemRow
		require.NoError(t, rows.Scan(&p, &m, &r.Kind, &r.Format, &r.Error, &r.SHA256, &r.ContentSHA256, &r.S3Key, &r.Account, &r.Records))
		out[p+"!/"+m] = r
	}
	require.NoError(t, rows.Err())
	return out
}

// kindSet writes an item of every kind the corpus and the fixtures do not
// cover: keys as PEM and DER, an inventory manifest with its data file, an
// access log known by its name alone, a CloudTrail log known by content
// alone, an object beside its sidecars, and a large metadata listing.
func kindSet(t *testing.T, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "keys", "us-east-1.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	writeFile(t, filepath.Join(dir, "keys", "eu-west-1.der"), der)
	manifest, err := os.ReadFile(testcorpus.Path(t, "awsdocs-examples", "s3-user-guide", "inventory-manifest-csv-sample.json"))
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "inv", "cfg", "2024-01-01T00-00Z", "manifest.json"), manifest)
	csv, err := os.ReadFile(filepath.Join("s3meta", "testdata", "inventory.csv"))
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "inv", "cfg", "data", "0001.csv.gz"), gz(t, csv))
	writeFile(t, filepath.Join(dir, "access", "2019-02-06-00-00-38-5C2F7A1B9E0D4C3B"), []byte("damaged first line\n"+accessLine))
	writeFile(t, filepath.Join(dir, "flat", "renamed.bin"), gz(t, []byte(recordsA)))
	writeFile(t, filepath.Join(dir, "bucket", "obj.txt"), []byte("object"))
	writeFile(t, filepath.Join(dir, "bucket", "obj.txt.metadata.json"), []byte(`{"ETag":"\"5ab557c937e38f15291c04b7e99544ad\"","ContentLength":6,"LastModified":"2024-01-01T00:00:00Z"}`))
	var big strings.Builder
	big.WriteString(`{"IsTruncated":false,"KeyMarker":"","Versions":[`)
	for i := 0; i < 3000; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"ETag":"\"5ab557c937e38f15291c04b7e99544ad\"","Size":6,"Key":"k%d","VersionId":"v%d","IsLatest":true,"LastModified":"2024-01-01T00:00:00Z"}`, i, i)
	}
	big.WriteString(`],"Name":"bucket","MaxKeys":1000}`)
	require.Greater(t, big.Len(), headSize, "the listing outgrows the classification head")
	writeFile(t, filepath.Join(dir, "listing.json"), []byte(big.String()))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("analyst notes\n"))
}

const accessLine = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \"-\" \"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1\n"

// TestClassifyAtAnySize: every item gets the same kind, format, record
// count, error and hashes whether it is buffered and parsed by the workers
// or streamed by the walker (MaxBuffered of 1 byte streams everything),
// for every kind: the real formats of the corpus, a generated export and
// the kinds neither covers.
func TestClassifyAtAnySize(t *testing.T) {
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "export"), fixtures.DemoOptions())
	require.NoError(t, err)
	kindSet(t, filepath.Join(dir, "more"))
	sources := []string{testcorpus.Dir(t), m.Root, filepath.Join(dir, "more")}
	var runs []map[string]itemRow
	var counts []map[string]int
	for _, maxBuffered := range []int64{0, 1} {
		c := newCase(t)
		// One worker: an inventory data file needs its manifest parsed
		// first, which two workers may not do in order.
		_, err := Run(context.Background(), c, sources, Options{MaxBuffered: maxBuffered, Workers: 1})
		require.NoError(t, err)
		runs = append(runs, itemRows(t, c))
		counts = append(counts, caseCounts(t, c))
	}
	assert.Equal(t, counts[0], counts[1], "the same rows")
	kinds := map[string]int{}
	for k, buffered := range runs[0] {
		streamed, ok := runs[1][k]
		if assert.True(t, ok, "%s only buffered", k) {
			assert.Equal(t, buffered, streamed, k)
		}
		kinds[buffered.Kind]++
	}
	assert.Len(t, runs[1], len(runs[0]))
	for _, kind := range []string{store.KindCloudTrailLog, store.KindCloudTrailDig, store.KindPublicKeys, store.KindObjectMetadata,
		store.KindAccessLog, store.KindObject, store.KindUnknown, store.KindArchive, store.KindSource} {
		assert.NotZero(t, kinds[kind], "no item of kind %s in the set", kind)
	}
	more := func(rel string) itemRow { return runs[1][filepath.Join(dir, "more", rel)+"!/"] }
	assert.Equal(t, store.KindPublicKeys, more("keys/us-east-1.pem").Kind)
	assert.Equal(t, store.KindPublicKeys, more("keys/eu-west-1.der").Kind)
	assert.Equal(t, itemRow{Kind: store.KindObjectMetadata, Format: "inventory-csv", Records: 3}, stripHashes(more("inv/cfg/data/0001.csv.gz")))
	assert.Equal(t, store.KindAccessLog, more("access/2019-02-06-00-00-38-5C2F7A1B9E0D4C3B").Kind)
	assert.Equal(t, store.KindCloudTrailLog, more("flat/renamed.bin").Kind)
	assert.Equal(t, store.KindObject, more("bucket/obj.txt").Kind)
	assert.Equal(t, itemRow{Kind: store.KindObjectMetadata, Format: "list-object-versions", Records: 3000}, stripHashes(more("listing.json")))
}

func stripHashes(r itemRow) itemRow {
	r.SHA256, r.ContentSHA256 = "", ""
	return r
}

// TestInventoryManifestBeforeItsData: with several parse workers, an
// inventory data file walked after its manifest.json always finds the
// manifest's schema (the manifest is parsed by the walker, before the data
// file is handed on), run after run.
func TestInventoryManifestBeforeItsData(t *testing.T) {
	dir := t.TempDir()
	manifest, err := os.ReadFile(testcorpus.Path(t, "awsdocs-examples", "s3-user-guide", "inventory-manifest-csv-sample.json"))
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "inv", "cfg", "2024-01-01T00-00Z", "manifest.json"), manifest)
	csv, err := os.ReadFile(filepath.Join("s3meta", "testdata", "inventory.csv"))
	require.NoError(t, err)
	for i := 0; i < 4; i++ {
		writeFile(t, filepath.Join(dir, "inv", "cfg", "data", fmt.Sprintf("%04d.csv.gz", i)), gz(t, csv))
	}
	for run := 0; run < 20; run++ {
		c := newCase(t)
		sum, err := Run(context.Background(), c, []string{filepath.Join(dir, "inv")}, Options{Workers: 4})
		require.NoError(t, err)
		require.Empty(t, sum.Errors, "run %d", run)
	}
}
