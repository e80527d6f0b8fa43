package verify

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/verdict"
)

// TestRowCodecKeepsEvidenceBytes: a request or touch read back from the
// working tables is byte for byte what went in, invalid UTF-8 included
// (a key altered on its way would no longer match the evidence), and a
// damaged row is an error, not a silent default.
func TestRowCodecKeepsEvidenceBytes(t *testing.T) {
	q := verdict.S3Request{AccessLog: "logs.tar!/a\xffb", Bucket: "b", Class: "delete", ErrorCode: "-",
		HTTPStatus: "204", Key: "p\xfe/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/x\x00y.json.gz",
		Operation: "REST.DELETE.OBJECT", RemoteIP: "192.0.2.1", RequestID: "R", Requester: "arn:aws:iam::1:user/\u202emallory",
		Time: "2024-03-04T00:00:00Z", UserAgent: "", VersionID: "v", EvidenceID: 42, Line: 7, Succeeded: true}
	got, err := decodeRequestRow(encodeRequest(q))
	require.NoError(t, err)
	assert.Equal(t, q, got)
	tc := touch{Kind: KindLog, Bucket: "b", Key: "k\xff", Status: StatusMissing, Path: "", Account: "1", Region: "r",
		Trail: "t", EvidenceID: 0, Explained: true}
	gt, err := decodeTouch(encodeTouch(tc))
	require.NoError(t, err)
	assert.Equal(t, tc, gt)

	b := encodeRequest(q)
	for _, bad := range [][]byte{b[:len(b)-1], append(append([]byte{}, b...), 0), {0xff}, nil} {
		_, err := decodeRequestRow(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// TestFindingDetailAsPrinted: a finding's detail is recorded as verify
// --json prints it, "<", ">" and "&" unescaped.
func TestFindingDetailAsPrinted(t *testing.T) {
	b, err := detailJSON(map[string]any{"path": "/cases/a&b/<x>.tar"})
	require.NoError(t, err)
	assert.Equal(t, `{"path":"/cases/a&b/<x>.tar"}`, string(b))
}
