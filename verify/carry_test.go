package verify

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
)

// TestAnchorsFromCase: the trust anchors a verification recorded verify
// the case again to the same statuses; one byte of a recorded key changed,
// or its recorded size, is an error that says the record was edited.
func TestAnchorsFromCase(t *testing.T) {
	ctx := context.Background()
	c, m := set(t, small(), fixtures.DigestSignatureInvalid)
	first := runVerify(t, c, Options{Anchors: anchors(t, m)})
	a, err := AnchorsFromCase(ctx, c)
	require.NoError(t, err)
	require.NotNil(t, a)
	assert.Len(t, a.Keys, len(anchors(t, m).Keys))
	again := runVerify(t, c, Options{Anchors: a})
	assert.Equal(t, statuses(first), statuses(again))
	assert.Equal(t, first.Summary.Digests, again.Summary.Digests)
	assert.Positive(t, again.Summary.Digests.Valid)

	db := casetest.DB(t, c)
	_, err = db.Exec("UPDATE trust_anchors SET der = CAST(substr(der, 1, 40) || X'00' || substr(der, 42) AS BLOB) WHERE id = (SELECT min(id) FROM trust_anchors)")
	require.NoError(t, err)
	_, err = AnchorsFromCase(ctx, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was edited")

	runVerify(t, c, Options{Anchors: anchors(t, m)})
	_, err = db.Exec("UPDATE trust_anchors SET bits = 4096")
	require.NoError(t, err)
	_, err = AnchorsFromCase(ctx, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "recorded as 4096 bits")
}

// TestCarryObjects: with the objects gone from disk, a verification that
// carries object verdicts gives every object copy the status, and the
// findings, the verification that read them gave; one that reads them
// again finds them unreadable.
func TestCarryObjects(t *testing.T) {
	opt := small()
	opt.Objects = true
	c, m := set(t, opt, fixtures.ObjectChecksumMismatch)
	keys := anchors(t, m)
	first := runVerify(t, c, Options{Anchors: keys})
	objects := func(rep *Report) map[string]string {
		out := map[string]string{}
		for k, s := range statuses(rep) {
			if len(k) > 7 && k[:7] == "object " {
				out[k] = s
			}
		}
		return out
	}
	want := objects(first)
	require.NotEmpty(t, want)
	assert.Contains(t, want, "object "+m.Objects[0].Key)
	require.NoError(t, os.RemoveAll(m.Root))

	carried := runVerify(t, c, Options{Anchors: keys, CarryObjects: true})
	assert.Equal(t, want, objects(carried))
	assert.Equal(t, first.Summary.Objects, carried.Summary.Objects)
	assert.Equal(t, first.Summary.Findings, carried.Summary.Findings)
	assert.Equal(t, first.Findings, carried.Findings)
	assert.Equal(t, statuses(first), statuses(carried))

	read := runVerify(t, c, Options{Anchors: keys})
	assert.NotEqual(t, want, objects(read), "read again, the objects are gone")
}
