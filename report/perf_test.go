package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
	"github.com/stretchr/testify/require"
)

// Performance target: a report of a case with 1,000,000 events and
// 10,000 evidence items in under 10 s with peak RSS under 300 MB, and
// report.html under 5 MB.
const (
	perfMaxSeconds = 10
	perfMaxRSS     = 300 << 20
	perfMaxHTML    = 5 << 20
)

// TestPerfReport builds such a case (slow: set FORENSIC_PERF=1; set
// FORENSIC_PERF_DIR to keep and reuse it), then builds the report in a
// child process so that its peak RSS is the report's alone.
func TestPerfReport(t *testing.T) {
	if os.Getenv("FORENSIC_PERF") == "" {
		t.Skip("set FORENSIC_PERF=1 to run the 1,000,000-event report benchmark")
	}
	ctx := context.Background()
	dir := os.Getenv("FORENSIC_PERF_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	casePath := filepath.Join(dir, "case.db")
	if _, err := os.Stat(casePath); err != nil {
		ev := filepath.Join(dir, "evidence")
		// 2 regions × 84 hours × 60 files = 10,080 log files of 100 events.
		start := time.Now()
		_, err := fixtures.Generate(ev, fixtures.Options{Seed: 9, Regions: []string{"us-east-1", "eu-west-1"}, Hours: 84,
			FilesPerHour: 60, EventsPerFile: 100, Parallel: 2})
		require.NoError(t, err)
		t.Logf("generated in %s", time.Since(start))
		c, err := store.Open(ctx, casePath+".tmp")
		require.NoError(t, err)
		start = time.Now()
		sum, err := ingest.Run(ctx, c, []string{ev}, ingest.Options{})
		require.NoError(t, err)
		t.Logf("ingested %d items, %d events in %s", sum.Items, sum.Events, time.Since(start))
		a, err := verify.LoadTrustAnchors([]string{filepath.Join(ev, "keys")})
		require.NoError(t, err)
		start = time.Now()
		_, err = verify.Run(ctx, c, verify.Options{Anchors: a})
		require.NoError(t, err)
		t.Logf("verified in %s", time.Since(start))
		require.NoError(t, c.Close())
		require.NoError(t, os.Rename(casePath+".tmp", casePath))
		os.Rename(casePath+".tmp-wal", casePath+"-wal")
		os.Rename(casePath+".tmp-shm", casePath+"-shm")
	}
	c, err := store.OpenReadOnly(ctx, casePath)
	require.NoError(t, err)
	var events, items int
	require.NoError(t, caseDB(t, c).QueryRow("SELECT count(*) FROM ct_events").Scan(&events))
	require.NoError(t, caseDB(t, c).QueryRow("SELECT count(*) FROM evidence").Scan(&items))
	c.Close()
	t.Logf("case: %d events, %d evidence items", events, items)
	require.GreaterOrEqual(t, events, 1_000_000)
	require.GreaterOrEqual(t, items, 10_000)

	out := filepath.Join(t.TempDir(), "report")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPerfReportChild$", "-test.v")
	cmd.Env = append(os.Environ(), "FORENSIC_PERF_CHILD="+casePath, "FORENSIC_PERF_OUT="+out)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	m := regexp.MustCompile(`PERF seconds=([0-9.]+) maxrss=([0-9]+)`).FindSubmatch(b)
	require.NotNil(t, m, "%s", b)
	secs, _ := strconv.ParseFloat(string(m[1]), 64)
	rss, _ := strconv.ParseInt(string(m[2]), 10, 64)
	fi, err := os.Stat(filepath.Join(out, FileHTML))
	require.NoError(t, err)
	fj, err := os.Stat(filepath.Join(out, FileJSON))
	require.NoError(t, err)
	t.Logf("report: %.2f s, peak RSS %.0f MiB, report.html %.2f MiB, report.json %.2f MiB",
		secs, float64(rss)/(1<<20), float64(fi.Size())/(1<<20), float64(fj.Size())/(1<<20))
	require.Less(t, secs, float64(perfMaxSeconds))
	require.Less(t, rss, int64(perfMaxRSS))
	require.Less(t, fi.Size(), int64(perfMaxHTML))
}

// TestPerfReportChild is the child process of TestPerfReport.
func TestPerfReportChild(t *testing.T) {
	casePath := os.Getenv("FORENSIC_PERF_CHILD")
	if casePath == "" {
		t.Skip("run by TestPerfReport")
	}
	ctx := context.Background()
	start := time.Now()
	c, err := store.Open(ctx, casePath)
	require.NoError(t, err)
	_, err = Build(ctx, c, testBuildOptions(os.Getenv("FORENSIC_PERF_OUT")))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	secs := time.Since(start).Seconds()
	// VmHWM is this process's peak RSS; getrusage's maxrss would carry
	// the parent's over exec.
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	m := regexp.MustCompile(`VmHWM:\s+([0-9]+) kB`).FindSubmatch(status)
	require.NotNil(t, m, "no VmHWM in /proc/self/status")
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	fmt.Printf("PERF seconds=%.3f maxrss=%d\n", secs, kb*1024)
}
