package lake_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/lake"
)

func TestLakeKeyOverlaps(t *testing.T) {
	from := time.Date(2022, 5, 10, 22, 6, 30, 0, time.UTC)
	to := from.Add(lake.KeySearchWindow)
	s := time.Second
	tests := []struct {
		name             string
		validFrom, valid time.Time
		want             bool
	}{
		{"open", time.Time{}, time.Time{}, true},
		{"covers", from.Add(-time.Hour), to.Add(time.Hour), true},
		{"ends at start", from.Add(-time.Hour), from, true},
		{"ends before start", from.Add(-time.Hour), from.Add(-s), false},
		{"starts at end", to, to.Add(time.Hour), true},
		{"starts after end", to.Add(s), to.Add(time.Hour), false},
		{"inside", from.Add(time.Hour), from.Add(2 * time.Hour), true},
		{"open start, ends before", time.Time{}, from.Add(-s), false},
		{"open end, starts after", to.Add(s), time.Time{}, false},
	}
	for _, tt := range tests {
		k := lake.Key{ValidFrom: tt.validFrom, ValidTo: tt.valid}
		assert.Equal(t, tt.want, k.Overlaps(from, to), "%s: [%v, %v] overlaps [%v, %v]", tt.name, tt.validFrom, tt.valid, from, to)
	}
}

// signingKey returns the fixture's key A as list-public-keys gives it.
func signingKey(t *testing.T, s *fixtures.LakeSet, ev evidence) lake.Key {
	t.Helper()
	ks := ev.keys.ByFingerprint(s.Fingerprint)
	require.Len(t, ks, 1)
	return ks[0]
}

func TestLakeKeyWindow(t *testing.T) {
	s := genLake(t, fixtures.LakeOptions{Seed: 3})
	ev := readSet(t, s)
	a := signingKey(t, s, ev)
	qct := s.Queries[0].CompleteTime
	end := qct.Add(20 * 24 * time.Hour)
	for _, tt := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"valid until the query completed", qct.Add(-time.Hour), qct, lake.StatusValid},
		{"expired a second before", qct.Add(-time.Hour), qct.Add(-time.Second), lake.StatusKeyNotValidAtTime},
		{"valid from 20 days later", end, end.Add(time.Hour), lake.StatusValid},
		{"valid from 20 days and a second later", end.Add(time.Second), end.Add(time.Hour), lake.StatusKeyNotValidAtTime},
		{"no validity (PEM or DER key)", time.Time{}, time.Time{}, lake.StatusValid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := a
			k.ValidFrom, k.ValidTo = tt.from, tt.to
			ev.keys = lake.NewKeySet(k)
			sv, _ := ev.classify(t)
			assert.Equal(t, tt.want, sv[0].Status, sv[0].Reason)
		})
	}
}

func TestLakeKeyRegions(t *testing.T) {
	s := genLake(t, fixtures.LakeOptions{Seed: 3})
	ev := readSet(t, s)
	a := signingKey(t, s, ev)

	other := a
	other.Region, other.Source = "eu-west-1", "keys/eu-west-1/list-public-keys.json"
	ev.keys = lake.NewKeySet(other)
	sv, _ := ev.classify(t)
	assert.Equal(t, lake.StatusValid, sv[0].Status)
	assert.Equal(t, "eu-west-1", sv[0].KeyRegion)
	assert.Equal(t, []string{"verified with a key published for eu-west-1, not the sign file's region us-east-1 (CloudTrail keys are per Region)"}, sv[0].Notes)

	// The same fingerprint from two files: the sign file's region first,
	// and only one is tried once it verifies.
	ev.keys = lake.NewKeySet(other, a)
	sv, _ = ev.classify(t)
	assert.Equal(t, lake.StatusValid, sv[0].Status)
	assert.Equal(t, fixtures.DefaultRegion, sv[0].KeyRegion)
	assert.Empty(t, sv[0].Notes)
	require.Len(t, sv[0].Keys, 2)
	assert.Equal(t, []bool{true, false}, []bool{sv[0].Keys[0].Tried, sv[0].Keys[1].Tried})

	// A key entry without a public key (failed to load) is not a key.
	broken := a
	broken.Public = nil
	ev.keys = lake.NewKeySet(broken)
	sv, _ = ev.classify(t)
	assert.Equal(t, lake.StatusKeyUnknown, sv[0].Status)
}

// A signature of the wrong length for the key is signature_invalid, with
// the lengths in the reason.
func TestLakeSignatureLength(t *testing.T) {
	s := genLake(t, fixtures.LakeOptions{Seed: 3})
	ev := readSet(t, s)
	sf, err := lake.ParseSignFile(ev.signs[0].Data)
	require.NoError(t, err)
	sf.Signature = sf.Signature[1:]
	ev.signs[0].Sign = sf
	sv, rv := ev.classify(t)
	assert.Equal(t, lake.StatusSignatureInvalid, sv[0].Status)
	assert.Contains(t, sv[0].Reason, "the signature is 255 bytes, a 2048-bit key's are 256")
	for _, v := range rv {
		assert.Equal(t, lake.StatusUnverified, v.Status)
	}
}
