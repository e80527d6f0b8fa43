package main

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peakRSSBound is what the README promises for the peak RSS of an ingest,
// whatever the input (see "Memory is bounded by named budgets").
const peakRSSBound = 400 << 20

// lowEntropy writes n bytes of 'a' with a random lowercase letter about
// every `every` bytes: text that deflate compresses by roughly every/15
// (every = 200: about 50:1; 1000: about 240:1; 10000: about 650:1), so that hundreds of MiB
// of it take little disk and stay within the decompression-ratio caps.
func lowEntropy(w io.Writer, n int64, every int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 7))
	a := []byte(strings.Repeat("a", 64<<10))
	chunk := make([]byte, len(a))
	for n > 0 {
		copy(chunk, a)
		for k := rng.IntN(every); k < len(chunk); k += 1 + rng.IntN(2*every) {
			chunk[k] = 'a' + byte(rng.IntN(26))
		}
		m := min(int64(len(chunk)), n)
		if _, err := w.Write(chunk[:m]); err != nil {
			return err
		}
		n -= m
	}
	return nil
}

// gzipFile writes path as the gzip of what gen writes.
func gzipFile(t *testing.T, path string, gen func(w io.Writer) error) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(t, err)
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestCompression)
	require.NoError(t, err)
	require.NoError(t, gen(zw))
	require.NoError(t, zw.Close())
	require.NoError(t, bw.Flush())
	require.NoError(t, f.Close())
}

// emptyRecords writes {"Records":[{},{},...]} with n records.
func emptyRecords(n int) func(w io.Writer) error {
	return func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"Records":[{}`)
		for i := 1; i < n; i++ {
			bw.WriteString(`,{}`)
		}
		bw.WriteString(`]}`)
		return bw.Flush()
	}
}

// bigRecord writes {"Records":[{...}]}, n bytes whose one record is
// nearly all of it.
func bigRecord(n int64, every int, seed uint64) func(w io.Writer) error {
	return func(w io.Writer) error {
		head := `{"Records":[{"eventVersion":"1.08","eventName":"GetObject","requestParameters":"`
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if err := lowEntropy(w, n-int64(len(head))-4, every, seed); err != nil {
			return err
		}
		_, err := io.WriteString(w, `"}]}`)
		return err
	}
}

// storedZip writes a zip of one stored member whose content gen writes,
// with its CRC-32 and sizes in the local header (so that it can be read
// from its local headers too): gen runs twice, to learn them first.
func storedZip(name string, gen func(w io.Writer) error) func(w io.Writer) error {
	return func(w io.Writer) error {
		crc := crc32.NewIEEE()
		var n countWriter
		if err := gen(io.MultiWriter(crc, &n)); err != nil {
			return err
		}
		zw := zip.NewWriter(w)
		mw, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc.Sum32(),
			CompressedSize64: uint64(n), UncompressedSize64: uint64(n)})
		if err != nil {
			return err
		}
		if err := gen(mw); err != nil {
			return err
		}
		return zw.Close()
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// deflatedZip writes path as a zip of one deflated member.
func deflatedZip(t *testing.T, path, name string, gen func(w io.Writer) error) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	mw, err := zw.Create(name)
	require.NoError(t, err)
	require.NoError(t, gen(mw))
	require.NoError(t, zw.Close())
	require.NoError(t, bw.Flush())
	require.NoError(t, f.Close())
}

// ingestRSS runs `forensic ingest --json` on paths in a child process and
// returns its summary and peak RSS in bytes.
func ingestRSS(t *testing.T, paths ...string) (map[string]any, int64) {
	t.Helper()
	args := append([]string{"ingest", "--json", "--case", filepath.Join(t.TempDir(), "case.db")}, paths...)
	cmd := exec.Command(forensicBin, args...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		require.NoError(t, err, "an ingest with bad items exits 1")
	}
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout.String()), &sum), stdout.String())
	return sum, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
}

// errorsOf maps each path of a summary's errors to its message.
func errorsOf(sum map[string]any) map[string]string {
	out := map[string]string{}
	for _, e := range sum["errors"].([]any) {
		m := e.(map[string]any)
		out[m["path"].(string)] = m["error"].(string)
	}
	return out
}

