package lake_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/lake"
)

const (
	hashA = "de85a48b8a363033c891abd723181243620a3af3b6505f0a44db77e147e9c188"
	hashB = "5b918b3fb6e1f00ea4a004eb40223a87c75f4bf4cf69a75e47843144d3fbaf80"
)

// signJSON is a well-formed sign file with member text replaced: each
// pair in repl is (old, new) applied to the template.
func signJSON(repl ...string) string {
	s := `{"version":"1.0","region":"us-east-1",` +
		`"files":[{"fileHashValue":"` + hashA + `","fileName":"result_1.csv.gz"},{"fileHashValue":"` + hashB + `","fileName":"result_2.csv.gz"}],` +
		`"hashAlgorithm":"SHA-256","signatureAlgorithm":"SHA256withRSA","queryCompleteTime":"2022-05-10T22:06:30Z",` +
		`"hashSignature":"0a1b","publicKeyFingerprint":"67b9fa73676d86966b449dd677850753"}`
	return strings.NewReplacer(repl...).Replace(s)
}

func TestLakeParseSignFile(t *testing.T) {
	sf, err := lake.ParseSignFile([]byte(signJSON(`"version"`, `"extra":{"a":[1,2]},"version"`)))
	require.NoError(t, err, "unknown members are tolerated")
	assert.Equal(t, []lake.FileEntry{{"result_1.csv.gz", hashA}, {"result_2.csv.gz", hashB}}, sf.Files)
	assert.Equal(t, []byte{0x0a, 0x1b}, sf.Signature)
	assert.Equal(t, hashA+" "+hashB, string(sf.StringToSign()), "hashes in files order, one space, no trailing space")

	sf, err = lake.ParseSignFile([]byte(signJSON(`"version":"1.0",`, ``)))
	require.NoError(t, err, "version is optional")
	assert.Equal(t, "", sf.Version)

	// The string to sign keeps the hashes as written.
	upper := strings.ToUpper(hashA)
	sf, err = lake.ParseSignFile([]byte(signJSON(hashA, upper)))
	require.NoError(t, err)
	assert.Equal(t, upper+" "+hashB, string(sf.StringToSign()))
}

func TestLakeParseSignFileProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // every problem, in order
	}{
		{"empty", "", []string{"empty"}},
		{"not json", "{not json", []string{"not JSON at offset 2: invalid character 'n' looking for beginning of object key string"}},
		{"array", "[]", []string{"is an array, not a JSON object"}},
		{"trailing", signJSON() + "{}", []string{"not JSON at offset 464: invalid character '{' after top-level value"}},
		{"bom", "\xef\xbb\xbf" + signJSON(), []string{"starts with a UTF-8 byte-order mark"}},
		{"bad utf8", signJSON("us-east-1", "us-\xffeast-1"), []string{"not valid UTF-8 (first bad byte at offset 30)"}},
		{"duplicate member", signJSON(`"region":"us-east-1"`, `"region":"us-east-1","region":"eu-west-1"`), []string{`member "region" appears more than once`}},
		{"case differs", signJSON(`"region"`, `"Region"`), []string{`no "region"`}},
		{"missing files", signJSON(`"files"`, `"filez"`), []string{`no "files"`}},
		{"files null", signJSON(`"files":[`, `"files":null,"x":[`), []string{`"files" is null, not an array`}},
		{"empty files", `{"region":"r","files":[],"hashAlgorithm":"SHA-256","signatureAlgorithm":"SHA256withRSA","queryCompleteTime":"2022-05-10T22:06:30Z","hashSignature":"00","publicKeyFingerprint":"67b9fa73676d86966b449dd677850753"}`,
			[]string{`"files" is empty: the sign file lists no result file`}},
		{"region number", signJSON(`"region":"us-east-1"`, `"region":1`), []string{`"region" is a number, not a string`}},
		{"region empty", signJSON(`"region":"us-east-1"`, `"region":""`), []string{`"region" is empty`}},
		{"version bool", signJSON(`"version":"1.0"`, `"version":true`), []string{`"version" is a boolean, not a string`}},
		{"hash algorithm", signJSON(`"SHA-256"`, `"MD5"`), []string{`"hashAlgorithm" is "MD5", want "SHA-256"`}},
		{"signature algorithm", signJSON(`"SHA256withRSA"`, `"SHA1withRSA"`), []string{`"signatureAlgorithm" is "SHA1withRSA", want "SHA256withRSA"`}},
		{"time", signJSON(`2022-05-10T22:06:30Z`, `10 May 2022`), []string{`"queryCompleteTime" "10 May 2022" is not an RFC 3339 time`}},
		{"signature hex", signJSON(`"0a1b"`, `"0a1g"`), []string{`"hashSignature" is not hex: encoding/hex: invalid byte: U+0067 'g'`}},
		{"signature odd", signJSON(`"0a1b"`, `"0a1"`), []string{`"hashSignature" is not hex: encoding/hex: odd length hex string`}},
		{"signature empty", signJSON(`"0a1b"`, `""`), []string{`"hashSignature" is empty`}},
		{"fingerprint", signJSON(`67b9fa73676d86966b449dd677850753`, `67b9fa73`), []string{`"publicKeyFingerprint" "67b9fa73" is not 32 hex digits`}},
		{"missing signature and fingerprint", signJSON(`"hashSignature":"0a1b","publicKeyFingerprint":"67b9fa73676d86966b449dd677850753"`, `"x":0`),
			[]string{`no "hashSignature"`, `no "publicKeyFingerprint"`}},
		{"entry not object", signJSON(`{"fileHashValue":"`+hashA+`","fileName":"result_1.csv.gz"}`, `"result_1.csv.gz"`), []string{`files[0]: is a string, not a JSON object`}},
		{"entry no name", signJSON(`,"fileName":"result_1.csv.gz"`, ``), []string{`files[0]: no "fileName"`}},
		{"entry no hash", signJSON(`"fileHashValue":"`+hashB+`",`, ``), []string{`files[1]: no "fileHashValue"`}},
		{"entry name number", signJSON(`"result_1.csv.gz"`, `1`), []string{`files[0]: "fileName" is a number, not a string`}},
		{"entry duplicate member", signJSON(`"fileName":"result_1.csv.gz"`, `"fileName":"result_1.csv.gz","fileName":"x"`), []string{`files[0]: member "fileName" appears more than once`}},
		{"hash short", signJSON(hashA, hashA[:63]), []string{`files[0]: fileHashValue "` + hashA[:63] + `" of "result_1.csv.gz" is not 64 hex digits (a SHA-256)`}},
		{"duplicate name", signJSON(`result_2.csv.gz`, `result_1.csv.gz`), []string{`files[1]: fileName "result_1.csv.gz" is also files[0]`}},
		{"slash", signJSON(`"result_2.csv.gz"`, `"../result_2.csv.gz"`), []string{`files[1]: fileName "../result_2.csv.gz" contains a path separator`}},
		{"backslash", signJSON(`"result_2.csv.gz"`, `"a\\b.csv.gz"`), []string{`files[1]: fileName "a\\b.csv.gz" contains a path separator`}},
		{"dotdot", signJSON(`"result_2.csv.gz"`, `".."`), []string{`files[1]: fileName ".." contains ".."`}},
		{"dot", signJSON(`"result_2.csv.gz"`, `"."`), []string{`files[1]: fileName "." is not a file name`}},
		{"empty name", signJSON(`"result_2.csv.gz"`, `""`), []string{`files[1]: fileName "" is empty`}},
		{"control", signJSON(`"result_2.csv.gz"`, `"a\nb"`), []string{`files[1]: fileName "a\nb" contains a control character`}},
		{"several", signJSON(`"SHA-256"`, `"sha256"`, `"0a1b"`, `"zz"`, `result_2.csv.gz`, `result_1.csv.gz`),
			[]string{`"hashAlgorithm" is "sha256", want "SHA-256"`, `"hashSignature" is not hex: encoding/hex: invalid byte: U+007A 'z'`,
				`files[1]: fileName "result_1.csv.gz" is also files[0]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf, err := lake.ParseSignFile([]byte(tt.in))
			require.NotNil(t, sf)
			var fe *lake.FormatError
			require.True(t, errors.As(err, &fe), "ParseSignFile(%q) err = %v, want a *FormatError", tt.in, err)
			assert.Equal(t, tt.want, fe.Problems)
			assert.Equal(t, tt.want, sf.Problems)
			assert.Equal(t, "sign file format invalid: "+strings.Join(tt.want, "; "), err.Error())
		})
	}
}

// Well-formed entries of a format_invalid sign file are kept, so its files
// are unverified (listed, untrusted) rather than unreferenced.
func TestLakeFormatInvalidKeepsEntries(t *testing.T) {
	in := signJSON(`"SHA-256"`, `"MD5"`)
	signs := []lake.SignInput{{Path: "q/result_sign.json", Data: []byte(in)}}
	results := []lake.ResultInput{{Path: "q/result_1.csv.gz", SHA256: hashA, Size: 3}}
	sv, rv, err := lake.Classify(signs, results, nil)
	require.NoError(t, err)
	checkInvariants(t, signs, results, sv, rv)
	assert.Equal(t, lake.StatusFormatInvalid, sv[0].Status)
	assert.Equal(t, `"hashAlgorithm" is "MD5", want "SHA-256"`, sv[0].Reason)
	assert.Equal(t, map[string]string{"q/result_1.csv.gz": lake.StatusUnverified, "q/result_2.csv.gz": lake.StatusMissing}, statuses(rv))
}

func TestLakeSignFileTooLarge(t *testing.T) {
	big := append([]byte(signJSON()), bytes.Repeat([]byte(" "), lake.MaxSignFileSize)...)
	sf, err := lake.ParseSignFile(big)
	assert.EqualError(t, err, "sign file format invalid: larger than 16777216 bytes, the most a sign file may be")
	assert.Empty(t, sf.Files)

	sf, err = lake.ReadSignFile(bytes.NewReader(big))
	assert.EqualError(t, err, "sign file format invalid: larger than 16777216 bytes, the most a sign file may be")
	assert.NotNil(t, sf)

	sf, err = lake.ReadSignFile(strings.NewReader(signJSON()))
	require.NoError(t, err)
	assert.Len(t, sf.Files, 2)

	_, err = lake.ReadSignFile(errReader{})
	assert.EqualError(t, err, "read sign file: disk on fire")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
