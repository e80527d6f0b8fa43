package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/forensic-dev/forensic/internal/export"
	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/store"
)

const exportUsage = `Usage: forensic export --case CASE.db --out DIR [--verified-only] [--from TIME] [--to TIME] [--location URI]

Writes the case as a Parquet dataset that Athena, Trino, Spark and DuckDB
read, one folder per table: events (every indexed CloudTrail record with
the raw record and its integrity: the log file's status, verified, the
evidence SHA-256, path and member, the digest that lists it and its
status), access_log (every field of every S3 server access-log line, the
exact line, its file and line number), evidence (the inventory),
item_status (every verdict with its checks), findings, digests, and
lake_sign_files, lake_results and lake_rows (CloudTrail Lake query
results with their statuses; rows only after ingest --lake-rows).
events and access_log are partitioned Hive-style by day
(events/event_date=YYYY-MM-DD/, access_log/request_date=YYYY-MM-DD/), rows in
time order; files are zstd-compressed. DIR/MANIFEST.json lists every file
with its SHA-256, size, row count and partition, and the export is
recorded in the case's custody log. DIR/ddl holds the tables' DDL for
Athena, Trino, Spark, DuckDB and ClickHouse, for the folder read from
--location (copy DIR there and run it as it is). Run 'forensic verify'
first: the integrity columns are the last verification's.

Flags:
  --verified-only   events: only the records of verified log files (Lake rows: of valid result files)
  --from TIME       events and access-log lines at or after TIME (RFC 3339)
  --to TIME         ... and before TIME
  --location URI    where DIR will be read from, for the DDL: an s3:// prefix for
                    Athena and Trino (default: DIR's absolute path)

Examples:
  forensic export --case case.db --out export/
  forensic export --case case.db --out export/ --verified-only --from 2024-03-01T00:00Z --to 2024-04-01T00:00Z
  forensic export --case case.db --out export/ --location s3://my-bucket/cases/case-42
  duckdb -c "SELECT event_name, count(*) FROM read_parquet('export/events/**/*.parquet', hive_partitioning=true) WHERE verified GROUP BY 1"
`

type exportOptions struct {
	casePath, out, from, to string
	location                string
	verifiedOnly            bool
	operator                string
	rowGroupBytes           int64
	fileBytes               int64
}

// exportMemoryLimit lets the heap hold a row group being built (about 128
// MiB of values) beside the case's reads.
const exportMemoryLimit = 400 << 20

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return cmdExportMerge(ctx, args[1:], stdout, stderr)
	}
	var o exportOptions
	fs := newFlagSet("export", exportUsage, stderr)
	fs.StringVar(&o.casePath, "case", "", "case file (required)")
	fs.StringVar(&o.out, "out", "", "export folder: new or empty (required)")
	fs.BoolVar(&o.verifiedOnly, "verified-only", false, "events: only the records of verified log files (Lake rows: of valid result files)")
	fs.StringVar(&o.from, "from", "", "start time, inclusive (RFC 3339, e.g. 2024-03-04T00:00Z)")
	fs.StringVar(&o.to, "to", "", "end time, exclusive")
	fs.StringVar(&o.location, "location", "", "where the folder will be read from, for the DDL in DIR/ddl (an s3:// prefix for Athena and Trino; default: DIR's absolute path)")
	fs.StringVar(&o.operator, "operator", "", "who runs the command, for the custody log (default: the OS user)")
	fs.Int64Var(&o.rowGroupBytes, "row-group-bytes", 0, "")
	fs.Int64Var(&o.fileBytes, "file-bytes", 0, "")
	fs.MarkHidden("row-group-bytes")
	fs.MarkHidden("file-bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.casePath == "" || o.out == "" {
		return usagef("export: --case and --out are required")
	}
	if fs.NArg() > 0 {
		return usagef("export: unexpected argument %q", fs.Arg(0))
	}
	if _, err := regfile.Check(o.casePath); err != nil {
		return usagef("export: case %s: %v", o.casePath, unwrap(err))
	}
	var from, to string
	for _, b := range []struct {
		flag, val string
		dst       *string
	}{{"--from", o.from, &from}, {"--to", o.to, &to}} {
		if b.val == "" {
			continue
		}
		t, err := parseTimeFlag(b.val)
		if err != nil {
			return usagef("export: %s: %v", b.flag, err)
		}
		*b.dst = t.UTC().Format(time.RFC3339)
	}
	if from != "" && to != "" && to <= from {
		return usagef("export: --to must be after --from")
	}
	if err := outputInSource("export", "--out", o.out, caseSources(ctx, o.casePath)); err != nil {
		return err
	}
	debug.SetMemoryLimit(exportMemoryLimit)
	return runExport(ctx, o, from, to, stdout)
}

