package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/internal/casetest"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// verifiedCase generates evidence with opt (and tamperings), ingests it
// and verifies it with the fixture's keys; it returns the case's path.
func verifiedCase(t *testing.T, opt fixtures.Options, tamper ...fixtures.Tampering) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, opt)
	require.NoError(t, err)
	for _, tp := range tamper {
		_, err := fixtures.Tamper(m, tp)
		require.NoError(t, err)
	}
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	p := filepath.Join(dir, "case.db")
	c, err := store.Open(ctx, p)
	require.NoError(t, err)
	sum, err := ingest.Run(ctx, c, []string{ev}, ingest.Options{Workers: 1})
	require.NoError(t, err)
	require.Empty(t, sum.Errors)
	require.NoError(t, c.Close())
	_, err = verify.RunCase(ctx, p, []string{keys})
	require.NoError(t, err)
	return p
}

func testSet() fixtures.Options {
	return fixtures.Options{Seed: 7, Hours: 30, FilesPerHour: 2, EventsPerFile: 4, AccessLogs: true}
}

// exportCase exports the case at p to a new folder.
func exportCase(t *testing.T, p string, opt Options) (string, *Manifest) {
	t.Helper()
	ctx := context.Background()
	if opt.Out == "" {
		opt.Out = filepath.Join(t.TempDir(), "export")
	}
	opt.Tool, opt.Now = "forensic test", time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	m, sum, err := Run(ctx, p, opt)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(opt.Out, ManifestName))
	require.NoError(t, err)
	h := sha256.Sum256(b)
	require.Equal(t, hex.EncodeToString(h[:]), sum, "the returned hash is the manifest's")
	return opt.Out, m
}

// readRows reads every row of table name's files in the export.
func readRows[T any](t *testing.T, dir string, m *Manifest, name string) []T {
	t.Helper()
	var out []T
	for _, f := range m.Files {
		if f.Table != name {
			continue
		}
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		require.NoError(t, err)
		r := parquet.NewGenericReader[T](fh)
		rows := make([]T, 256)
		n := 0
		for {
			k, err := r.Read(rows)
			out = append(out, rows[:k]...)
			n += k
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
		}
		require.NoError(t, r.Close())
		fh.Close()
		assert.EqualValues(t, f.Rows, n, "%s: rows as the manifest says", f.Path)
	}
	return out
}

