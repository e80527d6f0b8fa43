package report

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompare(t *testing.T) {
	rep := Outcome{
		Statuses: []string{"digest missing s3://b/k1", "log hash_mismatch s3://b/l1", "log hash_mismatch s3://b/l1"},
		Findings: []string{"gap info chain=c 2024-03-04T01:00:00Z/2024-03-04T02:00:00Z"},
		Counts:   []string{"digest valid 5", "log valid 9"},
	}
	same := rep
	assert.Empty(t, Compare(rep, same))
	rerun := Outcome{
		Statuses: []string{"log hash_mismatch s3://b/l1", "log missing s3://b/l2"},
		Findings: []string{"gap info chain=c 2024-03-04T01:00:00Z/2024-03-04T02:00:00Z"},
		Counts:   []string{"digest valid 5", "log valid 8"},
	}
	assert.Equal(t, []Difference{
		{What: "status", Side: "only_in_report", Item: "digest missing s3://b/k1"},
		{What: "status", Side: "only_in_report", Item: "log hash_mismatch s3://b/l1"},
		{What: "status", Side: "only_in_rerun", Item: "log missing s3://b/l2"},
		{What: "count", Side: "only_in_rerun", Item: "log valid 8"},
		{What: "count", Side: "only_in_report", Item: "log valid 9"},
	}, Compare(rep, rerun))
}

// TestRerunReproducesTamperedFindings: re-ingesting and re-verifying a
// tampered fixture set reproduces the report's statuses and findings
// exactly; tampering more afterwards shows up as differences.
func TestRerunReproducesTamperedFindings(t *testing.T) {
	tamper := []fixtures.Tampering{fixtures.DigestSignatureInvalid, fixtures.LogHashMismatch, fixtures.DigestMissing,
		fixtures.LogUnreferenced, fixtures.DigestTailDeleted}
	opt := smallOptions()
	opt.Accounts = []string{"111122223333", "444455556666"}
	c, ev, keys := fixtureCase(t, opt, tamper...)
	dir := buildReport(t, c)
	m := readReport(t, dir)
	require.NotEmpty(t, m["statuses"])
	require.NotEmpty(t, m["findings"])

	ctx := context.Background()
	res, err := Verify(ctx, dir, VerifyOptions{Evidence: []string{ev}, Rerun: verifyCase, PublicKeys: []string{keys}})
	require.NoError(t, err)
	assert.True(t, res.Rerun)
	assert.Empty(t, res.Differences)
	assert.True(t, res.OK, "%v %v", failedChecks(res), res.EvidenceCounts)

	// Delete a log file after the report.
	var logs []string
	require.NoError(t, filepath.Walk(ev, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(p, "/CloudTrail/") && strings.HasSuffix(p, ".json.gz") {
			logs = append(logs, p)
		}
		return err
	}))
	sort.Strings(logs)
	require.NotEmpty(t, logs)
	require.NoError(t, os.Remove(logs[len(logs)/2]))
	res, err = Verify(ctx, dir, VerifyOptions{Evidence: []string{ev}, Rerun: verifyCase, PublicKeys: []string{keys}})
	require.NoError(t, err)
	assert.False(t, res.OK)
	require.NotEmpty(t, res.Differences)
	var sides []string
	for _, d := range res.Differences {
		sides = append(sides, d.What+" "+d.Side)
	}
	assert.Contains(t, sides, "status only_in_rerun", "%v", res.Differences)
	assert.Equal(t, 1, res.EvidenceCounts[EvidenceMissing])
}