func runExport(ctx context.Context, o exportOptions, from, to string, stdout io.Writer) error {
	start := time.Now().UTC()
	// export.Run reads the case through read-only connections of its own;
	// the custody entry is written on a read-write one at the end.
	m, sum, err := export.Run(ctx, o.casePath, export.Options{Out: o.out, VerifiedOnly: o.verifiedOnly, From: from, To: to,
		RowGroupBytes: o.rowGroupBytes, FileBytes: o.fileBytes, Tool: toolString(), Now: start, Location: o.location})
	if err != nil {
		return err
	}
	c, err := store.Open(ctx, o.casePath)
	if err != nil {
		return err
	}
	defer c.Close()
	out, _ := filepath.Abs(o.out)
	rows := map[string]int64{}
	for _, t := range m.Tables {
		rows[t.Name] = t.Rows
	}
	in, _ := json.Marshal(map[string]any{"filters": m.Filters})
	res, _ := json.Marshal(map[string]any{"folder": out, "manifest": export.ManifestFor(m.Shards), "manifest_sha256": sum,
		"files": len(m.Files), "rows": rows, "shards": m.Shards})
	args := []string{"export", "--case", o.casePath, "--out", o.out}
	if o.verifiedOnly {
		args = append(args, "--verified-only")
	}
	if from != "" {
		args = append(args, "--from", from)
	}
	if to != "" {
		args = append(args, "--to", to)
	}
	if o.location != "" {
		args = append(args, "--location", o.location)
	}
	if _, err := c.AppendCustody(ctx, store.CustodyEntry{Time: start.Format(time.RFC3339Nano), Operator: operator(o.operator),
		Host: hostname(), Tool: toolString(), Command: "export", Args: args, Inputs: in, Outputs: res}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %s to %s: %d files\n", o.casePath, o.out, len(m.Files))
	for _, t := range m.Tables {
		fmt.Fprintf(stdout, "  %-12s %10d rows in %d files\n", t.Name, t.Rows, t.Files)
	}
	fmt.Fprintf(stdout, "manifest: %s (sha256 %s)\n", filepath.Join(o.out, export.ManifestFor(m.Shards)), sum)
	return nil
}

const exportMergeUsage = `Usage: forensic export merge DIR [--location URI]

Combines the exports of shards ('forensic ingest --shard', one case each,
each exported with 'forensic export') copied into one folder DIR: their
data files never collide (each carries its case's id) and each shard's
manifest is MANIFEST-<shards>.json. merge checks every file against its
manifest, refuses two manifests that claim one shard or one file, a file
no manifest lists, and shards exported with other filters, then writes
the DDL of the whole (DIR/ddl) and DIR/MANIFEST.json, which lists every
file (the shard manifests among them) and what it merged.

Example:
  for s in area-c855ea7ed402 area-7e393fca0fd5 rest; do cp -r export-$s/. merged/; done
  forensic export merge merged/ --location s3://my-bucket/cases/case-42
`

func cmdExportMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export merge", exportMergeUsage, stderr)
	location := fs.String("location", "", "where the folder will be read from, for the DDL (default: DIR's absolute path)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("export merge: name the folder the shards' exports were copied into")
	}
	dir := fs.Arg(0)
	m, sum, err := export.Merge(dir, *location, toolString(), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %d shard exports in %s: %d files\n", len(m.MergedFrom), dir, len(m.Files))
	for _, t := range m.Tables {
		fmt.Fprintf(stdout, "  %-12s %10d rows in %d files\n", t.Name, t.Rows, t.Files)
	}
	fmt.Fprintf(stdout, "manifest: %s (sha256 %s)\n", filepath.Join(dir, export.ManifestName), sum)
	return nil
}
