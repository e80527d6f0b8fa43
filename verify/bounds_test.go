package verify

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/store"
)

// boundsSet is the chain the forged-time tests add a digest to: one
// region, 6 hourly digests of 2024-03-04.
func boundsSet() fixtures.Options {
	return fixtures.Options{Seed: 21, Hours: 6, FilesPerHour: 2, EventsPerFile: 3}
}

// forged is one attacker-chosen digest time.
type forged struct {
	name  string
	start time.Time
	// prev: the forged digest names a previous digest the evidence lacks;
	// else it is a starting digest.
	prev bool
	// dropFirst deletes the chain's first digest, so that its successor
	// points at a digest the evidence lacks and the forged (older) digest
	// is the next older digest of the chain present.
	dropFirst bool
}

var forgedTimes = []forged{
	{name: "year 2100 naming a missing previous digest", start: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), prev: true},
	{name: "year 9999 naming a missing previous digest", start: time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC), prev: true},
	{name: "year 2100 starting digest", start: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
	{name: "two years after the chain", start: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), prev: true},
	{name: "year 0001 older than the chain, whose first digest is gone", start: time.Date(1, 1, 1, 5, 0, 0, 0, time.UTC), dropFirst: true},
}

// forgedCase generates boundsSet, writes the forged digest f into it and
// ingests it; it returns the case, the manifest, the forged digest and the
// digests of the chain still in the evidence.
func forgedCase(t testing.TB, f forged) (*store.Case, *fixtures.Manifest, fixtures.DigestInfo, []fixtures.DigestInfo) {
	t.Helper()
	var fd fixtures.DigestInfo
	var real []fixtures.DigestInfo
	c, m := setWith(t, boundsSet(), func(m *fixtures.Manifest) {
		like := m.Digests[len(m.Digests)-1]
		prev := ""
		if f.prev {
			prev = m.DigestKey(like, f.start)
		}
		var err error
		fd, err = fixtures.ForgeDigest(m, like, f.start, prev)
		require.NoError(t, err)
		real = m.Digests
		if f.dropFirst {
			removeFile(t, m.Digests[0].Path)
			removeFile(t, m.Digests[0].MetadataPath)
			real = m.Digests[1:]
		}
	})
	return c, m, fd, real
}

// allocated returns the bytes allocated while fn ran (the figure
// testing.B reports as B/op).
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestForgedDigestTimeIsAFindingNotALoopBound(t *testing.T) {
	// The allocation of a run over the untouched chain is the yardstick.
	c0, m0 := set(t, boundsSet())
	var base *Report
	baseAlloc := allocated(func() { base = runVerify(t, c0, Options{Anchors: anchors(t, m0)}) })
	require.False(t, base.Failed(), "untouched chain: %v", base.Findings)
	for _, f := range forgedTimes {
		t.Run(f.name, func(t *testing.T) {
			c, m, fd, real := forgedCase(t, f)
			var rep *Report
			alloc := allocated(func() { rep = runVerify(t, c, Options{Anchors: anchors(t, m)}) })
			// Bounded: a forged time adds at most a few items, and about
			// as much work as the chain itself.
			assert.LessOrEqual(t, alloc, 2*baseAlloc+8<<20, "bytes allocated by the run (untouched chain: %d)", baseAlloc)
			var missing []Item
			for _, it := range rep.Items {
				if it.Kind == KindDigest && it.Status == StatusMissing {
					missing = append(missing, it)
				}
			}
			switch {
			case f.prev:
				// Only the digest it names; no hour is inferred from its
				// times.
				require.Equal(t, 1, len(missing), "missing digests")
				assert.Equal(t, m.DigestKey(m.Digests[0], f.start), missing[0].S3Key)
				assert.Equal(t, "", det(missing[0].Detail)["expected_end_time"])
				assert.NotEmpty(t, det(missing[0].Detail)["time_range"])
			case f.dropFirst:
				require.Equal(t, 1, len(missing), "missing digests")
				assert.Equal(t, m.Digests[0].Key, missing[0].S3Key)
			default:
				assert.Empty(t, missing)
			}
			assert.Empty(t, findingsOf(rep, FindingMissingSpan))
			var n int
			require.NoError(t, casetest.DB(t, c).QueryRow("SELECT count(*) FROM item_status").Scan(&n))
			assert.Equal(t, len(base.Items)+1+len(missing)-b2n(f.dropFirst), n, "item_status rows")

			// The finding: what was expected and what was found.
			tr := findingsOf(rep, FindingTimeRange)
			require.Len(t, tr, 1, "time_range findings: %v", rep.Findings)
			assert.Equal(t, SeverityError, tr[0].Severity)
			assert.Equal(t, fd.Key, det(tr[0].Detail)["digest"])
			assert.Equal(t, fd.Start.Format(time.RFC3339), det(tr[0].Detail)["digest_start_time"])
			assert.NotEmpty(t, det(tr[0].Detail)["expected"])
			assert.NotEmpty(t, det(tr[0].Detail)["found"])
			assert.Contains(t, tr[0].Summary, fd.Key)
			st := statuses(rep)
			assert.Equal(t, StatusKeyNotValidAtTime, st[KindDigest+" "+fd.Key])
			assert.True(t, rep.Failed())
			// The flagged digest's own detail names the rule.
			assert.Equal(t, det(tr[0].Detail)["rule"], digestDetail(itemByKey(t, rep, KindDigest, fd.Key)).TimeRange)

			// The real digests keep their statuses, and no gap, coverage
			// or chain span reaches the forged time.
			for _, d := range real {
				assert.Equal(t, StatusValid, st[KindDigest+" "+d.Key], d.Key)
			}
			for _, x := range rep.Findings {
				if x.Type == FindingTimeRange {
					continue
				}
				assert.NotContains(t, x.Summary, fd.Start.Format("2006-01-02"), "%s finding", x.Type)
			}
			require.Len(t, rep.Summary.Chains, 1)
			assert.Equal(t, real[len(real)-1].End.Format(time.RFC3339), rep.Summary.Chains[0].End)
			assert.Equal(t, real[0].Start.Format(time.RFC3339), rep.Summary.Chains[0].Start)
		})
	}
}

