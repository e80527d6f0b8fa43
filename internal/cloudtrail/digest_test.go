package cloudtrail

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

func strPtr(s string) *string { return &s }

func readTestdata(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, elem...)...))
	require.NoError(t, err)
	return b
}

func TestParseDigestElastic(t *testing.T) {
	content, err := os.ReadFile(testcorpus.Path(t, "cloudtrail-digest", "elastic-integrations", "test-cloudtrail-digest-json.log"))
	require.NoError(t, err)
	require.Len(t, content, 2466)
	require.True(t, LooksLikeDigest(head(content)))
	assert.False(t, LooksLikeRecords(head(content)))

	d, err := ParseDigest(content)
	require.NoError(t, err)
	assert.Equal(t, content, d.Raw, "Raw keeps the trailing newline")
	assert.Equal(t, "123456789123", d.AWSAccountID)
	assert.Equal(t, "2020-09-11T18:36:49Z", d.DigestStartTime)
	assert.Equal(t, "2020-09-11T19:36:49Z", d.DigestEndTime)
	assert.Equal(t, "alice-bucket", d.DigestS3Bucket)
	assert.Equal(t, "AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz", d.DigestS3Object)
	assert.Equal(t, "47aaa19f7eec22e9bd0b5e58cfade8cb", d.DigestPublicKeyFingerprint)
	assert.Equal(t, "SHA256withRSA", d.DigestSignatureAlgorithm)
	assert.Equal(t, strPtr("2020-09-11T19:26:24Z"), d.NewestEventTime)
	assert.Equal(t, strPtr("2020-09-11T18:32:04Z"), d.OldestEventTime)
	assert.Equal(t, strPtr("alice-bucket"), d.PreviousDigestS3Bucket)
	assert.Equal(t, strPtr("AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T183649Z.json.gz"), d.PreviousDigestS3Object)
	// 63 hex digits in the published file: kept as is.
	assert.Equal(t, strPtr("531914fcfa0dbacf0c9dd1475a1fdcb5dea6e85921409f3c3ec0ba39063c860"), d.PreviousDigestHashValue)
	assert.Len(t, *d.PreviousDigestHashValue, 63)
	assert.Equal(t, strPtr("SHA-256"), d.PreviousDigestHashAlgorithm)
	require.NotNil(t, d.PreviousDigestSignature)
	assert.Len(t, *d.PreviousDigestSignature, 512)
	assert.True(t, strings.HasPrefix(*d.PreviousDigestSignature, "10e0872f32fa1d29"))
	assert.True(t, strings.HasSuffix(*d.PreviousDigestSignature, "e3b30e653e9987"))
	assert.Equal(t, []store.DigestLog{
		{S3Bucket: "alice-bucket", S3Object: "AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1930Z_l2pGqVS53QcGdAkp.json.gz",
			HashValue: "420784a5bbc12e9ac442451e8ec1356744fdeabf4fee0d2222508db6d448139c", HashAlgorithm: "SHA-256",
			NewestEventTime: strPtr("2020-09-11T19:26:24Z"), OldestEventTime: strPtr("2020-09-11T19:26:24Z")},
		{S3Bucket: "alice-bucket", S3Object: "AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1915Z_TIKlbLnJ6IwUxqxw.json.gz",
			HashValue: "4e1eb2a8b41d032cbb16e5449fc8f3eac304e7d43017a391b37c788c77336196", HashAlgorithm: "SHA-256",
			NewestEventTime: strPtr("2020-09-11T19:11:18Z"), OldestEventTime: strPtr("2020-09-11T19:11:18Z")},
		{S3Bucket: "alice-bucket", S3Object: "AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1835Z_OPJhVNodH1gY760s.json.gz",
			HashValue: "2695aeb3b4c1f021fe76e0b36f5ac15e557c41c58af6eef282d77ef056210d70", HashAlgorithm: "SHA-256",
			NewestEventTime: strPtr("2020-09-11T18:32:04Z"), OldestEventTime: strPtr("2020-09-11T18:32:04Z")},
	}, d.LogFiles)
}

