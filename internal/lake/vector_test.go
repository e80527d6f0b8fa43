package lake_test

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/lake"
)

// The aws-cli v2 test vector (testdata/PROVENANCE.md).
const (
	vectorMessage     = "5b918b3fb6e1f00ea4a004eb40223a87c75f4bf4cf69a75e47843144d3fbaf80"
	vectorFingerprint = "67b9fa73676d86966b449dd677850753" // what the sign file and aws-cli's mock say
	vectorKeyMD5      = "e00b881a39d15623efee61d0eaf2874a" // MD5 of the key's DER, how CloudTrail fingerprints keys
	vectorSignPath    = "AWSLogs/111122223333/CloudTrail-Lake/Query/2022/05/10/q/result_sign.json"
	vectorResultPath  = "AWSLogs/111122223333/CloudTrail-Lake/Query/2022/05/10/q/result_1.csv.gz"
)

func vectorKey(t *testing.T) (string, []byte, *rsa.PublicKey) {
	t.Helper()
	b64, err := os.ReadFile("testdata/awscli-sample-public-key.b64")
	require.NoError(t, err)
	value := strings.TrimSpace(string(b64))
	der, err := base64.StdEncoding.DecodeString(value)
	require.NoError(t, err)
	pub, err := x509.ParsePKCS1PublicKey(der)
	require.NoError(t, err, "SAMPLE_PUBLIC_KEY is PKCS#1")
	return value, der, pub
}

func TestLakeAWSCLIVector(t *testing.T) {
	data, err := os.ReadFile("testdata/awscli-result_sign.json")
	require.NoError(t, err)
	sf, err := lake.ParseSignFile(data)
	require.NoError(t, err)
	assert.Equal(t, "", sf.Version, "the vector has no version member")
	assert.Equal(t, "us-east-1", sf.Region)
	assert.Equal(t, []lake.FileEntry{{Name: "result_1.csv.gz", SHA256: vectorMessage}}, sf.Files)
	assert.Equal(t, "2022-05-10T22:06:30Z", sf.QueryCompleteTime.Format("2006-01-02T15:04:05Z07:00"))
	assert.Equal(t, vectorFingerprint, sf.PublicKeyFingerprint)

	msg := sf.StringToSign()
	assert.Equal(t, vectorMessage, string(msg))
	digest := sha256.Sum256(msg)

	_, der, pub := vectorKey(t)
	assert.Equal(t, 2048, pub.N.BitLen())
	require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sf.Signature), "the signature verifies with SAMPLE_PUBLIC_KEY")
	sum := md5.Sum(der)
	assert.Equal(t, vectorKeyMD5, hex.EncodeToString(sum[:]))
	assert.NotEqual(t, vectorFingerprint, vectorKeyMD5, "the vector's fingerprint is not its key's")

	signs := []lake.SignInput{{Path: vectorSignPath, Data: data}}
	results := []lake.ResultInput{{Path: vectorResultPath, SHA256: vectorMessage, Size: 1}}

	// As aws-cli's mocked ListPublicKeys hands it over: the key under
	// the sign file's fingerprint, trusted as is.
	keys := lake.NewKeySet(lake.Key{Fingerprint: vectorFingerprint, Public: pub, Source: "mock"})
	sv, rv, err := lake.Classify(signs, results, keys)
	require.NoError(t, err)
	checkInvariants(t, signs, results, sv, rv)
	require.Len(t, sv, 1)
	assert.Equal(t, lake.StatusValid, sv[0].Status, sv[0].Reason)
	assert.Equal(t, "q", sv[0].QueryID)
	assert.Equal(t, hex.EncodeToString(digest[:]), sv[0].StringToSignSHA256)
	require.Len(t, rv, 1)
	assert.Equal(t, lake.StatusValid, rv[0].Status)
	assert.Equal(t, lake.MatchFolder, rv[0].MatchedBy)

	// As list-public-keys lists a key, with the Fingerprint CloudTrail
	// computes (MD5 of the DER): the sign file names another fingerprint.
	value, _, _ := vectorKey(t)
	for _, listed := range []string{vectorKeyMD5, vectorFingerprint} {
		t.Run("listed-as-"+listed[:8], func(t *testing.T) {
			list := fmt.Sprintf(`{"PublicKeyList":[{"Value":%q,"ValidityStartTime":"2022-05-01T00:00:00Z","ValidityEndTime":"2022-06-01T00:00:00Z","Fingerprint":%q}]}`, value, listed)
			// Listed as 67b9fa73…, ParsePublicKeys flags the key (listed
			// fingerprint disagrees with MD5), so it is not trusted at all.
			keys := keysFromList(t, "keys/us-east-1/list-public-keys.json", []byte(list))
			sv, rv, err := lake.Classify(signs, results, keys)
			require.NoError(t, err)
			checkInvariants(t, signs, results, sv, rv)
			assert.Equal(t, lake.StatusKeyUnknown, sv[0].Status)
			assert.Contains(t, sv[0].Reason, "no supplied public key has fingerprint "+vectorFingerprint)
			assert.Equal(t, lake.StatusUnverified, rv[0].Status)
			assert.Equal(t, vectorMessage, rv[0].WantSHA256)
			assert.Equal(t, vectorMessage, rv[0].GotSHA256)
			assert.Equal(t, vectorSignPath, rv[0].SignPath)
			assert.Equal(t, lake.StatusKeyUnknown, rv[0].SignStatus)
		})
	}
}

func TestLakeDocSample(t *testing.T) {
	data, err := os.ReadFile("testdata/awsdocs-result_sign.json")
	require.NoError(t, err)
	sf, err := lake.ParseSignFile(data)
	require.NoError(t, err)
	assert.Equal(t, "1.0", sf.Version)
	assert.Equal(t, []lake.FileEntry{{Name: "result_1.csv.gz", SHA256: "de85a48b8a363033c891abd723181243620a3af3b6505f0a44db77e147e9c188"}}, sf.Files)
	assert.Len(t, sf.Signature, 256)

	signs := []lake.SignInput{{Path: "doc/result_sign.json", Data: data}}
	sv, rv, err := lake.Classify(signs, nil, nil)
	require.NoError(t, err)
	checkInvariants(t, signs, nil, sv, rv)
	assert.Equal(t, lake.StatusKeyUnknown, sv[0].Status)
	require.Len(t, rv, 1)
	assert.Equal(t, lake.ResultVerdict{Input: -1, Path: "doc/result_1.csv.gz", Status: lake.StatusMissing, Size: -1,
		SignPath: "doc/result_sign.json", SignStatus: lake.StatusKeyUnknown, Entry: 0, FileName: "result_1.csv.gz",
		KeyFingerprint: "67b9fa73676d86966b449dd677850753", WantSHA256: "de85a48b8a363033c891abd723181243620a3af3b6505f0a44db77e147e9c188",
		Reason: rv[0].Reason}, rv[0])
	assert.Contains(t, rv[0].Reason, "no result file is at doc/result_1.csv.gz")
}
