package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/store"
)

const ingestUsage = `Usage: forensic ingest --case CASE.db [--json] [--events all|none] [--from T] [--to T] [--account ID]... [--region R]... [--shard ID]... [--lake-rows] PATH...

Reads folders, single files and archives (.tar, .tar.gz/.tgz, .tar.zst,
.zip, standalone .gz, archives inside archives) as a stream, hashes every
item, classifies it and indexes it into the case file. Evidence is opened
read-only; nothing is extracted to disk. Ingesting the same item again adds
nothing; an interrupted ingest can simply be run again.

` + eventsFlagsUsage + `
--shard ID (repeatable) takes only that shard's items ('forensic plan PATH...'
lists the shards): the work on a large export splits across machines,
each ingesting and verifying its own shards into a case of its own. The
files of a folder are still hashed for the folder's own hash, and the
custody entry names the shards.

CloudTrail Lake query results (result_sign.json and result_N.csv.gz, as
Lake delivers them to S3) are recognised; each result file's CSV header
and row count are indexed (lake_results), and with --lake-rows its rows
too (lake_rows, up to 16 MiB of rows per file). 'forensic verify' checks
them against their sign file's signature.

Examples:
  forensic ingest --case case.db evidence.tar.zst more-evidence/ keys/
  forensic ingest --case case.db --json export/ > ingest-summary.json
  forensic ingest --case case.db --events none org-export.tar.zst      # verify everything, index nothing
  forensic ingest --case case.db --account 111122223333 --from 2024-03-04 --to 2024-03-06 org-export.tar.zst

Exit status: 0 all items read, 1 some items could not be read or parsed
(each is listed), 2 usage error.
`

type ingestOptions struct {
	casePath   string
	json       bool
	workers    int
	operator   string
	cpuProfile string
	paths      []string
	events     store.EventFilter
	shards     []string // --shard: only these shards' items (see forensic plan)
	lakeRows   bool
}

func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o ingestOptions
	fs := newFlagSet("ingest", ingestUsage, stderr)
	fs.StringVar(&o.casePath, "case", "", "case file to create or add to (required)")
	fs.BoolVar(&o.json, "json", false, "print a JSON summary on stdout")
	fs.IntVar(&o.workers, "workers", 0, "parse workers (default: number of CPUs)")
	fs.StringVar(&o.operator, "operator", "", "who runs the command, for the custody log (default: the OS user)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file (for performance work)")
	fs.MarkHidden("cpuprofile")
	fs.StringArrayVar(&o.shards, "shard", nil, "take only this shard's items, an id 'forensic plan' prints (repeatable)")
	fs.BoolVar(&o.lakeRows, "lake-rows", false, "index the rows of CloudTrail Lake result files, not only their header and row count")
	var ef eventsFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkShards("ingest", o.shards); err != nil {
		return err
	}
	o.paths = fs.Args()
	if o.casePath == "" {
		return usagef("ingest: --case is required")
	}
	var err error
	if o.events, err = ef.filter("ingest"); err != nil {
		return err
	}
	if len(o.paths) == 0 {
		return usagef("ingest: name at least one folder, file or archive to read")
	}
	for _, p := range o.paths {
		if _, err := os.Lstat(p); err != nil {
			return usagef("ingest: cannot read %s: %v", p, unwrap(err))
		}
	}
	if err := outputInSource("ingest", "--case", o.casePath, append(o.paths, caseSources(ctx, o.casePath)...)); err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return usagef("ingest: %v", err)
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	_, err = runIngest(ctx, o, stdout, stderr, isTerminal(stderr))
	return err
}