func TestParseDigestAWSDocSamples(t *testing.T) {
	content, err := os.ReadFile(testcorpus.Path(t, "awsdocs-examples", "cloudtrail-user-guide", "digest-file-sample.json"))
	require.NoError(t, err)
	d, info, err := ParseDigestInfo(content)
	require.NoError(t, err)
	assert.Equal(t, DigestInfo{Keys: digestKeys}, info)
	assert.Equal(t, "111122223333", d.AWSAccountID)
	assert.Equal(t, "2015-08-17T14:01:31Z", d.DigestStartTime)
	assert.Equal(t, "2015-08-17T15:01:31Z", d.DigestEndTime)
	assert.Equal(t, "S3-bucket-name", d.DigestS3Bucket)
	assert.Equal(t, "31e8b5433410dfb61a9dc45cc65b22ff", d.DigestPublicKeyFingerprint)
	assert.Equal(t, strPtr("2015-08-17T14:52:27Z"), d.NewestEventTime)
	assert.Equal(t, strPtr("97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d"), d.PreviousDigestHashValue)
	require.Len(t, d.LogFiles, 1)
	assert.Equal(t, "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6", d.LogFiles[0].HashValue)
	assert.Equal(t, strPtr("2015-08-17T14:42:27Z"), d.LogFiles[0].OldestEventTime)

	content, err = os.ReadFile(testcorpus.Path(t, "awsdocs-examples", "cloudtrail-user-guide", "digest-file-empty-sample.json"))
	require.NoError(t, err)
	d, info, err = ParseDigestInfo(content)
	require.NoError(t, err)
	assert.Equal(t, []string{"newestEventTime", "oldestEventTime"}, info.Null)
	assert.Nil(t, d.NewestEventTime)
	assert.Nil(t, d.OldestEventTime)
	assert.True(t, info.Has("newestEventTime"), "null is present, not absent")
	assert.Equal(t, "2015-08-20T18:01:31Z", d.DigestEndTime)
	assert.Equal(t, "example-bucket-name", d.DigestS3Bucket)
	assert.Equal(t, strPtr("ed96c4bac9eaa8fe9716ca0e515da51938be651b1db31d781956416a9d05cdfa"), d.PreviousDigestHashValue)
	assert.NotNil(t, d.LogFiles)
	assert.Empty(t, d.LogFiles)
	assert.Equal(t, content, d.Raw)
}

