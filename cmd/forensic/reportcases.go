package main

// forensic report --case A.db --case B.db ...: one signed report over the
// cases of several shards (ingest --shard). The cases are merged into one
// (store.MergeCase; a temporary case unless --merged-case names where to
// keep it), which is verified again as a whole with the trust anchors the
// cases share, the object verdicts carried from the case that judged them
// (verify/carry.go), and reported on as one case, with each case's own
// custody log in report.json's cases.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/report"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// shardCase is one case of a report over several, as checked before the
// merge.
type shardCase struct {
	path    string // absolute
	desc    report.MergedCase
	facts   store.MergeFacts
	anchors []store.TrustAnchorFile
	keys    []store.TrustAnchorKey
}

// readShardCases checks the cases a report over several cases is made
// from, each read only: every case verified, every custody log intact,
// the same sources and trust anchors, no shard in two cases, and object
// copies judged in one case at most. The case that judged objects comes
// first (the merge keeps its ids, which its object verdicts name).
func readShardCases(ctx context.Context, paths []string) ([]shardCase, error) {
	var out []shardCase
	seen := map[string]string{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[abs]; ok {
			return nil, usagef("report: --case %s names the case %s again", p, prev)
		}
		seen[abs] = p
		sc, err := readShardCase(ctx, abs)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	first := out[0]
	owner := ""
	shardOf := map[string]string{}
	for i, sc := range out {
		if strings.Join(sc.facts.Sources, ",") != strings.Join(first.facts.Sources, ",") {
			return nil, failedError{fmt.Sprintf("report: refused: case %s was ingested from other sources than %s (source SHA-256 %s, against %s): "+
				"the cases of a report must be shards of the same evidence", sc.path, first.path,
				strings.Join(sc.facts.Sources, ", "), strings.Join(first.facts.Sources, ", "))}
		}
		if a, b := anchorFiles(sc.anchors, sc.keys), anchorFiles(first.anchors, first.keys); a != b {
			return nil, failedError{fmt.Sprintf("report: refused: case %s was verified with other trust anchors than %s (%s, against %s): "+
				"verify every case with the same --public-keys", sc.path, first.path, a, b)}
		}
		shards := sc.desc.Shards
		if len(shards) == 0 {
			shards = []string{"every shard"}
		}
		for _, s := range shards {
			for _, o := range []string{s, "every shard"} {
				if prev, ok := shardOf[o]; ok {
					return nil, failedError{fmt.Sprintf("report: refused: cases %s and %s both hold %s: the cases overlap", prev, sc.path, s)}
				}
			}
			shardOf[s] = sc.path
		}
		if len(sc.desc.Shards) == 0 && len(out) > 1 {
			return nil, failedError{fmt.Sprintf("report: refused: case %s holds every shard of its sources, so it overlaps every other case", sc.path)}
		}
		if sc.facts.Objects > 0 {
			if owner != "" {
				return nil, failedError{fmt.Sprintf("report: refused: object copies were judged in both %s and %s; a report over several cases "+
					"carries the object verdicts of one case (forensic plan puts every object in shard rest)", owner, sc.path)}
			}
			owner = sc.path
			out[0], out[i] = out[i], out[0]
			out[0].desc.Objects = true
		}
	}
	return out, nil
}

func readShardCase(ctx context.Context, abs string) (shardCase, error) {
	sc := shardCase{path: abs}
	c, err := store.OpenReadOnly(ctx, abs)
	if err != nil {
		return sc, err
	}
	defer c.Close()
	u, err := c.CheckVerified(ctx, 5)
	if err != nil {
		return sc, err
	}
	if u.Any() {
		return sc, failedError{fmt.Sprintf("report: refused: case %s is not verified: %s. Run 'forensic verify --case %s --public-keys KEYS' first",
			abs, u.Reason(), abs)}
	}
	if sc.desc, err = report.DescribeCase(ctx, c); err != nil {
		return sc, err
	}
	if p := sc.desc.Custody.Problems; len(p) > 0 {
		return sc, failedError{fmt.Sprintf("report: refused: the custody record of case %s does not hold: %s", abs, strings.Join(p, "; "))}
	}
	if sc.facts, err = c.MergeFacts(ctx); err != nil {
		return sc, err
	}
	if sc.anchors, sc.keys, err = c.TrustAnchors(ctx); err != nil {
		return sc, err
	}
	return sc, nil
}

// anchorFiles names a case's trust anchors by content, the files and
// the keys recorded from them (the paths differ from machine to machine).
func anchorFiles(fs []store.TrustAnchorFile, keys []store.TrustAnchorKey) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("file %s (%d bytes, %d keys)", f.SHA256, f.Size, f.Keys))
	}
	for _, k := range keys {
		sum := sha256.Sum256(k.DER)
		s = append(s, fmt.Sprintf("key %s (DER SHA-256 %s, %d bits, valid %s to %s) of file %s", k.Fingerprint,
			hex.EncodeToString(sum[:]), k.Bits, k.ValidityStart, k.ValidityEnd, k.FileSHA256))
	}
	sort.Strings(s)
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// mergeCases makes the merged case at dst from the cases, each merge
// recorded in its custody log, and verifies it as a whole.
func mergeCases(ctx context.Context, dst string, cases []shardCase, op string) error {
	c, err := store.Open(ctx, dst)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, sc := range cases {
		start := time.Now().UTC()
		added, err := c.MergeCase(ctx, sc.path)
		if err != nil {
			return err
		}
		d := sc.desc
		in := map[string]any{"case": sc.path, "case_id": d.CaseID, "case_sha256": d.SHA256, "case_size": d.Size,
			"custody_count": len(d.Custody.Entries), "custody_head": deref(d.Custody.HeadHash), "shards": d.Shards,
			"sources": sc.facts.Sources, "objects_carried": d.Objects}
		if len(sc.facts.SourceShards) == 1 {
			in["source_shards"] = sc.facts.SourceShards[0]
		}
		inputs, _ := json.Marshal(in)
		_, _, err = c.AppendIngestCustody(ctx, store.CustodyEntry{
			Time: start.Format(time.RFC3339Nano), Operator: op, Host: hostname(), Tool: toolString(),
			Command: store.CommandMerge, Args: []string{"report", "--case", sc.path}, Inputs: inputs,
		}, added, func(cl store.IngestClaim) (json.RawMessage, error) {
			out := map[string]any{"case": dst, "added": added, "claimed": cl.Claimed, "recovered": cl.Recovered,
				"claimed_events_sha256": cl.EventsSHA256}
			if cl.Widened > 0 {
				out["widened"], out["widened_events_sha256"] = cl.Widened, cl.WidenedEventsSHA256
			}
			return json.Marshal(out)
		})
		if err != nil {
			return fmt.Errorf("record the merge of %s: %w", sc.path, err)
		}
	}
	// The trust anchors the cases share, as the first recorded them (the
	// merged case holds none until it is verified).
	first, err := store.OpenReadOnly(ctx, cases[0].path)
	if err != nil {
		return err
	}
	anchors, err := verify.AnchorsFromCase(ctx, first)
	first.Close()
	if err != nil {
		return err
	}
	start := time.Now().UTC()
	rep, err := verify.Run(ctx, c, verify.Options{Anchors: anchors, CarryObjects: cases[0].desc.Objects})
	if err != nil {
		return err
	}
	weak := false
	if anchors != nil {
		for _, k := range anchors.Keys {
			weak = weak || k.Bits < verify.MinKeyBits
		}
	}
	return appendVerifyCustody(ctx, c, verifyOptions{casePath: dst, allowWeak: weak, operator: op,
		anchorsFrom: cases[0].path, objectsFrom: map[bool]string{true: cases[0].path}[cases[0].desc.Objects]}, anchors, rep, start)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// runCasesReport writes one report over several cases (see the top of
// this file).
func runCasesReport(ctx context.Context, o reportOptions, stdout io.Writer) (*report.Result, error) {
	cases, err := readShardCases(ctx, o.cases)
	if err != nil {
		return nil, err
	}
	dst := o.mergedCase
	if dst == "" {
		tmp, err := os.MkdirTemp("", "forensic-merge-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dst = filepath.Join(tmp, "merged.db")
	}
	op := operator(o.operator)
	if err := mergeCases(ctx, dst, cases, op); err != nil {
		if o.mergedCase != "" {
			// Made by this run, and not a whole merge: not left to be taken
			// for one.
			for _, p := range []string{dst, dst + "-wal", dst + "-shm"} {
				os.Remove(p)
			}
		}
		return nil, err
	}
	descs := make([]report.MergedCase, len(cases))
	for i, sc := range cases {
		descs[i] = sc.desc
	}
	o.casePath, o.merged = dst, descs
	res, err := runReport(ctx, o, stdout)
	if err != nil || res == nil {
		return res, err
	}
	// Each case's own log records the report that covers it.
	for _, sc := range cases {
		c, err := store.Open(ctx, sc.path)
		if err != nil {
			return res, fmt.Errorf("report written to %s, but recording it in the custody log of %s failed: %w", res.Dir, sc.path, err)
		}
		err = appendReportCustody(ctx, c, res, op, res.Identity, reportArgs(o, res.Identity), time.Now().UTC())
		c.Close()
		if err != nil {
			return res, fmt.Errorf("report written to %s, but recording it in the custody log of %s failed: %w", res.Dir, sc.path, err)
		}
	}
	return res, nil
}
