package verdict

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A member that is absent, null or a string stays so through a decode
// and an encode: the three mean different things to a reader.
func TestDecodeDetailKeepsNullAndAbsent(t *testing.T) {
	for _, raw := range []string{
		`{"reason":"r","referenced_by":null}`,
		`{"reason":"r","referenced_by":"AWSLogs/x.json.gz"}`,
		`{"reason":"r"}`,
		`{"signature_source":null,"older_digest_in_evidence":"k","starting_digest":false}`,
	} {
		d, err := DecodeDetail(KindDigest, []byte(raw))
		require.NoError(t, err, raw)
		b, err := json.Marshal(d)
		require.NoError(t, err)
		assert.JSONEq(t, raw, string(b))
	}
	d, err := DecodeDetail(KindDigest, []byte(`{"referenced_by":null}`))
	require.NoError(t, err)
	assert.True(t, d.(*DigestDetail).ReferencedBy.Set)
	assert.False(t, d.(*DigestDetail).ReferencedBy.Valid)
}

// A member the model does not know is an error, never read as absent (a
// renamed member must not pass silently).
func TestDecodeDetailRefusesUnknownMembers(t *testing.T) {
	_, err := DecodeDetail(KindLog, []byte(`{"covering_digest":"d","coverng_digest":"d"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "coverng_digest")
	_, err = DecodeDetail("bucket", []byte(`{}`))
	assert.ErrorContains(t, err, `unknown item kind "bucket"`)
	d, err := DecodeDetail(KindObject, nil)
	require.NoError(t, err)
	assert.Equal(t, &ObjectDetail{}, d)
}
