package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// IngestShards returns the shards the case holds, from its custody log:
// the union of the shards its ingests named (ingest --shard), or nil when
// some ingest took every shard (or none ran).
func (c *Case) IngestShards(ctx context.Context) ([]string, error) {
	rows, err := c.query(ctx, "SELECT inputs FROM custody WHERE command = 'ingest' ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("read custody: %w", err)
	}
	defer rows.Close()
	set := map[string]bool{}
	n := 0
	for rows.Next() {
		var in string
		if err := rows.Scan(&in); err != nil {
			return nil, err
		}
		n++
		var v struct {
			Shards []string `json:"shards"`
		}
		if json.Unmarshal([]byte(in), &v) != nil || len(v.Shards) == 0 {
			return nil, rows.Err() // an ingest of every shard
		}
		for _, s := range v.Shards {
			set[s] = true
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
	return out, nil
}
