package cloudtrail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

func utc(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestParsePublicKeysCorpus(t *testing.T) {
	type want struct {
		fp, enc    string
		derLen     int
		start, end *time.Time
	}
	tests := []struct {
		file string
		keys []want
	}{
		{"aws-cli/list-public-keys-example.json", []want{
			{"7f3f401420072e50a65a141430817ab3", EncodingPKCS1, 270, utc("2016-01-18T00:25:02Z"), utc("2016-02-17T00:25:02Z")},
		}},
		{"awsdocs-cloudtrail-user-guide/list-public-keys-sample-3keys.json", []want{
			{"8eba5db5bea9b640d1c96a77256fe7f2", EncodingPKCS1, 270, utc("2015-07-08T01:04:01Z"), utc("2015-08-07T01:04:01Z")},
			{"8933b39ddc64d26d8e14ffbf6566fee4", EncodingPKCS1, 270, utc("2015-06-18T01:04:20Z"), utc("2015-07-18T01:04:20Z")},
			{"31e8b5433410dfb61a9dc45cc65b22ff", EncodingSPKI, 294, utc("2015-06-18T01:02:50Z"), utc("2015-07-18T01:02:50Z")},
		}},
	}
	total := 0
	for _, tt := range tests {
		data, err := os.ReadFile(testcorpus.Path(t, "cloudtrail-public-keys", tt.file))
		require.NoError(t, err)
		assert.True(t, LooksLikePublicKeys(data), tt.file)
		assert.False(t, LooksLikeRecords(data), tt.file)
		assert.False(t, LooksLikeDigest(data), tt.file)
		keys, err := ParsePublicKeys(tt.file, data)
		require.NoError(t, err, tt.file)
		require.Len(t, keys, len(tt.keys), tt.file)
		for i, w := range tt.keys {
			k := keys[i]
			assert.Empty(t, k.Error, "%s key %d", tt.file, i)
			assert.Equal(t, w.fp, k.Fingerprint, "%s key %d computed fingerprint", tt.file, i)
			assert.Equal(t, w.fp, k.ListedFingerprint, "%s key %d listed fingerprint", tt.file, i)
			assert.Equal(t, w.enc, k.Encoding)
			assert.Len(t, k.DER, w.derLen)
			assert.Equal(t, 2048, k.Bits)
			assert.Equal(t, w.start, k.ValidityStart)
			assert.Equal(t, w.end, k.ValidityEnd)
			assert.Equal(t, "", k.Region)
			_, err := RSAPublicKey(k)
			assert.NoError(t, err)
		}
		total += len(keys)
	}
	assert.Equal(t, 4, total)
}

func TestParsePublicKeysTampered(t *testing.T) {
	data, err := os.ReadFile(testcorpus.Path(t, "cloudtrail-public-keys", "awsdocs-cloudtrail-user-guide", "list-public-keys-sample-3keys.json"))
	require.NoError(t, err)
	// Flip one byte inside the modulus of the second key's DER.
	const value = "MIIBCgKCAQEApfYL2FiZhpN74LNWVUzhR+VheYhwhYm8w0n5Gf6i95ylW5kBAWKVEmnAQG7BvS5g9SMqFDQx52fW7NWV44IvfJ2xGXT+wT+DgR6ZQ+6yxskQNqV5YcXj4Aa5Zz4jJfsYjDuO2MDTZNIzNvBNzaBJ+r2WIWAJ/Xq54kyF63B6WE38vKuDE7nSd1FqQuEoNBFLPInvgggYe2Ym1Refe2z71wNcJ2kY+q0h1BSHrSM8RWuJIw7MXwF9iQncg9jYzUlNJomozQzAG5wSRfbplcCYNY40xvGd/aAmO0m+Y+XFMrKwtLCwseHPvj843qVno6x4BJN9bpWnoPo9sdsbGoiK3QIDAQAB"
	der, err := base64.StdEncoding.DecodeString(value)
	require.NoError(t, err)
	der[100] ^= 0x01
	tampered := bytes.Replace(data, []byte(value), []byte(base64.StdEncoding.EncodeToString(der)), 1)
	require.NotEqual(t, data, tampered)

	keys, err := ParsePublicKeys("keys.json", tampered)
	require.NoError(t, err)
	require.Len(t, keys, 3)
	assert.Empty(t, keys[0].Error)
	assert.Empty(t, keys[2].Error)
	k := keys[1]
	sum := md5.Sum(der)
	assert.Equal(t, hex.EncodeToString(sum[:]), k.Fingerprint)
	assert.Equal(t, "8933b39ddc64d26d8e14ffbf6566fee4", k.ListedFingerprint)
	assert.Equal(t, "publicKeyList[1]: listed fingerprint 8933b39ddc64d26d8e14ffbf6566fee4 differs from MD5 of the key "+k.Fingerprint, k.Error)
	assert.Equal(t, der, k.DER, "the key is still returned")
	_, err = RSAPublicKey(k)
	assert.ErrorContains(t, err, "differs from MD5")
}

func TestParsePublicKeysAppendix1(t *testing.T) {
	b64 := strings.TrimSpace(string(readTestdata(t, "appendix1", "public-key.b64")))
	der, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)

	keys, err := ParsePublicKeys("evidence/keys/us-east-2/list-public-keys.json", readTestdata(t, "appendix1", "list-public-keys.json"))
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, store.PublicKey{
		Fingerprint:       "6d16b0ec7d6852afcea389b7e770030c",
		ListedFingerprint: "6d16b0ec7d6852afcea389b7e770030c",
		DER:               der,
		Encoding:          EncodingPKCS1,
		Bits:              2048,
		ValidityStart:     utc("2015-08-17T00:00:00Z"),
		ValidityEnd:       utc("2015-09-16T00:00:00Z"),
		Region:            "us-east-2",
	}, keys[0])

	// The same key as raw DER.
	keys, err = ParsePublicKeys("us-east-2.der", der)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, "6d16b0ec7d6852afcea389b7e770030c", keys[0].Fingerprint)
	assert.Equal(t, "us-east-2", keys[0].Region)
}

