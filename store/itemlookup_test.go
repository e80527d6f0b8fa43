package store

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestItemLookup(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	empty, err := c.NewItemLookup(ctx)
	require.NoError(t, err)
	log := Evidence{Source: "/s", Path: "/s/a.json.gz", SHA256: "aa", Kind: KindCloudTrailLog, Size: 10}
	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: log, RecordCount: 2,
		Index: &EventIndex{Filter: NoEvents.Encode(), Seen: 3, Indexed: 0}})
	_, err = w.Close()
	require.NoError(t, err)
	got, err := empty.Lookup(&log)
	require.NoError(t, err)
	assert.Nil(t, got, "a look-up opened on an empty case asks nothing")
	require.NoError(t, empty.Close())
	require.NoError(t, empty.Close(), "a second Close")

	l, err := c.NewItemLookup(ctx)
	require.NoError(t, err)
	defer l.Close()
	got, err = l.Lookup(&log)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "aa", got.SHA256)
	assert.Equal(t, KindCloudTrailLog, got.Kind)
	assert.Equal(t, 2, got.Records)
	assert.Equal(t, sql.NullString{String: NoEvents.Encode(), Valid: true}, got.Filter)
	assert.Equal(t, int64(3), got.Seen)
	changed := log
	changed.SHA256 = "bb"
	got, err = l.Lookup(&changed)
	require.NoError(t, err)
	assert.Nil(t, got, "other bytes at the same place")
	at, err := l.PartialAt(&changed)
	require.NoError(t, err)
	require.Len(t, at, 1, "the log file indexed in part at that place")
	assert.Equal(t, "aa", at[0].SHA256)
	partial, err := l.AnyPartial()
	require.NoError(t, err)
	assert.True(t, partial)
}

// TestItemLookupWait: while another connection holds the case locked (the
// writer during a load in a rollback journal), a look-up fails at once;
// after SetWait(true) it waits for the lock.
func TestItemLookupWait(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	log := Evidence{Source: "/s", Path: "/s/a.json.gz", SHA256: "aa", Kind: KindCloudTrailLog, Size: 10}
	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: log})
	_, err := w.Close()
	require.NoError(t, err)
	require.NoError(t, c.Close())

	// In a rollback journal, as during a load, a writer's exclusive lock
	// keeps readers out.
	locker, err := sql.Open("sqlite", "file:"+(&url.URL{Path: c.Path}).EscapedPath())
	require.NoError(t, err)
	defer locker.Close()
	conn, err := locker.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	var mode string
	require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA journal_mode = TRUNCATE").Scan(&mode))
	require.Equal(t, "truncate", mode)

	l, err := (&Case{Path: c.Path}).NewItemLookup(ctx)
	require.NoError(t, err)
	defer l.Close()
	_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
	require.NoError(t, err)
	t0 := time.Now()
	_, err = l.Lookup(&log)
	require.Error(t, err, "the case is locked")
	assert.Less(t, time.Since(t0), 2*time.Second, "a look-up does not wait")

	l.SetWait(true)
	const hold = 300 * time.Millisecond
	go func() {
		time.Sleep(hold)
		conn.ExecContext(ctx, "COMMIT")
	}()
	t0 = time.Now()
	got, err := l.Lookup(&log)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.GreaterOrEqual(t, time.Since(t0), hold/2, "waited for the lock")
}