// TestIngestPeakRSS: the memory of an ingest is bounded by its budgets, not
// by the records of one file, the size of one record, the number of such
// files or the nesting of zips. Each input is small on disk and built
// here; each is ingested by the command in a child process, whose peak
// RSS must stay under peakRSSBound. The items over a cap get an error
// naming it and are still hashed and inventoried.
func TestIngestPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inputs of hundreds of MiB (compressed to a few MiB)")
	}
	dir := t.TempDir()
	const recordMiB = 240
	t.Run("4M empty records", func(t *testing.T) {
		p := filepath.Join(dir, "empty", "empty-records.json.gz")
		gzipFile(t, p, emptyRecords(4_000_000))
		sum, rss := ingestRSS(t, p)
		t.Logf("%s on disk: peak RSS %d MiB", sizeOf(t, p), rss>>20)
		assert.Less(t, rss, int64(peakRSSBound))
		assert.Contains(t, errorsOf(sum)[p], "more than 1000000 records, the records-per-file cap")
		assert.EqualValues(t, 1_000_000, sum["events"])
	})
	t.Run("one 240 MiB record", func(t *testing.T) {
		p := filepath.Join(dir, "one", "big-record.json.gz")
		gzipFile(t, p, bigRecord(recordMiB<<20, 10000, 1))
		sum, rss := ingestRSS(t, p)
		t.Logf("%s on disk: peak RSS %d MiB", sizeOf(t, p), rss>>20)
		assert.Less(t, rss, int64(peakRSSBound))
		assert.Contains(t, errorsOf(sum)[p], "record 0 at byte offset 12 is larger than the cap of 1048576 bytes per record, the record-size cap (1 MiB)")
		assert.EqualValues(t, 1, sum["items"])
	})
	t.Run("four 240 MiB records", func(t *testing.T) {
		four := filepath.Join(dir, "four")
		for i := range 4 {
			gzipFile(t, filepath.Join(four, "f", "big-record-"+string(rune('a'+i))+".json.gz"), bigRecord(recordMiB<<20, 10000, uint64(i)))
		}
		sum, rss := ingestRSS(t, four)
		t.Logf("%s on disk: peak RSS %d MiB", sizeOf(t, four), rss>>20)
		assert.Less(t, rss, int64(peakRSSBound))
		assert.Len(t, errorsOf(sum), 4)
		for p, msg := range errorsOf(sum) {
			assert.Contains(t, msg, "the record-size cap", p)
		}
	})
	t.Run("four 240 MiB metadata exports", func(t *testing.T) {
		// Content held whole to be parsed (digests, keys, metadata
		// exports) shares one budget, and stops at the parse cap.
		four := filepath.Join(dir, "meta")
		for i := range 4 {
			gzipFile(t, filepath.Join(four, "listing-"+string(rune('a'+i))+".json.gz"), func(w io.Writer) error {
				io.WriteString(w, `{"IsTruncated":false,"Versions":[{"Key":"`)
				if err := lowEntropy(w, recordMiB<<20, 10000, uint64(i)); err != nil {
					return err
				}
				_, err := io.WriteString(w, `"}]}`)
				return err
			})
		}
		sum, rss := ingestRSS(t, four)
		t.Logf("%s on disk: peak RSS %d MiB", sizeOf(t, four), rss>>20)
		assert.Less(t, rss, int64(peakRSSBound))
		assert.Len(t, errorsOf(sum), 4)
		for p, msg := range errorsOf(sum) {
			assert.Contains(t, msg, "content too large to parse: 240.0 MiB decompressed, parse cap 64 MiB", p)
		}
	})
	t.Run("nested zips of 200 MiB", func(t *testing.T) {
		// outer.zip (on disk, deflated) > level1.zip (stored) > level2.zip
		// (stored) > payload.json, one 200 MiB record: each level is
		// about 200 MiB.
		p := filepath.Join(dir, "nested", "outer.zip")
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		payload := bigRecord(200<<20, 200, 9)
		deflatedZip(t, p, "level1.zip", storedZip("level2.zip", storedZip("payload.json", payload)))
		sum, rss := ingestRSS(t, p)
		t.Logf("%s on disk: peak RSS %d MiB", sizeOf(t, p), rss>>20)
		assert.Less(t, rss, int64(peakRSSBound))
		errs := errorsOf(sum)
		assert.Contains(t, errs[p+"!/level1.zip!/level2.zip!/payload.json"], "the record-size cap")
		assert.Contains(t, errs[p+"!/level1.zip!/level2.zip"], "in-memory budget for nested zips: its 1 members were read in file order from their local headers")
	})
}

func sizeOf(t *testing.T, p string) string {
	var n int64
	filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return fmt.Sprintf("%d KiB", n>>10)
}

// TestIngestKilledMidStream: an ingest killed while it streams the rows of
// large items to the writer leaves every item whole or absent, and running
// it again completes the case as an uninterrupted run would.
func TestIngestKilledMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: ingests a 96,000-event set several times")
	}
	dir := t.TempDir()
	ev := filepath.Join(dir, "export")
	writeExport(t, ev, 8, 12000) // 12,000 records a file: over 8 MiB of rows, so streamed
	ref := filepath.Join(dir, "ref.db")
	r := forensic(t, "ingest", "--case", ref, ev)
	require.Equal(t, 0, r.code, r.stderr)
	want := counts(t, ref)
	require.Equal(t, "96000", want["ct_events"])
	for i, delay := range []time.Duration{300 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond} {
		db := filepath.Join(dir, fmt.Sprintf("killed-%d.db", i))
		cmd := exec.Command(forensicBin, "ingest", "--case", db, ev)
		require.NoError(t, cmd.Start())
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if _, err := os.Stat(db); err == nil {
			cp := filepath.Join(dir, fmt.Sprintf("copy-%d.db", i))
			for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
				if b, err := os.ReadFile(db + suffix); err == nil {
					require.NoError(t, os.WriteFile(cp+suffix, b, 0o644))
				}
			}
			out, err := exec.Command("sqlite3", cp, "PRAGMA integrity_check; SELECT count(*) FROM evidence v WHERE v.kind = 'cloudtrail_log' AND v.record_count <> (SELECT count(*) FROM ct_events e WHERE e.evidence_id = v.id); SELECT count(*) FROM ct_events e WHERE NOT EXISTS (SELECT 1 FROM evidence v WHERE v.id = e.evidence_id)").CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Equal(t, "ok\n0\n0\n", string(out), "case after kill at %s", delay)
		}
		r := forensic(t, "ingest", "--case", db, ev)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, want, counts(t, db), "resumed after kill at %s", delay)
	}
}