func TestParsePublicKeysPEMAndDER(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	fp := func(der []byte) string {
		s := md5.Sum(der)
		return hex.EncodeToString(s[:])
	}
	pemFile := append([]byte("comment before\n"), pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})...)
	pemFile = append(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})...)

	keys, err := ParsePublicKeys("/keys/eu-west-1/signing.pem", pemFile)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, store.PublicKey{Fingerprint: fp(pkcs1), DER: pkcs1, Encoding: EncodingPKCS1, Bits: 2048, Region: "eu-west-1"}, keys[0])
	assert.Equal(t, store.PublicKey{Fingerprint: fp(spki), DER: spki, Encoding: EncodingSPKI, Bits: 2048, Region: "eu-west-1"}, keys[1])
	assert.NotEqual(t, keys[0].Fingerprint, keys[1].Fingerprint, "fingerprints cover the DER as supplied")
	assert.True(t, LooksLikePublicKeys(pemFile))

	for _, der := range [][]byte{pkcs1, spki} {
		keys, err := ParsePublicKeys("key.der", der)
		require.NoError(t, err)
		require.Len(t, keys, 1)
		assert.Equal(t, fp(der), keys[0].Fingerprint)
		assert.Empty(t, keys[0].Error)
		assert.True(t, LooksLikePublicKeys(der))
		pub, err := RSAPublicKey(keys[0])
		require.NoError(t, err)
		assert.True(t, pub.Equal(&priv.PublicKey))
	}

	// A PKCS#1 key in a "PUBLIC KEY" block is reported, not guessed at.
	keys, err = ParsePublicKeys("k.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkcs1}))
	require.NoError(t, err)
	assert.Equal(t, `PEM block "PUBLIC KEY" holds a pkcs1 key`, keys[0].Error)

	// Private keys and certificates are not public keys.
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	keys, err = ParsePublicKeys("k.pem", append(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}), privPEM...))
	assert.ErrorContains(t, err, `parse public keys k.pem: PEM block 1: unsupported type "RSA PRIVATE KEY"`)
	assert.Len(t, keys, 1, "keys before the bad block are returned")

	// An SPKI key that is not RSA.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	require.NoError(t, err)
	keys, err = ParsePublicKeys("ec.der", ecDER)
	require.NoError(t, err)
	assert.Equal(t, EncodingSPKI, keys[0].Encoding)
	assert.Equal(t, "SPKI key is *ecdsa.PublicKey, not RSA", keys[0].Error)

	// Trailing bytes after the DER make it a different, unparsable blob.
	keys, err = ParsePublicKeys("k.der", append(slicesClone(pkcs1), 0))
	require.NoError(t, err)
	assert.Contains(t, keys[0].Error, "not a PKCS#1 or SPKI RSA public key")
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

