package verify

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// wide is an organization trail with a key prefix, two accounts and two
// regions, a key rotation, a logging gap with StopLogging/StartLogging,
// an empty hour and a backfill digest.
func wide() fixtures.Options {
	return fixtures.Options{Seed: 11, Hours: 7, Accounts: []string{"111122223333", "444455556666"},
		Regions: []string{"us-east-1", "eu-west-1"}, OrgID: "o-aa111bb222", Trail: "org_management-trail",
		Prefix: "team/ct", FilesPerHour: 2, EventsPerFile: 4, RotateKeyAt: 5, GapAfter: 1, GapHours: 1,
		EmptyHours: []int{4}, Backfill: true}
}

func TestWideSetIsValidWithExplainedGaps(t *testing.T) {
	c, m := set(t, wide())
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Empty(t, notValid(rep))
	assert.False(t, rep.Failed(), "findings: %v", rep.Findings)
	assert.Equal(t, len(m.Digests), rep.Summary.Digests.Valid)
	assert.Equal(t, len(m.Logs), rep.Summary.Logs.Valid)
	// One gap per (account, region): hour 2 has no digest.
	require.Len(t, rep.Findings, 4)
	stops := map[string]fixtures.SpecialEvent{}
	for _, s := range m.Special {
		stops[s.EventID] = s
	}
	for _, f := range rep.Findings {
		assert.Equal(t, FindingGap, f.Type)
		assert.Equal(t, SeverityInfo, f.Severity, f.Summary)
		assert.Equal(t, "2024-03-04T02:00:00Z", f.Start)
		assert.Equal(t, "2024-03-04T03:00:00Z", f.End)
		assert.Equal(t, true, det(f.Detail)["explained"])
		evs := objs(det(f.Detail)["events"])
		var names []string
		for _, e := range evs {
			s, ok := stops[e["event_id"].(string)]
			require.True(t, ok, "cited event %v is not a fixture StopLogging/StartLogging", e)
			assert.Equal(t, s.Principal, e["principal"])
			names = append(names, s.Name)
		}
		assert.Contains(t, names, "StopLogging")
		assert.Contains(t, names, "StartLogging")
		assert.Contains(t, f.Summary, "explained by StopLogging")
	}
	for _, cs := range rep.Summary.Chains {
		assert.Equal(t, []string{"2024-03-04T02:00:00Z/2024-03-04T03:00:00Z"}, cs.Gaps, "%s %s", cs.Account, cs.Region)
	}
	// The backfill digest: key looked up at its generation time.
	n := 0
	for _, it := range rep.Items {
		if it.Kind == KindDigest && det(it.Detail)["key_time_source"] == "backfill-generation-timestamp" {
			n++
			assert.Contains(t, it.S3Key, "team/ct/AWSLogs/o-aa111bb222/111122223333/CloudTrail-Digest/us-east-1/")
			assert.Contains(t, it.S3Key, "_backfill.json.gz")
		}
	}
	assert.Equal(t, 1, n)
}

// TestTailDeletedInOneRegion: with other regions still delivering, the
// truncated chain gets a coverage finding naming them.
func TestTailDeletedInOneRegion(t *testing.T) {
	opt := small()
	opt.Regions = []string{"us-east-1", "eu-west-1"}
	c, m := set(t, opt, fixtures.DigestTailDeleted)
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	var cov []Finding
	for _, f := range rep.Findings {
		if f.Type == FindingCoverage {
			cov = append(cov, f)
		}
	}
	require.Len(t, cov, 1, "%v", rep.Findings)
	assert.Equal(t, "us-east-1", cov[0].Region)
	assert.Equal(t, "2024-03-04T04:00:00Z", cov[0].Start)
	assert.Equal(t, 2, det(cov[0].Detail)["expected_missing_digests"])
	assert.Contains(t, cov[0].Summary, "digests of 111122223333/eu-west-1 up to 2024-03-04T06:00:00Z")
}

// TestConsecutiveMissingDigests: two deleted digests in a row are two
// missing items, the older one with a key inferred from the time.
func TestConsecutiveMissingDigests(t *testing.T) {
	opt := small()
	c, m := setWith(t, opt, func(m *fixtures.Manifest) {
		for _, d := range m.Digests[2:4] {
			removeFile(t, d.Path)
			removeFile(t, d.MetadataPath)
		}
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	want := map[string]string{"digest " + m.Digests[2].Key: StatusMissing, "digest " + m.Digests[3].Key: StatusMissing}
	for _, d := range m.Digests[2:4] {
		for _, l := range d.Logs {
			want["log "+l] = StatusUnreferenced
		}
	}
	assert.Equal(t, want, notValid(rep))
	for _, it := range rep.Items {
		switch it.S3Key {
		case m.Digests[2].Key:
			assert.Equal(t, true, det(it.Detail)["inferred_from_time_order"])
		case m.Digests[3].Key:
			assert.Equal(t, false, det(it.Detail)["inferred_from_time_order"])
			assert.Equal(t, m.Digests[3].SHA256, det(it.Detail)["expected_sha256"])
		}
	}
}
