package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mergeClaim records a merge as forensic report --case A --case B does.
func mergeClaim(t *testing.T, c *Case, added int, shards []string, whole *ShardSet) {
	t.Helper()
	in := map[string]any{"shards": shards}
	if whole != nil {
		in["source_shards"] = whole
	}
	b, _ := json.Marshal(in)
	_, _, err := c.AppendIngestCustody(context.Background(), CustodyEntry{Operator: "a", Host: "h", Tool: "t", Command: CommandMerge, Inputs: b},
		added, func(cl IngestClaim) (json.RawMessage, error) {
			return json.Marshal(map[string]any{"added": cl.Added, "claimed": cl.Claimed, "recovered": cl.Recovered,
				"claimed_events_sha256": cl.EventsSHA256})
		})
	require.NoError(t, err)
}

// shardCase is a closed case at a new path holding n log files named by
// prefix and one source row, with a status and a finding.
func shardCase(t *testing.T, prefix string, n int) string { return shardCaseAt(t, "/e", prefix, n) }

// shardCaseAt is shardCase with the source at root (another machine).
func shardCaseAt(t *testing.T, root, prefix string, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), prefix+".db")
	c, err := Open(context.Background(), p)
	require.NoError(t, err)
	defer c.Close()
	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: Evidence{Source: root, Path: root, SHA256: strings.Repeat("a", 64), Kind: KindSource}})
	for i := 0; i < n; i++ {
		w.Add(&Item{Evidence: Evidence{Source: root, Path: fmt.Sprintf("%s/%s-%d.json", root, prefix, i), SHA256: strings.Repeat("b", 64),
			Kind: KindCloudTrailLog}, Events: awkwardEvents()[:1+i%3]})
	}
	_, err = w.Close()
	require.NoError(t, err)
	claim(t, c, n+1)
	ctx := context.Background()
	_, err = c.db.ExecContext(ctx, `INSERT INTO item_status(kind, s3_key, evidence_id, status, detail)
		SELECT 'log', path, id, 'valid', '{}' FROM evidence WHERE kind = ?`, KindCloudTrailLog)
	require.NoError(t, err)
	_, err = c.db.ExecContext(ctx, "INSERT INTO findings(type, summary, detail) VALUES ('gap', ?, '{}')", prefix)
	require.NoError(t, err)
	return p
}

// TestMergeCase: two cases merge with their ids offset past the first's,
// every row of each once (the source row they share once), each merge
// claimed by its entry, and the merged custody record intact; a case
// merged twice, or of another schema, is refused.
func TestMergeCase(t *testing.T) {
	ctx := context.Background()
	a, b := shardCase(t, "a", 3), shardCase(t, "b", 4)
	before := fileHash(t, a)
	m := openTemp(t)
	n, err := m.MergeCase(ctx, a, MergeOptions{Verdicts: true})
	require.NoError(t, err)
	assert.Equal(t, 4, n, "three logs and the source")
	mergeClaim(t, m, n, []string{"area-aaaaaaaaaaaa"}, nil)
	n, err = m.MergeCase(ctx, b, MergeOptions{})
	require.NoError(t, err)
	assert.Equal(t, 4, n, "four logs; the source is the first case's")
	mergeClaim(t, m, n, []string{"area-bbbbbbbbbbbb"}, nil)

	assert.Equal(t, 8, count(t, m, "evidence"))
	assert.Equal(t, 3, count(t, m, "item_status"), "the verdicts of the first case only")
	assert.Equal(t, 1, count(t, m, "findings"))
	var events int
	require.NoError(t, m.db.QueryRow("SELECT count(*) FROM ct_events").Scan(&events))
	assert.Equal(t, (1+2+3)+(1+2+3+1), events, "1+i%3 events per log of each case")
	// Ids: the first case's kept, the second's after them; events name
	// their own log file.
	var orphans, wrong int
	require.NoError(t, m.db.QueryRow("SELECT count(*) FROM ct_events e LEFT JOIN evidence v ON v.id = e.evidence_id WHERE v.id IS NULL").Scan(&orphans))
	require.NoError(t, m.db.QueryRow(`SELECT count(*) FROM item_status s JOIN evidence v ON v.id = s.evidence_id WHERE s.s3_key != v.path`).Scan(&wrong))
	assert.Zero(t, orphans)
	assert.Zero(t, wrong, "every status names its own item")
	var first string
	require.NoError(t, m.db.QueryRow("SELECT path FROM evidence WHERE id = 2").Scan(&first))
	assert.Equal(t, "/e/a-0.json", first, "the first case keeps its ids")

	assert.Equal(t, before, fileHash(t, a), "the merged cases are only read")
	assert.Empty(t, walFiles(a), "nor left with -wal or -shm files beside them")
	assert.Empty(t, walFiles(b))
	cc := checkCustody(t, m)
	assert.Empty(t, cc.Problems, "merge entries claim the items they copied")
	shards, err := m.IngestShards(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"area-aaaaaaaaaaaa", "area-bbbbbbbbbbbb"}, shards)

	_, err = m.MergeCase(ctx, a, MergeOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already in the merged case")
	// The same items ingested on another machine, from another folder.
	_, err = m.MergeCase(ctx, shardCaseAt(t, "/mnt/elsewhere", "a", 3), MergeOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/mnt/elsewhere/a-0.json is already in the merged case")
	assert.Equal(t, 8, count(t, m, "evidence"), "a refused merge adds nothing")
	// Another machine's shard: its source row (the same bytes) is kept once.
	n, err = m.MergeCase(ctx, shardCaseAt(t, "/mnt/elsewhere", "c", 2), MergeOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// A case of another schema.
	c, err := Open(ctx, b)
	require.NoError(t, err)
	_, err = c.db.ExecContext(ctx, "DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations)")
	require.NoError(t, err)
	c.Close()
	_, err = openTemp(t).MergeCase(ctx, b, MergeOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "its schema is at")
}

// TestIngestShardsWhole: a case whose merges (or ingests) hold every
// shard the sources have, by the source_shards an ingest of shards
// recorded, holds every shard; one short, it holds those it names.
func TestIngestShardsWhole(t *testing.T) {
	ctx := context.Background()
	all := ShardSetOf([]string{"rest", "area-aaaaaaaaaaaa", "area-bbbbbbbbbbbb"})
	assert.Equal(t, 3, all.Count)
	assert.Equal(t, all, ShardSetOf([]string{"area-bbbbbbbbbbbb", "rest", "area-aaaaaaaaaaaa", "rest"}), "order and repeats do not matter")
	m := openTemp(t)
	mergeClaim(t, m, 0, []string{"area-aaaaaaaaaaaa"}, &all)
	mergeClaim(t, m, 0, []string{"rest"}, &all)
	shards, err := m.IngestShards(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"area-aaaaaaaaaaaa", "rest"}, shards)
	mergeClaim(t, m, 0, []string{"area-bbbbbbbbbbbb"}, &all)
	shards, err = m.IngestShards(ctx)
	require.NoError(t, err)
	assert.Nil(t, shards, "every shard of the sources")
}

func fileHash(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