func caseQuery(t *testing.T, p, q string) [][]string {
	t.Helper()
	c, err := store.Open(context.Background(), p)
	require.NoError(t, err)
	defer c.Close()
	rows, err := casetest.DB(t, c).Query(q)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				row[i] = "NULL"
			case []byte:
				row[i] = string(x)
			default:
				b, _ := json.Marshal(x)
				row[i] = strings.Trim(string(b), `"`)
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestExportEveryRowWithItsIntegrity: every record of the case is in the
// events table once, in its day's partition, with its log file's status,
// the digest that lists it and the evidence it came from; the other
// tables hold every row of theirs; every file is in the manifest with the
// SHA-256 sha256sum computes.
func TestExportEveryRowWithItsIntegrity(t *testing.T) {
	p := verifiedCase(t, testSet(), fixtures.LogHashMismatch)
	dir, m := exportCase(t, p, Options{})

	evs := readRows[eventRow](t, dir, m, "events")
	want := caseQuery(t, p, `SELECT e.id, e.evidence_id, e.record_index, coalesce(e.event_id, ''), coalesce(s.status, ''), s.status = 'valid',
		ev.sha256, coalesce(ev.s3_key, '') FROM ct_events e JOIN evidence ev ON ev.id = e.evidence_id
		LEFT JOIN item_status s ON s.evidence_id = e.evidence_id AND s.kind = 'log' ORDER BY e.event_time, e.id`)
	require.Len(t, evs, len(want))
	verified, notVerified := 0, 0
	for i, e := range evs {
		w := want[i]
		assert.Equal(t, w[1], itoa(e.EvidenceID))
		assert.Equal(t, w[2], itoa(e.RecordIndex))
		assert.Equal(t, w[3], deref(e.EventID))
		assert.Equal(t, w[4], deref(e.LogStatus))
		assert.Equal(t, w[5] == "1", e.Verified)
		assert.Equal(t, w[6], e.EvidenceSHA256)
		assert.Equal(t, w[7], deref(e.LogS3Key))
		if e.Verified {
			verified++
			assert.Equal(t, "valid", deref(e.DigestStatus), "a verified record's digest is valid")
			assert.Contains(t, deref(e.DigestS3Key), "CloudTrail-Digest")
		} else {
			notVerified++
		}
		require.NotNil(t, e.EventTime)
		assert.Equal(t, deref(e.EventTimeText), e.EventTime.UTC().Format(time.RFC3339))
		assert.Nil(t, e.RawBytes, "valid UTF-8: raw holds the exact bytes")
		assert.True(t, json.Valid([]byte(e.Raw)))
		if i > 0 {
			assert.False(t, e.EventTime.Before(*evs[i-1].EventTime), "rows in event time order")
		}
	}
	assert.Positive(t, verified)
	assert.Positive(t, notVerified, "the tampered log file's records are exported, not verified")

	// Partitions: each file holds the records of its day.
	for _, f := range m.Files {
		if f.Table != "events" {
			continue
		}
		day := f.Partition["event_date"]
		assert.True(t, strings.HasPrefix(f.Path, "events/event_date="+day+"/"), f.Path)
		for _, e := range readRows[eventRow](t, dir, &Manifest{Files: []File{f}}, "events") {
			assert.Equal(t, day, e.EventTime.UTC().Format("2006-01-02"))
		}
	}

	// Every file listed, with its hash as sha256sum computes it.
	var onDisk []string
	require.NoError(t, filepath.WalkDir(dir, func(q string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && q != filepath.Join(dir, ManifestName) {
			r, _ := filepath.Rel(dir, q)
			onDisk = append(onDisk, filepath.ToSlash(r))
		}
		return err
	}))
	var listed []string
	for _, f := range m.Files {
		listed = append(listed, f.Path)
		out, err := exec.Command("sha256sum", filepath.Join(dir, filepath.FromSlash(f.Path))).Output()
		require.NoError(t, err)
		assert.Equal(t, f.SHA256, strings.Fields(string(out))[0], f.Path)
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		require.NoError(t, err)
		assert.Equal(t, fi.Size(), f.Size)
	}
	sort.Strings(onDisk)
	assert.Equal(t, onDisk, listed, "the manifest lists every file, in path order")

	// The other tables: every row.
	count := func(q string) int {
		n, err := parseInt(caseQuery(t, p, q)[0][0])
		require.NoError(t, err)
		return n
	}
	rows := map[string]int64{}
	for _, s := range m.Tables {
		rows[s.Name] = s.Rows
	}
	assert.EqualValues(t, count("SELECT count(*) FROM s3_access"), rows["access_log"])
	assert.EqualValues(t, count("SELECT count(*) FROM evidence"), rows["evidence"])
	assert.EqualValues(t, count("SELECT count(*) FROM item_status"), rows["item_status"])
	assert.EqualValues(t, count("SELECT count(*) FROM findings"), rows["findings"])
	assert.EqualValues(t, count("SELECT count(*) FROM ct_digests"), rows["digests"])
	assert.Positive(t, rows["access_log"])
	items := readRows[itemRow](t, dir, m, "item_status")
	withChecks := 0
	for _, it := range items {
		if len(it.Checks) > 0 {
			withChecks++
			assert.NotEmpty(t, it.Checks[0].Name)
		}
		assert.True(t, json.Valid([]byte(it.Detail)))
	}
	assert.Equal(t, len(items), withChecks, "every verdict with its checks")
}

// TestExportColumnTypes: timestamps are TIMESTAMP(MICROS) adjusted to UTC,
// flags BOOLEAN, counts INT64, text STRING, JSON text JSON.
func TestExportColumnTypes(t *testing.T) {
	p := verifiedCase(t, testSet())
	dir, m := exportCase(t, p, Options{})
	types := map[string]map[string]string{}
	for _, f := range m.Files {
		if f.Table == "ddl" || types[f.Table] != nil {
			continue
		}
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		require.NoError(t, err)
		fi, _ := fh.Stat()
		pf, err := parquet.OpenFile(fh, fi.Size())
		require.NoError(t, err)
		types[f.Table] = map[string]string{}
		for _, col := range pf.Schema().Fields() {
			types[f.Table][col.Name()] = col.Type().String()
		}
		fh.Close()
	}
	ts := "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"
	assert.Equal(t, ts, types["events"]["event_time"])
	assert.Equal(t, ts, types["access_log"]["request_time"])
	assert.Equal(t, ts, types["digests"]["digest_end_time"])
	assert.Equal(t, ts, types["findings"]["start_time"])
	assert.Equal(t, "BOOLEAN", types["events"]["verified"])
	assert.Equal(t, "BOOLEAN", types["events"]["read_only"])
	assert.Equal(t, "INT(64,true)", types["events"]["record_index"])
	assert.Equal(t, "INT(64,true)", types["access_log"]["bytes_sent"])
	assert.Equal(t, "STRING", types["events"]["event_name"])
	assert.Equal(t, "STRING", types["events"]["raw"])
	assert.Equal(t, "BYTE_ARRAY", types["events"]["raw_bytes"])
	assert.Equal(t, "JSON", types["item_status"]["detail"])
	_, hasDate := types["events"]["event_date"]
	assert.False(t, hasDate, "the partition column is in the path only")
}

// TestExportInvalidUTF8: text with invalid UTF-8 is a valid STRING with
// the bad bytes replaced, and the exact bytes are beside it.
func TestExportInvalidUTF8(t *testing.T) {
	p := verifiedCase(t, testSet())
	bad := []byte("{\"eventName\":\"x\xff\xfey\"}")
	line := []byte("owner bucket [04/Mar/2024:00:00:00 +0000] 192.0.2.1 requester\xff REQ REST.GET.OBJECT key \"GET /key HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"ua\" -")
	c, err := store.Open(context.Background(), p)
	require.NoError(t, err)
	db := casetest.DB(t, c)
	var id, aid int64
	require.NoError(t, db.QueryRow("SELECT min(id) FROM ct_events").Scan(&id))
	_, err = db.Exec("UPDATE ct_events SET raw = CAST(? AS TEXT) WHERE id = ?", bad, id)
	require.NoError(t, err)
	require.NoError(t, db.QueryRow("SELECT min(id) FROM s3_access_lines").Scan(&aid))
	_, err = db.Exec("UPDATE s3_access_lines SET raw = CAST(? AS TEXT), spans = NULL WHERE id = ?", line, aid)
	require.NoError(t, err)
	require.NoError(t, c.Close())

	dir, m := exportCase(t, p, Options{})
	found := false
	for _, e := range readRows[eventRow](t, dir, m, "events") {
		if e.RawBytes != nil {
			found = true
			assert.Equal(t, bad, e.RawBytes)
			assert.Equal(t, "{\"eventName\":\"x\uFFFDy\"}", e.Raw)
		}
	}
	assert.True(t, found, "the record with invalid UTF-8 keeps its exact bytes")
	found = false
	for _, a := range readRows[accessRow](t, dir, m, "access_log") {
		if string(a.RawBytes) == string(line) {
			found = true
			assert.Equal(t, strings.ToValidUTF8(string(line), "\uFFFD"), a.Raw)
		}
	}
	assert.True(t, found, "the access-log line's exact bytes")
}

// TestExportLayout: row groups and files are bounded by the size of their
// values, never by partition alone; a day's records roll over files whose
// rows add up.
func TestExportLayout(t *testing.T) {
	p := verifiedCase(t, testSet())
	dir, m := exportCase(t, p, Options{RowGroupBytes: 8 << 10, FileBytes: 32 << 10})
	byDay := map[string]int{}
	groups := 0
	var total int64
	for _, f := range m.Files {
		if f.Table != "events" {
			continue
		}
		byDay[f.Partition["event_date"]]++
		total += f.Rows
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		require.NoError(t, err)
		fi, _ := fh.Stat()
		pf, err := parquet.OpenFile(fh, fi.Size())
		require.NoError(t, err)
		groups += len(pf.RowGroups())
		fh.Close()
	}
	for day, n := range byDay {
		assert.Greater(t, n, 1, "day %s rolls over several files", day)
	}
	assert.Greater(t, groups, len(byDay)*2)
	evs := readRows[eventRow](t, dir, m, "events")
	assert.EqualValues(t, len(evs), total)
	n, err := parseInt(caseQuery(t, p, "SELECT count(*) FROM ct_events")[0][0])
	require.NoError(t, err)
	assert.Equal(t, n, len(evs))
}

// TestExportFilters: --verified-only leaves out the records of log files
// that are not valid; --from and --to bound events and access-log lines.
func TestExportFilters(t *testing.T) {
	p := verifiedCase(t, testSet(), fixtures.LogHashMismatch)
	_, all := exportCase(t, p, Options{})
	dir, m := exportCase(t, p, Options{VerifiedOnly: true})
	evs := readRows[eventRow](t, dir, m, "events")
	for _, e := range evs {
		assert.True(t, e.Verified)
	}
	v, err := parseInt(caseQuery(t, p, "SELECT count(*) FROM ct_events_status WHERE verified = 1")[0][0])
	require.NoError(t, err)
	assert.Equal(t, v, len(evs))
	assert.Less(t, int64(len(evs)), all.Tables[0].Rows)
	assert.True(t, m.Filters.VerifiedOnly)

	from, to := "2024-03-04T06:00:00Z", "2024-03-04T12:00:00Z"
	dir, m = exportCase(t, p, Options{From: from, To: to})
	evs = readRows[eventRow](t, dir, m, "events")
	require.NotEmpty(t, evs)
	for _, e := range evs {
		s := e.EventTime.UTC().Format(time.RFC3339)
		assert.True(t, s >= from && s < to, s)
	}
	n, err := parseInt(caseQuery(t, p, "SELECT count(*) FROM ct_events WHERE event_time >= '"+from+"' AND event_time < '"+to+"'")[0][0])
	require.NoError(t, err)
	assert.Equal(t, n, len(evs))
	for _, a := range readRows[accessRow](t, dir, m, "access_log") {
		require.NotNil(t, a.RequestTime)
		s := a.RequestTime.UTC().Format(time.RFC3339)
		assert.True(t, s >= from && s < to, s)
	}
}

// TestExportRefusesAFolderInUse: an export never mixes with other files.
func TestExportRefusesAFolderInUse(t *testing.T) {
	p := verifiedCase(t, fixtures.Options{Seed: 7, Hours: 2, FilesPerHour: 1, EventsPerFile: 1})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.parquet"), []byte("x"), 0o644))
	_, _, err := Run(context.Background(), p, Options{Out: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not empty")
	b, err := os.ReadFile(filepath.Join(dir, "other.parquet"))
	require.NoError(t, err)
	assert.Equal(t, "x", string(b), "nothing in the folder is touched")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func parseInt(s string) (int, error) {
	var n int
	err := json.Unmarshal([]byte(s), &n)
	return n, err
}

// TestExportReadByDuckDB reads an export back with DuckDB (the npm package
// in testdata/duckdb; .ci/run installs it and requires this test to run)
// and checks that its counts and aggregates equal the same queries on
// the case.
func TestExportReadByDuckDB(t *testing.T) {
	node, script := duckDB(t)
	o := testSet()
	o.Regions = []string{"us-east-1", "eu-west-1"}
	p := verifiedCase(t, o, fixtures.LogHashMismatch, fixtures.LogDeletedViaS3)
	dir, _ := exportCase(t, p, Options{RowGroupBytes: 16 << 10, FileBytes: 64 << 10})
	const events = "read_parquet('$DIR/events/**/*.parquet', hive_partitioning=true)"
	const access = "read_parquet('$DIR/access_log/**/*.parquet', hive_partitioning=true)"
	checks := []struct{ name, duck, sqlite string }{
		{"rows and verified",
			"SELECT count(*) AS a, count(*) FILTER (WHERE verified) AS b FROM " + events,
			"SELECT count(*), sum(verified) FROM ct_events_status"},
		{"events per name",
			"SELECT event_name AS a, count(*) AS b FROM " + events + " GROUP BY 1 ORDER BY 1",
			"SELECT event_name, count(*) FROM ct_events GROUP BY 1 ORDER BY 1"},
		{"verified events per principal",
			"SELECT principal AS a, count(*) AS b FROM " + events + " WHERE verified GROUP BY 1 ORDER BY 1 NULLS FIRST",
			"SELECT principal, count(*) FROM ct_events_status WHERE verified = 1 GROUP BY 1 ORDER BY 1"},
		{"events per day",
			"SELECT CAST(event_date AS VARCHAR) AS a, count(*) AS b FROM " + events + " GROUP BY 1 ORDER BY 1",
			"SELECT substr(event_time, 1, 10), count(*) FROM ct_events GROUP BY 1 ORDER BY 1"},
		{"log files per status",
			"SELECT log_status AS a, count(DISTINCT evidence_id) AS b FROM " + events + " GROUP BY 1 ORDER BY 1",
			"SELECT log_status, count(DISTINCT evidence_id) FROM ct_events_status GROUP BY 1 ORDER BY 1"},
		{"access-log deletes per requester",
			"SELECT requester AS a, count(*) AS b FROM " + access + " WHERE operation LIKE '%DELETE%' GROUP BY 1 ORDER BY 1",
			"SELECT requester, count(*) FROM s3_access WHERE operation LIKE '%DELETE%' GROUP BY 1 ORDER BY 1"},
		{"access-log lines",
			"SELECT count(*) AS a, sum(bytes_sent) AS b FROM " + access,
			"SELECT count(*), sum(CASE WHEN bytes_sent GLOB '[0-9]*' THEN CAST(bytes_sent AS INTEGER) END) FROM s3_access"},
	}
	args := []string{script, dir}
	for _, c := range checks {
		args = append(args, c.duck)
	}
	out, err := exec.Command(node, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(checks), "%s", out)
	for i, c := range checks {
		var got []map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
		var duck [][]string
		for _, r := range got {
			duck = append(duck, []string{cell(r["a"]), cell(r["b"])})
		}
		want := caseQuery(t, p, c.sqlite)
		assert.Equal(t, want, duck, c.name)
		assert.NotEmpty(t, want, c.name)
	}
}

// cell is a DuckDB JSON value as caseQuery prints the case's.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// TestExportWorkersCutTheTimeRange: the events read by several workers,
// each a range of times, are every record once — those without a time
// too — each file in time order.
func TestExportWorkersCutTheTimeRange(t *testing.T) {
	p := verifiedCase(t, testSet())
	c, err := store.Open(context.Background(), p)
	require.NoError(t, err)
	_, err = casetest.DB(t, c).Exec("UPDATE ct_events SET event_time = NULL WHERE id IN (SELECT id FROM ct_events ORDER BY id LIMIT 3)")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	key := func(e eventRow) string { return itoa(e.EvidenceID) + "/" + itoa(e.RecordIndex) }
	_, one := exportCase(t, p, Options{Workers: 1})
	dir1 := filepath.Join(t.TempDir(), "x")
	_, _ = exportCase(t, p, Options{Out: dir1, Workers: 1})
	want := map[string]bool{}
	for _, e := range readRows[eventRow](t, dir1, one, "events") {
		want[key(e)] = true
	}
	for _, workers := range []int{2, 3, 5} {
		dir, m := exportCase(t, p, Options{Workers: workers, minRangeRows: 1})
		got := map[string]bool{}
		nulls := 0
		for _, f := range m.Files {
			if f.Table != "events" {
				continue
			}
			rows := readRows[eventRow](t, dir, &Manifest{Files: []File{f}}, "events")
			for i, e := range rows {
				k := key(e)
				assert.False(t, got[k], "record %s exported twice", k)
				got[k] = true
				if e.EventTime == nil {
					nulls++
					assert.Equal(t, HiveNull, f.Partition["event_date"])
				}
				if i > 0 && e.EventTime != nil && rows[i-1].EventTime != nil {
					assert.False(t, e.EventTime.Before(*rows[i-1].EventTime), "a file's rows in time order")
				}
			}
		}
		assert.Equal(t, want, got, "%d workers: every record once", workers)
		assert.Equal(t, 3, nulls, "records without a time")
		files := 0
		for _, f := range m.Files {
			if f.Table == "events" {
				files++
			}
		}
		assert.Greater(t, files, len(m.Tables[0].Partitions), "%d workers each wrote files", workers)
	}
}

// TestExportDDLForDuckDB runs the export's own DuckDB DDL (ddl/duckdb.sql)
// and checks that every view holds every row of its table — records
// without a time (partition __HIVE_DEFAULT_PARTITION__) included — and
// that the DDL of the other engines names every column of every table.
func TestExportDDLForDuckDB(t *testing.T) {
	p := verifiedCase(t, testSet(), fixtures.LogDeletedViaS3)
	c, err := store.Open(context.Background(), p)
	require.NoError(t, err)
	_, err = casetest.DB(t, c).Exec("UPDATE ct_events SET event_time = NULL WHERE id IN (SELECT id FROM ct_events ORDER BY id LIMIT 2)")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	dir, m := exportCase(t, p, Options{})
	var ddl []string
	for _, f := range m.Files {
		if f.Table == "ddl" {
			ddl = append(ddl, f.Path)
		}
	}
	assert.ElementsMatch(t, []string{"ddl/athena.sql", "ddl/trino.sql", "ddl/spark.py", "ddl/duckdb.sql", "ddl/clickhouse.sql"}, ddl)
	for _, name := range DDLFiles {
		b, err := os.ReadFile(filepath.Join(dir, "ddl", name))
		require.NoError(t, err)
		text := string(b)
		for _, td := range tableDefs {
			assert.Contains(t, text, td.name, "%s names table %s", name, td.name)
			if name == "duckdb.sql" || name == "clickhouse.sql" {
				continue // they read the files' own schema
			}
			for _, col := range columnsOf(td.row) {
				assert.Contains(t, text, col.name, "%s: %s.%s", name, td.name, col.name)
			}
		}
	}
	athena, err := os.ReadFile(filepath.Join(dir, "ddl", "athena.sql"))
	require.NoError(t, err)
	lo, hi, ok := dateRange(m.Tables[0].Partitions)
	require.True(t, ok)
	assert.Contains(t, string(athena), "'projection.event_date.range' = '"+lo+","+hi+"'")

	node, script := duckDB(t)
	ddlSQL, err := os.ReadFile(filepath.Join(dir, "ddl", "duckdb.sql"))
	require.NoError(t, err)
	queries := []string{string(ddlSQL)}
	for _, td := range tableDefs {
		queries = append(queries, "SELECT count(*) AS n FROM "+td.name)
	}
	queries = append(queries, "SELECT count(*) AS n FROM events WHERE event_date IS NULL AND event_time IS NULL")
	out, err := exec.Command(node, append([]string{script, dir}, queries...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(queries), "%s", out)
	sqlite := map[string]string{"events": "ct_events", "access_log": "s3_access", "evidence": "evidence",
		"item_status": "item_status", "findings": "findings", "digests": "ct_digests",
		"lake_sign_files": "lake_sign_files", "lake_results": "lake_results", "lake_rows": "lake_rows"}
	for i, td := range tableDefs {
		var got []map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i+1]), &got))
		assert.Equal(t, caseQuery(t, p, "SELECT count(*) FROM "+sqlite[td.name])[0][0], cell(got[0]["n"]), td.name)
	}
	var nulls []map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &nulls))
	assert.Equal(t, "2", cell(nulls[0]["n"]), "records without a time, in the null partition")
}

// duckDB is node and the DuckDB query script; without them the test is
// skipped, unless FORENSIC_REQUIRE_DUCKDB is set (.ci/run sets it), when
// it fails.
func duckDB(t *testing.T) (node, script string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "duckdb", "query.mjs"))
	require.NoError(t, err)
	node, nerr := exec.LookPath("node")
	_, merr := os.Stat(filepath.Join("testdata", "duckdb", "node_modules", "@duckdb", "node-api"))
	if nerr != nil || merr != nil {
		if os.Getenv("FORENSIC_REQUIRE_DUCKDB") != "" {
			t.Fatalf("DuckDB is required (FORENSIC_REQUIRE_DUCKDB) but not installed: node %v, module %v; run npm ci --prefix internal/export/testdata/duckdb", nerr, merr)
		}
		t.Skip("DuckDB not installed (npm ci --prefix internal/export/testdata/duckdb)")
	}
	return node, script
}
