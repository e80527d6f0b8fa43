package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/internal/shard"
	"github.com/forensic-dev/forensic/internal/source"
)

const planUsage = `Usage: forensic plan [--json] PATH...

Lists the shards of an evidence export, so that the work splits across
machines: one shard per area of CloudTrail's delivery layout (key prefix,
organization, account and region, with every trail and backfill chain
that delivers there: a log file's key does not name its trail, so a
chain's digests and the log files they list are always in one shard),
and the shard rest for everything else (access logs, S3 objects and their
metadata, public keys, unknown files). A digest's saved metadata goes with
the digest. For each shard: its id, its area, and its items and bytes.
Each machine then runs 'forensic ingest --shard ID' on the same export.
The shard of an item comes from its name alone (below the PATH given, or
its name inside an archive), so every machine names the same shards
wherever the export sits. Archives are read to list their members.

Examples:
  forensic plan org-export.tar.zst
  forensic plan --json export/ | jq -r '.[].shard' | parallel forensic ingest --case case-{}.db --shard {} export/
`

// planShard is one shard of a plan.
type planShard struct {
	Shard   string `json:"shard"`
	Prefix  string `json:"prefix"`
	OrgID   string `json:"org_id"`
	Account string `json:"account"`
	Region  string `json:"region"`
	Items   int64  `json:"items"`
	Bytes   int64  `json:"bytes"`
}

func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan", planUsage, stderr)
	asJSON := fs.Bool("json", false, "print the shards as a JSON array")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		return usagef("plan: name at least one folder, file or archive")
	}
	shards := map[string]*planShard{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(abs); err != nil {
			return usagef("plan: cannot read %s: %v", p, unwrap(err))
		}
		err = source.Walk(ctx, abs, source.Options{}, func(e *source.Entry, rd io.Reader) error {
			if e.Container || e.Err != nil && rd == nil {
				return nil
			}
			id, a, _ := shard.Of(shard.EntryName(abs, e.Path, e.Member))
			s := shards[id]
			if s == nil {
				s = &planShard{Shard: id, Prefix: a.Prefix, OrgID: a.OrgID, Account: a.Account, Region: a.Region}
				shards[id] = s
			}
			s.Items++
			if e.Size > 0 {
				s.Bytes += e.Size
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("plan: %s: %w", p, err)
		}
	}
	out := make([]*planShard, 0, len(shards))
	for _, s := range shards {
		out = append(out, s)
	}
	// Areas in layout order, rest last.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Shard == shard.Rest) != (b.Shard == shard.Rest) {
			return b.Shard == shard.Rest
		}
		ka := a.Prefix + "\x00" + a.OrgID + "\x00" + a.Account + "\x00" + a.Region
		kb := b.Prefix + "\x00" + b.OrgID + "\x00" + b.Account + "\x00" + b.Region
		if ka != kb {
			return ka < kb
		}
		return a.Shard < b.Shard
	})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tPREFIX\tORG\tACCOUNT\tREGION\tITEMS\tBYTES")
	q := display.Quote
	for _, s := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", s.Shard, q(s.Prefix), q(s.OrgID), q(s.Account), q(s.Region), s.Items, s.Bytes)
	}
	return tw.Flush()
}

// checkShards refuses a --shard value that is no shard id.
func checkShards(cmd string, ids []string) error {
	for _, id := range ids {
		if !shard.ValidID(id) {
			return usagef("%s: --shard %q is not a shard id ('forensic plan' lists them: area-<12 hex digits>, or rest)", cmd, id)
		}
	}
	return nil
}

// shardSet is the ids as ingest takes them (nil: every shard).
func shardSet(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}