// TestParseDigestAppendix1 parses FORMATS.md Appendix 1 and checks the
// parsed fields by verifying both signatures with the parsed key.
func TestParseDigestAppendix1(t *testing.T) {
	keys, err := ParsePublicKeys("appendix1/list-public-keys.json", readTestdata(t, "appendix1", "list-public-keys.json"))
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Empty(t, keys[0].Error)
	pub, err := RSAPublicKey(keys[0])
	require.NoError(t, err)

	d1raw := readTestdata(t, "appendix1", "digest1.json")
	d1, info1, err := ParseDigestInfo(d1raw)
	require.NoError(t, err)
	assert.Equal(t, &store.Digest{
		AWSAccountID:               "111122223333",
		DigestStartTime:            "2015-08-17T14:01:31Z",
		DigestEndTime:              "2015-08-17T15:01:31Z",
		DigestS3Bucket:             "amzn-s3-demo-bucket",
		DigestS3Object:             "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20150817T150131Z.json.gz",
		DigestPublicKeyFingerprint: "6d16b0ec7d6852afcea389b7e770030c",
		DigestSignatureAlgorithm:   "SHA256withRSA",
		LogFiles: []store.DigestLog{{
			S3Bucket:      "amzn-s3-demo-bucket",
			S3Object:      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
			HashValue:     "26a792db36a3afba23b1dd277fcc9f15a7313c4a92e4e4cc0494846af345ecff",
			HashAlgorithm: "SHA-256",
		}},
		Raw: d1raw,
	}, d1)
	assert.Equal(t, []string{"newestEventTime", "oldestEventTime", "previousDigestS3Bucket", "previousDigestS3Object",
		"previousDigestHashValue", "previousDigestHashAlgorithm", "previousDigestSignature"}, info1.Null)
	assert.Equal(t, keys[0].Fingerprint, d1.DigestPublicKeyFingerprint)
	assert.Equal(t, "26a792db36a3afba23b1dd277fcc9f15a7313c4a92e4e4cc0494846af345ecff", sha256Hex([]byte(`{"Records":[]}`)))

	d2raw := readTestdata(t, "appendix1", "digest2.json")
	d2, err := ParseDigest(d2raw)
	require.NoError(t, err)
	assert.Equal(t, "2015-08-17T15:01:31Z", d2.DigestStartTime)
	assert.Equal(t, "2015-08-17T16:01:31Z", d2.DigestEndTime)
	assert.Nil(t, d2.NewestEventTime)
	assert.Equal(t, strPtr("amzn-s3-demo-bucket"), d2.PreviousDigestS3Bucket)
	assert.Equal(t, &d1.DigestS3Object, d2.PreviousDigestS3Object)
	assert.Equal(t, strPtr("57ccc696b7677f014400e1cbc020e8c59cb532ed24875005d9110a33e38305f3"), d2.PreviousDigestHashValue)
	assert.Equal(t, sha256Hex(d1raw), *d2.PreviousDigestHashValue)
	assert.Equal(t, strPtr("SHA-256"), d2.PreviousDigestHashAlgorithm)
	sig1 := strings.TrimSpace(string(readTestdata(t, "appendix1", "digest1.signature")))
	assert.Equal(t, &sig1, d2.PreviousDigestSignature)
	assert.Equal(t, []store.DigestLog{}, d2.LogFiles)

	// The string to sign (FORMATS.md D.4) built from the parsed fields
	// verifies with the parsed key; a one-byte change does not.
	for _, c := range []struct {
		d   *store.Digest
		sig string
	}{{d1, sig1}, {d2, strings.TrimSpace(string(readTestdata(t, "appendix1", "digest2.signature")))}} {
		prev := "null"
		if c.d.PreviousDigestSignature != nil {
			prev = *c.d.PreviousDigestSignature
		}
		msg := c.d.DigestEndTime + "\n" + c.d.DigestS3Bucket + "/" + c.d.DigestS3Object + "\n" + sha256Hex(c.d.Raw) + "\n" + prev
		sig, err := hex.DecodeString(c.sig)
		require.NoError(t, err)
		h := sha256.Sum256([]byte(msg))
		assert.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig), "digest %s", c.d.DigestEndTime)
		h = sha256.Sum256([]byte(msg + " "))
		assert.Error(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig))
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestParseDigestMissingKeys(t *testing.T) {
	content := []byte(`{"awsAccountId":"1","digestS3Bucket":null,"digestS3Object":"o","digestPublicKeyFingerprint":"f","digestEndTime":"e","logFiles":[]}`)
	d, info, err := ParseDigestInfo(content)
	var mk *MissingKeysError
	require.ErrorAs(t, err, &mk)
	assert.Equal(t, []string{"previousDigestSignature", "digestStartTime"}, mk.Keys)
	assert.Equal(t, "digest lacks required keys: previousDigestSignature, digestStartTime", err.Error())
	require.NotNil(t, d, "the parsed digest is still returned")
	assert.Equal(t, "o", d.DigestS3Object)
	assert.Equal(t, "", d.DigestS3Bucket)
	assert.Equal(t, []string{"digestS3Bucket"}, info.Null)
	assert.True(t, info.Has("digestS3Bucket"))
	assert.False(t, info.Has("digestStartTime"))
	assert.Equal(t, mk.Keys, info.Missing)
}

func TestParseDigestUnknownKeys(t *testing.T) {
	d1 := readTestdata(t, "appendix1", "digest1.json")
	content := append([]byte(`{"extra":{"a":[1]},`), d1[1:]...)
	d, info, err := ParseDigestInfo(content)
	require.NoError(t, err)
	assert.Equal(t, []string{"extra"}, info.Unknown)
	assert.Equal(t, "111122223333", d.AWSAccountID)
}

func TestParseDigestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "unexpected end of content"},
		{`[]`, "want '{' to start the digest object"},
		{`{"digestS3Bucket":5}`, `key "digestS3Bucket" at byte offset 18: want a string or null, got a number`},
		{`{"newestEventTime":true}`, `key "newestEventTime" at byte offset 19: want a string or null, got a boolean`},
		{`{"digestS3Bucket":"a","digestS3Bucket":"b"}`, `duplicate key "digestS3Bucket"`},
		{`{"logFiles":{}}`, `key "logFiles" at byte offset 12: want an array or null, got an object`},
		{`{"logFiles":[1]}`, "logFiles[0] at byte offset 13: want an object, got a number"},
		{`{"logFiles":[{"hashValue":1}]}`, `key "logFiles[0].hashValue" at byte offset 26`},
		{`{"logFiles":[{"s3Object":"a","s3Object":"b"}]}`, `logFiles[0]: duplicate key "s3Object"`},
		{`{"logFiles":[{}`, "unexpected end of content"},
		{`{"awsAccountId":"1"}x`, "unexpected 'x' after the top-level value"},
		{`{"awsAccountId":"1}`, "invalid JSON at byte offset 19"},
	}
	for _, tt := range tests {
		d, err := ParseDigest([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) || d != nil {
			t.Errorf("ParseDigest(%s) = %v, %v; want nil and an error containing %q", tt.in, d, err, tt.want)
		}
	}
}