// BenchmarkVerifyForgedDigest is the run over the chain with a digest
// forged into year 9999 (go test -bench ForgedDigest -benchmem ./verify):
// B/op and allocs/op stay those of the chain itself.
func BenchmarkVerifyForgedDigest(b *testing.B) {
	c, m, _, _ := forgedCase(b, forgedTimes[1])
	a := anchors(b, m)
	b.ReportAllocs()
	for b.Loop() {
		runVerify(b, c, Options{Anchors: a})
	}
}

// spanSet is a 70-hour chain; the tests delete digests from its middle.
func spanSet() fixtures.Options {
	return fixtures.Options{Seed: 23, Hours: 70, FilesPerHour: 1, EventsPerFile: 1}
}

func TestMissingDigestsBeyondTheBoundAreOneSpan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deleted int // digests deleted after the 5th
		items   int // missing digest items
		span    bool
	}{
		{"bound not passed", 1 + maxInferredMissing, 1 + maxInferredMissing, false},
		{"bound passed", 60, 1 + maxInferredMissing, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gone []fixtures.DigestInfo
			c, m := setWith(t, spanSet(), func(m *fixtures.Manifest) {
				gone = m.Digests[5 : 5+tc.deleted]
				for _, d := range gone {
					removeFile(t, d.Path)
					removeFile(t, d.MetadataPath)
				}
			})
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			st := statuses(rep)
			byKey := map[string]Item{}
			for _, it := range rep.Items {
				if it.Kind == KindDigest && it.Status == StatusMissing {
					byKey[it.S3Key] = it
				}
			}
			assert.Equal(t, tc.items, len(byKey), "missing digest items")
			// The named predecessor, then the oldest and newest inferred.
			last := gone[len(gone)-1]
			assert.Equal(t, false, det(byKey[last.Key].Detail)["inferred_from_time_order"])
			half := maxInferredMissing / 2
			for i, d := range gone[:len(gone)-1] {
				_, listed := byKey[d.Key]
				want := !tc.span || i < half || i >= len(gone)-1-half
				assert.Equal(t, want, listed, "digest %d of the gap (%s) listed", i, d.Key)
			}
			for _, d := range m.Digests {
				if d.Index < 5 || d.Index >= 5+tc.deleted {
					assert.Equal(t, StatusValid, st[KindDigest+" "+d.Key], d.Key)
				}
			}
			spans := findingsOf(rep, FindingMissingSpan)
			if !tc.span {
				assert.Empty(t, spans)
				return
			}
			require.Len(t, spans, 1)
			f := spans[0]
			assert.Equal(t, SeverityError, f.Severity)
			assert.Equal(t, m.Digests[4].End.Format(time.RFC3339), f.Start)
			assert.Equal(t, m.Digests[5+tc.deleted].Start.Format(time.RFC3339), f.End)
			assert.Equal(t, tc.deleted, det(f.Detail)["expected_digests"])
			assert.Equal(t, 0, det(f.Detail)["found_digests"])
			assert.Equal(t, tc.items, det(f.Detail)["listed_digests"])
			assert.Equal(t, m.Digests[4].Key, det(f.Detail)["last_digest_before"])
			assert.Equal(t, m.Digests[5+tc.deleted].Key, det(f.Detail)["first_digest_after"])
			assert.Contains(t, f.Summary, "60 digests")
		})
	}
}

