package shard

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOf(t *testing.T) {
	const log = "bkt/AWSLogs/o-aa11bb22cc/111122223333/CloudTrail/us-east-1/2024/03/04/111122223333_CloudTrail_us-east-1_20240304T0005Z_abcdefABCDEF0123.json.gz"
	const digest = "bkt/AWSLogs/o-aa11bb22cc/111122223333/CloudTrail-Digest/us-east-1/2024/03/04/111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20240304T010000Z.json.gz"
	const backfill = "bkt/AWSLogs/o-aa11bb22cc/111122223333/CloudTrail-Digest/us-east-1/2024/03/04/111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20240304T010000Z_backfill.json.gz"
	const other = "bkt/AWSLogs/o-aa11bb22cc/111122223333/CloudTrail/eu-west-1/2024/03/04/111122223333_CloudTrail_eu-west-1_20240304T0005Z_abcdefABCDEF0123.json.gz"
	id, a, ok := Of(log)
	assert.True(t, ok)
	assert.True(t, ValidID(id), id)
	assert.Equal(t, Area{Prefix: "bkt", OrgID: "o-aa11bb22cc", Account: "111122223333", Region: "us-east-1"}, a)
	for _, n := range []string{digest, backfill, digest + ".metadata.json", log + ".attributes.json", "outer.tar!/" + log[len("bkt/"):]} {
		got, _, _ := Of(n)
		if n == "outer.tar!/"+log[len("bkt/"):] {
			assert.NotEqual(t, id, got, "another prefix is another area")
			continue
		}
		assert.Equal(t, id, got, "a chain's digests, backfill digests and sidecars go with its log files: %s", n)
	}
	o, _, _ := Of(other)
	assert.NotEqual(t, id, o, "another region is another shard")
	for _, n := range []string{"keys/us-east-1.json", "access-logs/2024-03-04-00-00-00-ABCDEF", "bkt/hello/a.txt", "bkt/hello/a.txt.metadata.json", ""} {
		got, _, ok := Of(n)
		assert.False(t, ok, n)
		assert.Equal(t, Rest, got, n)
	}
	assert.True(t, ValidID(Rest))
	for _, bad := range []string{"area-", "area-0123456789ab0", "AREA-0123456789ab", "rest ", "../x"} {
		assert.False(t, ValidID(bad), bad)
	}
}