func TestLooksLikeDigest(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"awsAccountId":"1","digestStartTime":"x"`, true},
		{"\xEF\xBB\xBF {\n \"digestS3Object\" : \"x\"", true},
		{`{"awsAccountId":"1","logFiles":[]}`, true},
		{`{"awsAccountId":"1"}`, false},
		{`{"Records":[{"digestStartTime":"x"}]}`, false},
		{`["digestStartTime"]`, false},
		{`{"x":"digestStartTime"}`, false},
	}
	for _, tt := range tests {
		if got := LooksLikeDigest([]byte(tt.in)); got != tt.want {
			t.Errorf("LooksLikeDigest(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// formatDigest writes d back as JSON, using info to tell null from absent.
func formatDigest(d *store.Digest, info DigestInfo) []byte {
	var buf bytes.Buffer
	str := func(key, v string) any {
		if slices.Contains(info.Null, key) {
			return nil
		}
		return v
	}
	ptr := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	vals := map[string]any{
		"awsAccountId":                str("awsAccountId", d.AWSAccountID),
		"digestStartTime":             str("digestStartTime", d.DigestStartTime),
		"digestEndTime":               str("digestEndTime", d.DigestEndTime),
		"digestS3Bucket":              str("digestS3Bucket", d.DigestS3Bucket),
		"digestS3Object":              str("digestS3Object", d.DigestS3Object),
		"digestPublicKeyFingerprint":  str("digestPublicKeyFingerprint", d.DigestPublicKeyFingerprint),
		"digestSignatureAlgorithm":    str("digestSignatureAlgorithm", d.DigestSignatureAlgorithm),
		"newestEventTime":             ptr(d.NewestEventTime),
		"oldestEventTime":             ptr(d.OldestEventTime),
		"previousDigestS3Bucket":      ptr(d.PreviousDigestS3Bucket),
		"previousDigestS3Object":      ptr(d.PreviousDigestS3Object),
		"previousDigestHashValue":     ptr(d.PreviousDigestHashValue),
		"previousDigestHashAlgorithm": ptr(d.PreviousDigestHashAlgorithm),
		"previousDigestSignature":     ptr(d.PreviousDigestSignature),
	}
	if d.LogFiles != nil {
		var logs []map[string]any
		for _, l := range d.LogFiles {
			logs = append(logs, map[string]any{
				"s3Bucket": l.S3Bucket, "s3Object": l.S3Object, "hashValue": l.HashValue, "hashAlgorithm": l.HashAlgorithm,
				"newestEventTime": ptr(l.NewestEventTime), "oldestEventTime": ptr(l.OldestEventTime),
			})
		}
		if logs == nil {
			vals["logFiles"] = []any{}
		} else {
			vals["logFiles"] = logs
		}
	} else {
		vals["logFiles"] = nil
	}
	buf.WriteByte('{')
	n := 0
	for _, k := range info.Keys {
		v, ok := vals[k]
		if !ok {
			continue
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// FuzzParseDigest checks that ParseDigest never panics, keeps Raw, and
// that parse → format → parse gives the same digest.
func FuzzParseDigest(f *testing.F) {
	for _, p := range []string{"appendix1/digest1.json", "appendix1/digest2.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"digestS3Bucket":null,"logFiles":[{"s3Bucket":"b","newestEventTime":null}],"x":[1]}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		d, info, err := ParseDigestInfo(content)
		if d == nil {
			if err == nil {
				t.Fatal("nil digest without error")
			}
			return
		}
		if !bytes.Equal(d.Raw, content) {
			t.Fatal("Raw differs from content")
		}
		again, info2, err2 := ParseDigestInfo(formatDigest(d, info))
		if again == nil || (err == nil) != (err2 == nil) {
			t.Fatalf("re-parse: %v (first parse: %v)", err2, err)
		}
		again.Raw, d.Raw = nil, nil
		assert.Equal(t, d, again)
		known := slices.DeleteFunc(slices.Clone(info.Keys), func(k string) bool { return slices.Contains(info.Unknown, k) })
		if !slices.Equal(known, info2.Keys) {
			t.Fatalf("re-parsed keys %q, want %q", info2.Keys, known)
		}
	})
}