func TestUntouchedChainHasNoTimeFindings(t *testing.T) {
	c, m := set(t, wide())
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Empty(t, findingsOf(rep, FindingTimeRange))
	assert.Empty(t, findingsOf(rep, FindingMissingSpan))
	assert.False(t, rep.Failed())
}

// A digest whose evidence row says it was read into the case before the
// digest's own end cannot be genuine; when the ingest clock itself reads
// before CloudTrail existed, the rule does not apply.
func TestDigestAfterIngestTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ingested time.Time
		finding  bool
	}{
		{"ingested the day before the chain", fixtures.DefaultStart.Add(-24 * time.Hour), true},
		{"ingested by a clock reading 1970", time.Unix(0, 0), false},
		{"ingested after the chain", fixtures.DefaultStart.Add(7 * 24 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m, err := fixtures.Generate(filepath.Join(dir, "evidence"), boundsSet())
			require.NoError(t, err)
			ctx := context.Background()
			c, err := store.Open(ctx, filepath.Join(dir, "case.db"))
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			c.Now = func() time.Time { return tc.ingested }
			_, err = ingest.Run(ctx, c, []string{m.Root}, ingest.Options{Workers: 2})
			require.NoError(t, err)
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			tr := findingsOf(rep, FindingTimeRange)
			if !tc.finding {
				assert.Empty(t, tr)
				assert.False(t, rep.Failed(), "%v", rep.Findings)
				return
			}
			assert.Len(t, tr, len(m.Digests))
			for _, f := range tr {
				assert.Equal(t, "after_ingest", det(f.Detail)["rule"])
				assert.True(t, strings.HasPrefix(det(f.Detail)["found"].(string), "digestEndTime "), det(f.Detail)["found"])
			}
		})
	}
}

func b2n(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A log file named for year 9999 after the chain's newest digest: the
// coverage finding counts the hours exactly (time.Duration would stop at
// about 292 years).
func TestCoverageCountsHoursPastDuration(t *testing.T) {
	far := time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC)
	c, m := setWith(t, boundsSet(), func(m *fixtures.Manifest) {
		p := filepath.Join(m.Root, fixtures.DefaultTrailBucket, "AWSLogs", fixtures.DefaultAccount, "CloudTrail", fixtures.DefaultRegion,
			"9999", "12", "31", fixtures.DefaultAccount+"_CloudTrail_"+fixtures.DefaultRegion+"_99991231T2000Z_abcdefghijklmnop.json.gz")
		b, err := os.ReadFile(m.Logs[0].Path)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	cov := findingsOf(rep, FindingCoverage)
	require.Len(t, cov, 1)
	newest := m.Digests[len(m.Digests)-1].End
	assert.Equal(t, int((far.Unix()-newest.Unix()+3599)/3600), det(cov[0].Detail)["expected_missing_digests"])
	assert.Equal(t, far.Format(time.RFC3339), cov[0].End)
}

// The far_from_evidence rule needs something to compare with: a lone
// digest of an account the evidence holds nothing else of is judged on
// its signature alone.
func TestLoneDigestHasNothingToBeFarFrom(t *testing.T) {
	var fd fixtures.DigestInfo
	c, m := setWith(t, boundsSet(), func(m *fixtures.Manifest) {
		like := m.Digests[0]
		like.Account = "999988887777"
		var err error
		fd, err = fixtures.ForgeDigest(m, like, time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC), "")
		require.NoError(t, err)
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assert.Empty(t, findingsOf(rep, FindingTimeRange))
	assert.Equal(t, StatusKeyNotValidAtTime, statuses(rep)[KindDigest+" "+fd.Key])
}