func runIngest(ctx context.Context, o ingestOptions, stdout, stderr io.Writer, progress bool) (*ingest.Summary, error) {
	c, err := store.Open(ctx, o.casePath)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now().UTC()
	opt := ingest.Options{Workers: o.workers, Events: o.events, Shards: shardSet(o.shards), LakeRows: o.lakeRows}
	// Errors are printed as they are found (the summary keeps only the
	// first of them); the progress line, on a terminal, is cleared first.
	var mu sync.Mutex
	opt.OnError = func(e ingest.ItemError) {
		mu.Lock()
		defer mu.Unlock()
		if progress {
			fmt.Fprint(stderr, "\r\033[K")
		}
		fmt.Fprintf(stderr, "forensic: error: %s: %s\n", display.Quote(e.Path), display.Quote(e.Error))
	}
	if progress {
		opt.Progress = func(p ingest.Progress) {
			mu.Lock()
			defer mu.Unlock()
			printProgress(stderr, p)
		}
	}
	sum, runErr := ingest.Run(ctx, c, o.paths, opt)
	if progress {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if sum == nil {
		return nil, runErr
	}
	for _, d := range sum.DuplicateNames {
		fmt.Fprintf(stderr, "forensic: warning: a name occurs more than once in one source: %s; each copy is its own item (verify reports duplicate_name)\n", display.Quote(d))
	}
	if n := sum.DuplicateNameCount - len(sum.DuplicateNames); n > 0 {
		fmt.Fprintf(stderr, "forensic: warning: %d more names occur more than once in one source (verify reports each)\n", n)
	}
	if runErr == nil {
		if err := appendIngestCustody(ctx, c, o, sum, start); err != nil {
			return sum, err
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return sum, err
		}
	} else {
		printIngestSummary(stdout, sum)
	}
	if runErr != nil {
		return sum, runErr
	}
	if sum.ErrorCount > 0 {
		return sum, failedError{fmt.Sprintf("%s could not be read or parsed (listed above; each is on its evidence row: "+
			"SELECT path, member, error FROM evidence WHERE error IS NOT NULL); everything else was ingested", display.Plural(sum.ErrorCount, "item", "items"))}
	}
	return sum, nil
}

// appendIngestCustody records the run in the custody log. The entry claims
// the items the run added and any an earlier, interrupted ingest left
// unclaimed (sum.Recovered), in the same transaction.
func appendIngestCustody(ctx context.Context, c *store.Case, o ingestOptions, sum *ingest.Summary, start time.Time) error {
	inputs := map[string]any{"sources": sum.Sources}
	args := append([]string{"ingest"}, eventsArgs(o.events)...)
	if o.lakeRows {
		args = append(args, "--lake-rows")
	}
	if len(o.shards) > 0 {
		// A shard's case holds part of its sources: the entry says which.
		inputs["shards"] = o.shards
		// Every shard the sources hold: the shards' cases, merged, cover
		// them whole when their shards are all of these.
		inputs["source_shards"] = store.ShardSetOf(sum.SourceShards)
		for _, id := range o.shards {
			args = append(args, "--shard", id)
		}
	}
	in, _ := json.Marshal(inputs)
	_, claim, err := c.AppendIngestCustody(ctx, store.CustodyEntry{
		Time: start.Format(time.RFC3339Nano), Operator: operator(o.operator), Host: hostname(),
		Tool: toolString(), Command: "ingest", Args: append(args, o.paths...),
		Inputs: in,
	}, sum.Added, func(cl store.IngestClaim) (json.RawMessage, error) {
		out := map[string]any{
			"case": o.casePath, "items": sum.Items, "added": sum.Added, "already_in_case": sum.AlreadyInCase,
			"events": sum.Events, "errors": sum.ErrorCount, "kinds": sum.Kinds,
			"claimed": cl.Claimed, "recovered": cl.Recovered, "claimed_events_sha256": cl.EventsSHA256,
		}
		if !o.events.All() {
			out["events_filter"] = o.events.Encode()
		}
		if cl.Widened > 0 {
			out["widened"], out["widened_events_sha256"] = cl.Widened, cl.WidenedEventsSHA256
		}
		return json.Marshal(out)
	})
	if err == nil {
		sum.Recovered = claim.Recovered
	}
	return err
}

func printIngestSummary(w io.Writer, s *ingest.Summary) {
	size := humanSize(s.Bytes)
	if s.ContainerBytes > 0 {
		size += ", from archives of " + humanSize(s.ContainerBytes)
	}
	fmt.Fprintf(w, "ingested %d items (%s) in %.1fs: %d new, %d already in the case\n",
		s.Items, size, s.Seconds, s.Added, s.AlreadyInCase)
	if s.Recovered > 0 {
		fmt.Fprintf(w, "  recovered %d items an earlier ingest recorded without a custody entry (it was interrupted); this run's entry claims them\n", s.Recovered)
	}
	rate := ""
	if s.Seconds >= 1 {
		// A rate over less than a second says nothing.
		rate = fmt.Sprintf(" (%.0f events/s)", s.EventsPerSecond)
	}
	fmt.Fprintf(w, "  cloudtrail: %d log files, %d events%s, %d digests\n", s.LogFiles, s.Events, rate, s.Digests)
	if s.EventsFilter != "all" || s.RecordsNotIndexed > 0 || s.LogsNotSplit > 0 || s.Widened > 0 {
		fmt.Fprintf(w, "  events indexed: %s; %d records of the log files read not indexed, %d log files not split into records (hashed only)\n",
			display.Quote(s.EventsFilter), s.RecordsNotIndexed, s.LogsNotSplit)
		if s.Widened > 0 {
			fmt.Fprintf(w, "  widened %d log files already in the case (bytes matched the recorded SHA-256): %d records added\n", s.Widened, s.WidenedEvents)
		}
	}
	fmt.Fprintf(w, "  public keys: %d   object metadata: %d   objects: %d\n", s.PublicKeys, s.ObjectMetadata, s.Objects)
	fmt.Fprintf(w, "  access logs: %d files, %d records   unknown: %d   errors: %d\n", s.AccessLogFiles, s.AccessLogRecords, s.Unknown, s.ErrorCount)
	kinds := make([]string, 0, len(s.Kinds))
	for k := range s.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s=%d", display.Quote(k), s.Kinds[k])
	}
	fmt.Fprintf(w, "  by kind: %s\n", strings.Join(parts, " "))
	for _, src := range s.Sources {
		fmt.Fprintf(w, "  source %s (%s): sha256 %s (%s)\n", display.Quote(src.Path), display.Quote(src.Format),
			display.Quote(src.SHA256), display.Quote(src.HashMethod))
	}
}

func printProgress(w io.Writer, p ingest.Progress) {
	secs := p.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.Events) / secs
	}
	line := fmt.Sprintf("\r\033[K%d items, %s, %d events, %.0f events/s", p.Items, humanSize(p.Bytes), p.Events, rate)
	if p.TotalBytes > 0 && p.DiskBytes > 0 && p.DiskBytes <= p.TotalBytes {
		eta := time.Duration(float64(p.Elapsed) * float64(p.TotalBytes-p.DiskBytes) / float64(p.DiskBytes))
		if p.Phase != "" {
			line += ", 100%"
		} else {
			line += fmt.Sprintf(", %.0f%%, ETA %s", 100*float64(p.DiskBytes)/float64(p.TotalBytes), eta.Round(time.Second))
		}
	}
	if p.Phase != "" {
		line += "; " + p.Phase + "…"
	}
	fmt.Fprint(w, line)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
