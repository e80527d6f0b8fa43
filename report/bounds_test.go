package report

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// boundsCase generates opt, lets change alter the evidence, ingests and
// verifies it as fixtureCase does.
func boundsCase(t *testing.T, opt fixtures.Options, change func(m *fixtures.Manifest)) (*store.Case, *fixtures.Manifest) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), opt)
	require.NoError(t, err)
	change(m)
	c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.Now = func() time.Time { return testSignedAt.Add(-time.Hour) }
	_, err = ingest.Run(ctx, c, []string{m.Root}, ingest.Options{Workers: 1})
	require.NoError(t, err)
	a, err := verify.LoadTrustAnchors(m.PublicKeyFiles)
	require.NoError(t, err)
	_, err = verify.Run(ctx, c, verify.Options{Anchors: a})
	require.NoError(t, err)
	return c, m
}

func TestCoverageLeavesOutForgedTimes(t *testing.T) {
	opt := fixtures.Options{Seed: 31, Hours: 6, FilesPerHour: 2, EventsPerFile: 3}
	c, m := boundsCase(t, opt, func(m *fixtures.Manifest) {
		like := m.Digests[len(m.Digests)-1]
		far := time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC)
		_, err := fixtures.ForgeDigest(m, like, far, m.DigestKey(like, far))
		require.NoError(t, err)
		_, err = fixtures.ForgeDigest(m, like, time.Date(1, 1, 1, 5, 0, 0, 0, time.UTC), "")
		require.NoError(t, err)
	})
	cov, err := coverage(context.Background(), c, true)
	require.NoError(t, err)
	require.Len(t, cov, 1)
	a, b := cov[0].span()
	assert.Equal(t, m.Digests[0].Start, a)
	assert.Equal(t, m.Digests[len(m.Digests)-1].End, b)
	ch := buildChart(cov)
	require.NotNil(t, ch)
	assert.Equal(t, m.Digests[0].Start.Format(time.RFC3339), ch.Start)
	assert.Equal(t, m.Digests[len(m.Digests)-1].End.Format(time.RFC3339), ch.End)

	out := buildReport(t, c)
	html, err := os.ReadFile(filepath.Join(out, FileHTML))
	require.NoError(t, err)
	assert.Contains(t, string(html), "before CloudTrail existed: its times are not used", "the finding, on the first page")
}

func TestCoverageDrawsAMissingSpan(t *testing.T) {
	opt := fixtures.Options{Seed: 33, Hours: 70, FilesPerHour: 1, EventsPerFile: 1}
	c, m := boundsCase(t, opt, func(m *fixtures.Manifest) {
		for _, d := range m.Digests[5:65] {
			require.NoError(t, os.Remove(d.Path))
			require.NoError(t, os.Remove(d.MetadataPath))
		}
	})
	cov, err := coverage(context.Background(), c, true)
	require.NoError(t, err)
	require.Len(t, cov, 1)
	// The missing_span finding is one segment over the whole stretch; the
	// listed digests lie inside it (with notes of their log files).
	span := false
	for _, s := range cov[0].Segments {
		if s.State == StateMissing {
			assert.False(t, s.Start.Before(m.Digests[4].End), "%+v", s)
			assert.False(t, s.End.After(m.Digests[65].Start), "%+v", s)
			span = span || s.Start.Equal(m.Digests[4].End) && s.End.Equal(m.Digests[65].Start)
		}
	}
	assert.True(t, span, "a segment from %s to %s: %+v", m.Digests[4].End, m.Digests[65].Start, cov[0].Segments)
	assert.Equal(t, int64(60*3600), cov[0].seconds(StateMissing))
}

// The chart's work and size do not depend on the times it spans.
func TestChartIsBoundedForAnySpan(t *testing.T) {
	y := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		a, b time.Time
	}{
		{"one day", y(2024), y(2024).Add(24 * time.Hour)},
		{"one year", y(2024), y(2025)},
		{"290 years", y(2000), y(2290)},
		{"0001 to 9999", y(1).Add(5 * time.Hour), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"2024 to 9999", y(2024), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cov := []*chainCoverage{{Account: "111122223333", Region: "us-east-1", Trail: "t", Segments: []segment{
				{Start: tc.a, End: tc.a.Add(time.Hour), State: StateVerified, Digests: 1},
				{Start: tc.b.Add(-time.Hour), End: tc.b, State: StateMissing, Digests: 1},
			}}}
			ch := buildChart(cov)
			require.NotNil(t, ch)
			assert.Equal(t, tc.a.Format(time.RFC3339), ch.Start)
			assert.Equal(t, tc.b.Format(time.RFC3339), ch.End)
			assert.GreaterOrEqual(t, len(ch.Ticks), 2, "ticks")
			assert.LessOrEqual(t, len(ch.Ticks), 7, "ticks")
			for i, tk := range ch.Ticks {
				assert.GreaterOrEqual(t, tk.X, 0)
				assert.LessOrEqual(t, tk.X, chartPlot+chartMargin)
				if i > 0 {
					assert.Greater(t, tk.X, ch.Ticks[i-1].X)
					assert.Greater(t, tk.Label, ch.Ticks[i-1].Label)
				}
			}
			require.Len(t, ch.Rects, 2)
			assert.Equal(t, 0, ch.Rects[0].X)
			last := ch.Rects[1]
			assert.Equal(t, chartPlot, last.X+last.W, "the missing hour is drawn at the right end")
			assert.Equal(t, StateMissing, last.State)
			assert.Contains(t, last.Title, tc.b.Add(-time.Hour).Format("2006"))
		})
	}
}
