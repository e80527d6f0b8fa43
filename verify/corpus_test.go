package verify

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/testcorpus"
)

// TestCorpusDigests runs verify over the real digest bodies in the corpus
// (an anonymised real digest and the AWS documentation samples) with the
// documentation's three real keys as trust anchors. No key is published
// for the real digest and no signature for the samples, so none can be
// valid; what is checked is that each is parsed, placed and judged for
// the right reason.
func TestCorpusDigests(t *testing.T) {
	real := testcorpus.Path(t, "cloudtrail-digest", "elastic-integrations", "test-cloudtrail-digest-json.log")
	sample := testcorpus.Path(t, "awsdocs-examples", "cloudtrail-user-guide", "digest-file-sample.json")
	empty := testcorpus.Path(t, "awsdocs-examples", "cloudtrail-user-guide", "digest-file-empty-sample.json")
	keys := testcorpus.Path(t, "cloudtrail-public-keys", "awsdocs-cloudtrail-user-guide", "list-public-keys-sample-3keys.json")
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.db"), real, sample, empty)
	a, err := LoadTrustAnchors([]string{keys})
	require.NoError(t, err)
	require.Len(t, a.Keys, 3)
	rep := runVerify(t, c, Options{Anchors: a})
	const (
		realKey    = "AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz"
		realPrev   = "AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T183649Z.json.gz"
		sampleKey  = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz"
		samplePrev = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz"
		emptyKey   = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_example-trail-name_us-east-2_20150820T180131Z.json.gz"
		emptyPrev  = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_example-trail-name_us-east-2_20150820T170131Z.json.gz"
	)
	assert.Equal(t, map[string]string{
		"digest " + realKey:    StatusKeyUnknown, // 47aaa19f... is not published
		"digest " + realPrev:   StatusMissing,
		"digest " + sampleKey:  StatusKeyNotValidAtTime, // the doc's SPKI key 31e8b543... ends before the sample's time
		"digest " + samplePrev: StatusMissing,
		"digest " + emptyKey:   StatusKeyNotValidAtTime,
		"digest " + emptyPrev:  StatusMissing,
		"log AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz": StatusMissing,
		"log AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1835Z_OPJhVNodH1gY760s.json.gz": StatusMissing,
		"log AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1915Z_TIKlbLnJ6IwUxqxw.json.gz": StatusMissing,
		"log AWSLogs/123456789123/CloudTrail/us-west-2/2020/09/11/123456789123_CloudTrail_us-west-2_20200911T1930Z_l2pGqVS53QcGdAkp.json.gz": StatusMissing,
	}, statuses(rep))
	for _, it := range rep.Items {
		switch it.S3Key {
		case realKey:
			assert.Equal(t, "alice-bucket", it.S3Bucket)
			assert.Equal(t, real, it.Path)
			assert.Equal(t, "47aaa19f7eec22e9bd0b5e58cfade8cb", det(it.Detail)["fingerprint"])
			// The exact bytes, trailing newline included.
			assert.Equal(t, "c9ebd8ad4ac1cbfbc425f0b32c5ea6d3b80d01d49dbfebaf7b870480aadf8002", det(it.Detail)["sha256"])
			assert.Equal(t, "2020-09-11T18:36:49Z", det(it.Detail)["digest_start_time"])
			assert.Equal(t, "2020-09-11T19:36:49Z", det(it.Detail)["digest_end_time"])
			assert.Equal(t, false, det(it.Detail)["starting_digest"])
			assert.Equal(t, "123456789123", it.Account)
			assert.Equal(t, "us-west-2", it.Region)
			assert.Equal(t, "leh-ct-test", it.Trail)
		case realPrev:
			// Kept as written: 63 hex characters in this anonymised copy.
			assert.Equal(t, "531914fcfa0dbacf0c9dd1475a1fdcb5dea6e85921409f3c3ec0ba39063c860", det(it.Detail)["expected_sha256"])
			assert.Equal(t, "2020-09-11T18:36:49Z", det(it.Detail)["expected_end_time"])
		case sampleKey:
			assert.Equal(t, "e54be22e06fe342543dc87eb018017339cce2851a3c41312cc059e01bd4c5a06", det(it.Detail)["sha256"])
			assert.Equal(t, "S3-bucket-name", it.S3Bucket)
		}
	}
}
