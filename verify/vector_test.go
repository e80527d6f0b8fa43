package verify

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	vecBucket = "amzn-s3-demo-bucket"
	vecKey1   = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20150817T150131Z.json.gz"
	vecKey2   = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20150817T160131Z.json.gz"
	vecLogKey = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz"
)

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func write(t *testing.T, p string, b []byte) {
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, b, 0o644))
}

// writeVector lays the Appendix 1 chain out as an export: digest 2 with
// its head-object sidecar, digest 1 without (its signature comes from
// digest 2), the log file digest 1 lists, and the key. flat puts every
// file in one folder.
func writeVector(t *testing.T, dir string, flat bool, keyRegion string) (evidence, keyFile string) {
	evidence = filepath.Join(dir, "evidence")
	at := func(key string) string {
		if flat {
			return filepath.Join(evidence, filepath.Base(key))
		}
		return filepath.Join(evidence, vecBucket, filepath.FromSlash(key))
	}
	write(t, at(vecKey1), gz(t, []byte(vecDigest1)))
	write(t, at(vecKey2), gz(t, []byte(vecDigest2)))
	write(t, at(vecKey2)+".metadata.json", []byte(`{
    "AcceptRanges": "bytes",
    "LastModified": "Mon, 17 Aug 2015 16:09:12 GMT",
    "ContentLength": 800,
    "ETag": "\"0b1a2f2e8d1c7a9f0b1a2f2e8d1c7a9f\"",
    "ContentType": "application/json",
    "Metadata": {"signature": "`+vecSig2+`", "signature-algorithm": "SHA256withRSA"}
}
`))
	write(t, at(vecLogKey), gz(t, []byte(`{"Records":[]}`)))
	keyFile = filepath.Join(dir, "keys", keyRegion, "list-public-keys.json")
	write(t, keyFile, []byte(`{"PublicKeyList":[{"Value":"`+vecKey+`","ValidityStartTime":"2015-08-01T00:00:00Z","ValidityEndTime":"2015-09-01T00:00:00Z","Fingerprint":"6d16b0ec7d6852afcea389b7e770030c"}]}`))
	return evidence, keyFile
}

func TestAppendix1ChainInCase(t *testing.T) {
	for _, tt := range []struct {
		name      string
		flat      bool
		keyRegion string
		locatedBy string
		keyNote   bool
	}{
		{"bucket folder", false, "us-east-2", "bucket_folder", false},
		{"flattened copy", true, "us-east-2", "file_name", false},
		{"key of another region", false, "eu-west-1", "bucket_folder", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ev, keyFile := writeVector(t, dir, tt.flat, tt.keyRegion)
			c := ingestCase(t, filepath.Join(dir, "case.db"), ev)
			a, err := LoadTrustAnchors([]string{keyFile})
			require.NoError(t, err)
			rep := runVerify(t, c, Options{Anchors: a})
			assert.Equal(t, map[string]string{"digest " + vecKey1: "valid", "digest " + vecKey2: "valid", "log " + vecLogKey: "valid"}, statuses(rep))
			assert.Empty(t, rep.Findings)
			for _, it := range rep.Items {
				assert.Equal(t, vecBucket, it.S3Bucket)
				switch it.S3Key {
				case vecKey1:
					assert.Equal(t, "successor", det(it.Detail)["signature_source"])
					assert.Equal(t, tt.locatedBy, det(it.Detail)["located_by"])
				case vecKey2:
					assert.Equal(t, "metadata", det(it.Detail)["signature_source"])
				case vecLogKey:
					assert.Equal(t, "26a792db36a3afba23b1dd277fcc9f15a7313c4a92e4e4cc0494846af345ecff", det(it.Detail)["actual_sha256"])
				}
				if it.Kind == KindDigest {
					_, noted := det(it.Detail)["key_note"]
					assert.Equal(t, tt.keyNote, noted, "key_note: %v", det(it.Detail)["key_note"])
				}
			}
		})
	}
}

// TestAppendix1Negative changes the vector in one way each and checks
// the resulting statuses.
func TestAppendix1Negative(t *testing.T) {
	dir := t.TempDir()
	ev, keyFile := writeVector(t, dir, false, "us-east-2")
	// Replace the sidecar signature of digest 2 by digest 1's: saved
	// metadata no longer verifies.
	side := filepath.Join(ev, vecBucket, filepath.FromSlash(vecKey2)) + ".metadata.json"
	b, err := os.ReadFile(side)
	require.NoError(t, err)
	write(t, side, bytes.Replace(b, []byte(vecSig2), []byte(vecSig1), 1))
	c := ingestCase(t, filepath.Join(dir, "case.db"), ev)
	a, err := LoadTrustAnchors([]string{keyFile})
	require.NoError(t, err)
	rep := runVerify(t, c, Options{Anchors: a})
	assert.Equal(t, map[string]string{"digest " + vecKey1: "valid", "digest " + vecKey2: StatusSignatureInvalid, "log " + vecLogKey: "valid"}, statuses(rep))

	// Without --public-keys nothing is trusted.
	rep = runVerify(t, c, Options{})
	assert.Equal(t, map[string]string{"digest " + vecKey1: StatusKeyUnknown, "digest " + vecKey2: StatusKeyUnknown, "log " + vecLogKey: StatusUnverified}, statuses(rep))
}
