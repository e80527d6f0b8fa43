package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigLog is a CloudTrail log of n records whose rows outgrow itemRowsBytes.
func bigLog(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u%d"},"eventTime":"2024-03-04T10:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.%d","eventID":"id-%08d","requestParameters":{"bucketName":"b","key":"%s"}}`,
			i%97, i%60, i%250, i, strings.Repeat("k", i%200))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestIngestStreamedItem: an item whose rows outgrow itemRowsBytes goes
// to the writer in parts and is recorded whole, on both paths; the same
// item streamed again is dropped at its end, with every row it streamed.
func TestIngestStreamedItem(t *testing.T) {
	dir := t.TempDir()
	const records = 30000
	writeFile(t, filepath.Join(dir, "e", logKey), gz(t, bigLog(records)))
	var lines strings.Builder
	for i := 0; i < 20000; i++ {
		lines.WriteString(accessLine)
	}
	writeFile(t, filepath.Join(dir, "e", "access", "2019-02-06-00-00-38-5C2F7A1B9E0D4C3A"), []byte(lines.String()))
	c := newCase(t)
	run := func(opt Options) *Summary {
		sum, err := Run(context.Background(), c, []string{filepath.Join(dir, "e")}, opt)
		require.NoError(t, err)
		assert.Empty(t, sum.Errors)
		return sum
	}
	before := streamsBegun.Load()
	first := run(Options{})
	assert.Equal(t, int64(2), streamsBegun.Load()-before, "both items are streamed")
	assert.Equal(t, records, first.Events)
	assert.Equal(t, 20000, first.AccessLogRecords)
	counts := caseCounts(t, c)
	assert.Equal(t, records, counts["ct_events"])
	assert.Equal(t, 20000, counts["s3_access"])
	assert.Equal(t, records, queryInt(t, c, "SELECT record_count FROM evidence WHERE kind = 'cloudtrail_log'"))
	assert.Equal(t, records, queryInt(t, c, "SELECT count(DISTINCT record_index) FROM ct_events"))
	assert.Equal(t, 20000, queryInt(t, c, "SELECT record_count FROM evidence WHERE kind = 'access_log'"))
	// The per-file events hash of the streamed log covers every part, as
	// recomputed from the case.
	assert.Equal(t, records, queryInt(t, c, "SELECT event_count FROM evidence WHERE kind = 'cloudtrail_log'"))
	ck, err := c.CheckEvents(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ck.Problems, "events as ingested, hashed across the stream's parts")

	// Streamed again by the walker, which does not look the item up first:
	// the writer drops it at its end, rows and all.
	before = streamsBegun.Load()
	second := run(Options{MaxBuffered: 1})
	assert.Equal(t, int64(2), streamsBegun.Load()-before)
	assert.Equal(t, 0, second.Added)
	assert.Equal(t, records, second.Events)
	assert.Equal(t, counts, caseCounts(t, c))
	// Buffered again: found in the case before it is parsed.
	before = streamsBegun.Load()
	third := run(Options{})
	assert.Equal(t, int64(0), streamsBegun.Load()-before)
	assert.Equal(t, 0, third.Added)
	assert.Equal(t, records, third.Events)
	assert.Equal(t, counts, caseCounts(t, c))
}