func TestParsePublicKeysListErrors(t *testing.T) {
	value := base64.StdEncoding.EncodeToString(readTestdataDER(t))
	tests := []struct {
		in      string
		err     string // whole-file error
		keyErrs []string
	}{
		{`{"PublicKeyList":[]}`, "", nil},
		{`{"NextToken":"x"}`, "no PublicKeyList in JSON object", nil},
		{`{"PublicKeyList":[],"publicKeyList":[]}`, `both "PublicKeyList" and "publicKeyList" present`, nil},
		{`{"PublicKeyList":{}}`, "PublicKeyList: json: cannot unmarshal JSON object into Go []cloudtrail.keyEntry", nil},
		{`{"PublicKeyList":[{"Value":"MAA=","Value":"MAA="}]}`, `PublicKeyList: jsontext: duplicate object member name "Value"`, nil},
		{`{"PublicKeyList":[{"value":"MAA="}]}`, "", []string{"PublicKeyList[0]: no Value"}},
		{`{"PublicKeyList":[`, "unexpected end of content", nil},
		{`{"PublicKeyList":[{"Fingerprint":"ab"}]}`, "", []string{"PublicKeyList[0]: no Value"}},
		{`{"PublicKeyList":[{"Value":"!!"}]}`, "", []string{"PublicKeyList[0]: Value is not base64: illegal base64 data at input byte 0"}},
		{`{"PublicKeyList":[{"Value":"` + value + `","ValidityStartTime":"soon","ValidityEndTime":true}]}`, "",
			[]string{`PublicKeyList[0]: ValidityStartTime: unrecognised timestamp "soon"; ValidityEndTime: want a number or string, got a boolean`}},
		{`{"PublicKeyList":[{"Value":"` + value + `","ValidityStartTime":1439769600,"ValidityEndTime":"Mon, 17 Aug 2015 00:00:00 GMT","Fingerprint":"6D16B0EC7D6852AFCEA389B7E770030C"}]}`, "", []string{""}},
		{"not keys", "not list-public-keys JSON, PEM or a DER key", nil},
	}
	for _, tt := range tests {
		keys, err := ParsePublicKeys("k.json", []byte(tt.in))
		if tt.err == "" {
			assert.NoError(t, err, tt.in)
		} else {
			assert.ErrorContains(t, err, tt.err, tt.in)
		}
		var got []string
		for _, k := range keys {
			got = append(got, k.Error)
		}
		assert.Equal(t, tt.keyErrs, got, tt.in)
	}
}

func TestParsePublicKeysEpochForms(t *testing.T) {
	value := base64.StdEncoding.EncodeToString(readTestdataDER(t))
	in := `{"PublicKeyList":[{"Value":"` + value + `","ValidityStartTime":1439769600.0,"ValidityEndTime":"1439769600.5"}]}`
	keys, err := ParsePublicKeys("k.json", []byte(in))
	require.NoError(t, err)
	assert.Equal(t, utc("2015-08-17T00:00:00Z"), keys[0].ValidityStart)
	assert.Equal(t, utc("2015-08-17T00:00:00.5Z"), keys[0].ValidityEnd)
}

func readTestdataDER(t *testing.T) []byte {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(readTestdata(t, "appendix1", "public-key.b64"))))
	require.NoError(t, err)
	return der
}

func TestRegionFromPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"keys/us-east-1/list-public-keys.json", "us-east-1"},
		{"us-east-1.json", "us-east-1"},
		{"/a/eu-central-2/b/ap-southeast-5.pem", "ap-southeast-5"},
		{`C:\keys\us-gov-west-1\k.json`, "us-gov-west-1"},
		{"keys/us-isob-east-1/k.der", "us-isob-east-1"},
		{"keys/list-public-keys.json", ""},
		{"us-east-1x/k.json", ""},
		{"keys/sagov-westsouth-1r.json", ""},
	}
	for _, tt := range tests {
		if got := regionFromPath(tt.in); got != tt.want {
			t.Errorf("regionFromPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLooksLikePublicKeys(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"PublicKeyList":[`, true},
		{"\xEF\xBB\xBF{\n \"publicKeyList\": [", true},
		{`{"Records":[]}`, false},
		{"-----BEGIN RSA PUBLIC KEY-----\nMIIB", true},
		{"-----BEGIN CERTIFICATE-----\nMIIB", false},
		{"\x30\x82\x01\x0a\x02", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := LooksLikePublicKeys([]byte(tt.in)); got != tt.want {
			t.Errorf("LooksLikePublicKeys(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzParsePublicKeys checks that ParsePublicKeys never panics and never
// returns a key without an error whose fingerprint is not MD5(DER) or
// disagrees with the listed one.
func FuzzParsePublicKeys(f *testing.F) {
	if b, err := os.ReadFile("testdata/appendix1/list-public-keys.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----\n"))
	f.Add([]byte(`{"publicKeyList":[{"Value":"MAA=","ValidityStartTime":"1436317441.0","Fingerprint":"x"}]}`))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, _ := ParsePublicKeys("keys/us-east-1/k.json", data)
		for _, k := range keys {
			if k.Region != "us-east-1" {
				t.Fatalf("region %q", k.Region)
			}
			if k.Error != "" {
				continue
			}
			sum := md5.Sum(k.DER)
			if k.Fingerprint != hex.EncodeToString(sum[:]) {
				t.Fatalf("fingerprint %s is not MD5 of DER", k.Fingerprint)
			}
			if k.ListedFingerprint != "" && !strings.EqualFold(k.ListedFingerprint, k.Fingerprint) {
				t.Fatalf("listed %s accepted for %s", k.ListedFingerprint, k.Fingerprint)
			}
			if _, err := RSAPublicKey(k); err != nil {
				t.Fatalf("key without Error does not parse: %v", err)
			}
		}
	})
}
