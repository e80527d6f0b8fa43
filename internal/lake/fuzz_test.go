package lake_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/lake"
)

// formatSignFile renders a well-formed SignFile back to JSON.
func formatSignFile(t *testing.T, sf *lake.SignFile) []byte {
	type entry struct {
		Hash string `json:"fileHashValue"`
		Name string `json:"fileName"`
	}
	doc := map[string]any{"region": sf.Region, "hashAlgorithm": sf.HashAlgorithm, "signatureAlgorithm": sf.SignatureAlgorithm,
		"queryCompleteTime": sf.QueryCompleteTime.Format(time.RFC3339Nano), "hashSignature": sf.HashSignature,
		"publicKeyFingerprint": sf.PublicKeyFingerprint}
	if sf.Version != "" {
		doc["version"] = sf.Version
	}
	files := []entry{}
	for _, f := range sf.Files {
		files = append(files, entry{f.SHA256, f.Name})
	}
	doc["files"] = files
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

func FuzzParseSignFile(f *testing.F) {
	for _, p := range []string{"testdata/awscli-result_sign.json", "testdata/awsdocs-result_sign.json"} {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(signJSON()))
	f.Add([]byte(signJSON(`"version":"1.0",`, `"version":"1.0","version":"2",`)))
	f.Add([]byte(signJSON(`result_2.csv.gz`, `../x`)))
	f.Add([]byte(`{"files":[{}],"hashSignature":1}`))
	f.Add([]byte(`{"files":[{"fileName":"a","fileName":"b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := lake.ParseSignFile(data)
		require.NotNil(t, sf)
		assert.Equal(t, len(sf.Problems) == 0, err == nil)
		names := map[string]bool{}
		for _, e := range sf.Files {
			assert.False(t, names[e.Name], "duplicate name %q kept", e.Name)
			names[e.Name] = true
			assert.NotContains(t, e.Name, "/")
			assert.NotContains(t, e.Name, "..")
			assert.Len(t, e.SHA256, 64)
		}
		if n := len(sf.Files); n > 0 {
			assert.Len(t, sf.StringToSign(), 65*n-1)
		}

		// Whatever it is, Classify gives it one verdict and keeps its promises.
		signs := []lake.SignInput{{Path: "q/result_sign.json", Data: data}}
		var results []lake.ResultInput
		for i, e := range sf.Files {
			if i%2 == 0 {
				results = append(results, lake.ResultInput{Path: "q/" + e.Name, SHA256: e.SHA256, Size: 1})
			}
		}
		results = append(results, lake.ResultInput{Path: "q/result_99.csv.gz", SHA256: strings.Repeat("0", 64)})
		sv, rv, err := lake.Classify(signs, results, nil)
		require.NoError(t, err)
		checkInvariants(t, signs, results, sv, rv)

		// parse → format → parse gives the same file.
		if len(sf.Problems) == 0 {
			again, err := lake.ParseSignFile(formatSignFile(t, sf))
			require.NoError(t, err)
			assert.Equal(t, sf, again)
		}
	})
}

func FuzzResultHeader(f *testing.F) {
	f.Add([]byte("eventID,eventName\n1,GetObject\n2,\"Put,Object\"\n"), false)
	f.Add([]byte("# Execution Time: 2022-05-24T21:51:51.723951Z \na,b\n1,2"), false)
	f.Add([]byte("a,b\n\"x\ny\",2\r\n"), false)
	f.Add([]byte("a,\"b\n"), false)
	f.Add(gz(f, "a,b\n1,2\n"), true)
	f.Add(gz(f, "a,b\n1,2\n")[:15], true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		in := data
		if !raw {
			in = gz(t, string(data))
		}
		header, rows, err := lake.ResultHeader(bytes.NewReader(in))
		if err == nil {
			assert.GreaterOrEqual(t, rows, int64(0))
			if header == nil {
				assert.Equal(t, int64(0), rows, "rows without a header")
			}
		}
		if raw || len(data) >= lake.MaxFields {
			return
		}
		// Below the limits, the answer is encoding/csv's on the text after
		// the '#' preamble lines.
		text := data
		for bytes.HasPrefix(text, []byte("#")) {
			i := bytes.IndexByte(text, '\n')
			if i < 0 {
				text = nil
				break
			}
			text = text[i+1:]
		}
		all, wantErr := csv.NewReader(bytes.NewReader(text)).ReadAll()
		if wantErr != nil {
			assert.Error(t, err, "encoding/csv says %v", wantErr)
			return
		}
		require.NoError(t, err)
		if len(all) == 0 {
			assert.Nil(t, header)
			assert.Equal(t, int64(0), rows)
			return
		}
		assert.Equal(t, all[0], header)
		assert.Equal(t, int64(len(all)-1), rows)
	})
}
