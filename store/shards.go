package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// IngestShards returns the shards the case holds, from its custody log:
// the union of the shards its ingests named (ingest --shard) and the cases
// merged into it named, or nil when it holds every shard of its sources:
// some ingest or merged case took every shard, or the union is every
// shard an ingest of a shard saw in its sources (inputs.source_shards),
// or no ingest ran.
func (c *Case) IngestShards(ctx context.Context) ([]string, error) {
	rows, err := c.query(ctx, "SELECT inputs FROM custody WHERE command IN ('ingest', ?) ORDER BY seq", CommandMerge)
	if err != nil {
		return nil, fmt.Errorf("read custody: %w", err)
	}
	defer rows.Close()
	set := map[string]bool{}
	whole := map[ShardSet]bool{}
	n := 0
	for rows.Next() {
		var in string
		if err := rows.Scan(&in); err != nil {
			return nil, err
		}
		n++
		var v struct {
			Shards       []string  `json:"shards"`
			SourceShards *ShardSet `json:"source_shards"`
		}
		if json.Unmarshal([]byte(in), &v) != nil || len(v.Shards) == 0 {
			return nil, rows.Err() // every shard
		}
		for _, s := range v.Shards {
			set[s] = true
		}
		if v.SourceShards != nil {
			whole[*v.SourceShards] = true
		}
	}
	if err := rows.Err(); err != nil || n == 0 {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	if whole[ShardSetOf(out)] {
		return nil, nil
	}
	return out, nil
}

// ShardSet is a set of shard ids as a custody entry records it: how many,
// and the hex SHA-256 of the ids sorted, each followed by a newline. Two
// sets are the same shards exactly when their ShardSets are equal.
type ShardSet struct {
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// ShardSetOf is the ShardSet of ids (a repeat counts once).
func ShardSetOf(ids []string) ShardSet {
	u := append([]string(nil), ids...)
	sort.Strings(u)
	u = slices.Compact(u)
	h := sha256.New()
	for _, id := range u {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return ShardSet{Count: len(u), SHA256: hex.EncodeToString(h.Sum(nil))}
}
