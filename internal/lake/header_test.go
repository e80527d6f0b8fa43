package lake_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/lake"
)

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, p := range parts {
		_, err := zw.Write([]byte(p))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestLakeResultHeader(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		header []string
		rows   int64
		err    string
	}{
		{"rows", gz(t, "eventID,eventName\n1,GetObject\n2,\"Put,Object\"\n"), []string{"eventID", "eventName"}, 2, ""},
		{"crlf no final newline", gz(t, "a,b\r\n1,2\r\n3,4"), []string{"a", "b"}, 2, ""},
		{"quoted newline", gz(t, "a,b\n\"x\ny\",2\n"), []string{"a", "b"}, 1, ""},
		{"header only", gz(t, "a,b\n"), []string{"a", "b"}, 0, ""},
		{"empty csv", gz(t, ""), nil, 0, ""},
		{"preamble", gz(t, "# Execution Time: 2022-05-24T21:51:51.723951Z \n#x \"\na,b\n1,2\n"), []string{"a", "b"}, 1, ""},
		{"only preamble", gz(t, "# Execution Time: 2022-05-24T21:51:51.723951Z "), nil, 0, ""},
		{"hash in a row is data", gz(t, "a,b\n#1,2\n"), []string{"a", "b"}, 1, ""},
		{"ragged", gz(t, "a,b\n1,2\n3\n"), []string{"a", "b"}, 1, "result csv row 2: record on line 3: wrong number of fields"},
		{"bare quote", gz(t, "a,b\n1,x\"y\n"), []string{"a", "b"}, 0, `result csv row 1: parse error on line 2, column 4: bare " in non-quoted-field`},
		{"not gzip", []byte("a,b\n1,2\n3,4\n"), nil, 0, "result file: not gzip: gzip: invalid header"},
		{"no bytes", nil, nil, 0, "result file: empty, not gzip"},
		{"truncated", gz(t, "a,b\n1,2\n")[:20], []string{"a", "b"}, 1, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, rows, err := lake.ResultHeader(bytes.NewReader(tt.in))
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
			}
			assert.Equal(t, tt.header, header)
			assert.Equal(t, tt.rows, rows)
		})
	}
}

func TestLakeResultHeaderLimits(t *testing.T) {
	big := strings.Repeat("x", lake.MaxRecordSize)
	_, rows, err := lake.ResultHeader(bytes.NewReader(gz(t, "a,b\n1,2\n3,", big, "\n5,6\n")))
	require.Error(t, err)
	assert.True(t, errors.Is(err, lake.ErrRecordTooLarge), "%v", err)
	assert.Equal(t, "result csv row 2 (line 3): over 4194304 bytes: record too large", err.Error())
	assert.Equal(t, int64(1), rows)

	// A quoted field spanning lines is one record.
	_, _, err = lake.ResultHeader(bytes.NewReader(gz(t, "a,b\n1,\"", strings.Repeat("y\n", lake.MaxRecordSize/2), "\"\n")))
	assert.EqualError(t, err, "result csv row 1 (line 2): over 4194304 bytes: record too large")

	// Just under the limit is fine.
	_, rows, err = lake.ResultHeader(bytes.NewReader(gz(t, "a,b\n1,", strings.Repeat("z", lake.MaxRecordSize-3), "\n")))
	require.NoError(t, err)
	assert.Equal(t, int64(1), rows)

	_, _, err = lake.ResultHeader(bytes.NewReader(gz(t, strings.Repeat("a,", lake.MaxFields), "b\n")))
	assert.True(t, errors.Is(err, lake.ErrTooManyFields), "%v", err)
	assert.EqualError(t, err, "result csv row 0 (line 1): over 10000 fields: record has too many fields")

	_, _, err = lake.ResultHeader(bytes.NewReader(gz(t, "#", big, "\na,b\n")))
	assert.EqualError(t, err, "result csv preamble line 1: over 4194304 bytes: record too large")
}
