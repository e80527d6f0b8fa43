package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// UnseenMembers hands every unseen row to fn once, in id order, a page at
// a time, however many there are, while fn writes to the same tables.
func TestUnseenMembersPages(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	x, err := OpenScratch(ctx, c.Path)
	require.NoError(t, err)
	defer x.Close()
	require.NoError(t, x.IndexLogMembers(ctx)) // no log files: empty tables
	const n = 1300
	for i := 1; i <= n; i++ {
		_, err := x.exec(ctx, "INSERT INTO v_members(evidence_id, path, member, member_index, seen) VALUES (?, 'a.tar', 'm', '[1]', ?)", i, i%10 == 0)
		require.NoError(t, err)
	}
	var got []int64
	require.NoError(t, x.UnseenMembers(ctx, "a.tar", func(u UnseenMember) error {
		got = append(got, u.ID)
		return x.PutRehashFailure(ctx, u.ID, "not found")
	}))
	require.Len(t, got, n-n/10)
	for i := 1; i < len(got); i++ {
		require.Less(t, got[i-1], got[i])
	}
	assert.NotContains(t, got, int64(10))
	var failed int
	require.NoError(t, x.queryRow(ctx, "SELECT count(*) FROM v_refail").Scan(&failed))
	assert.Equal(t, n-n/10, failed)
	// All seen now.
	require.NoError(t, x.UnseenMembers(ctx, "a.tar", func(UnseenMember) error {
		t.Fatal("a row handed over twice")
		return nil
	}))
}
