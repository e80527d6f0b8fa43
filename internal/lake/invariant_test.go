package lake_test

import (
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/lake"
)

// checkInvariants asserts what Classify promises whatever the evidence:
// one verdict per sign input and per result input, carrying what was
// expected and found; and missing rows for exactly the listed entries
// that are absent: no result file was judged against the entry, and no
// valid or unverified result file holds its SHA-256.
func checkInvariants(t *testing.T, signs []lake.SignInput, results []lake.ResultInput, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
	t.Helper()
	require.Len(t, sv, len(signs), "one verdict per sign file")
	seen := map[int]bool{}
	for _, v := range sv {
		require.False(t, seen[v.Input], "sign input %d has two verdicts", v.Input)
		seen[v.Input] = true
		assert.Equal(t, signs[v.Input].Path, v.Path)
		assert.Contains(t, []string{lake.StatusValid, lake.StatusSignatureInvalid, lake.StatusKeyUnknown,
			lake.StatusKeyNotValidAtTime, lake.StatusFormatInvalid}, v.Status)
		assert.Equal(t, v.Status == lake.StatusValid, v.Reason == "", "%s: reason %q for status %s", v.Path, v.Reason, v.Status)
		assert.Equal(t, v.Status == lake.StatusValid, v.KeyFingerprint != "", "%s: key found only when valid", v.Path)
		if v.Status != lake.StatusFormatInvalid {
			assert.NotEmpty(t, v.Fingerprint)
			assert.Len(t, v.StringToSignSHA256, 64)
			assert.False(t, v.WindowStart.IsZero())
		}
	}
	assert.True(t, sort.SliceIsSorted(sv, func(i, j int) bool { return sv[i].Path < sv[j].Path }), "sign verdicts sorted by path")

	signStatus := map[string]string{}
	for _, v := range sv {
		signStatus[v.Path] = v.Status
	}
	type entry struct {
		sign string
		e    int
	}
	judged := map[entry]bool{}
	accepted := map[string]bool{}
	seen = map[int]bool{}
	var missing []entry
	for _, v := range rv {
		if v.Status == lake.StatusMissing {
			require.Equal(t, -1, v.Input)
			missing = append(missing, entry{v.SignPath, v.Entry})
			assert.Empty(t, v.GotSHA256)
			assert.Len(t, v.WantSHA256, 64)
			assert.Equal(t, int64(-1), v.Size)
			continue
		}
		require.GreaterOrEqual(t, v.Input, 0)
		require.False(t, seen[v.Input], "result input %d has two verdicts", v.Input)
		seen[v.Input] = true
		in := results[v.Input]
		assert.Equal(t, in.Path, v.Path)
		assert.Equal(t, strings.ToLower(in.SHA256), v.GotSHA256)
		assert.Equal(t, in.Size, v.Size)
		switch v.Status {
		case lake.StatusUnreferenced:
			assert.Empty(t, v.SignPath)
			assert.Equal(t, -1, v.Entry)
			assert.Empty(t, v.WantSHA256)
		case lake.StatusValid, lake.StatusUnverified, lake.StatusHashMismatch:
			require.NotEmpty(t, v.SignPath)
			judged[entry{v.SignPath, v.Entry}] = true
			assert.Equal(t, signStatus[v.SignPath], v.SignStatus)
			assert.Contains(t, []string{lake.MatchFolder, lake.MatchHash}, v.MatchedBy)
			assert.Equal(t, v.Status == lake.StatusHashMismatch, v.WantSHA256 != v.GotSHA256, "%s: want %s got %s", v.Path, v.WantSHA256, v.GotSHA256)
			switch v.Status {
			case lake.StatusValid:
				assert.Equal(t, lake.StatusValid, v.SignStatus, "%s: valid only under a valid sign file", v.Path)
			case lake.StatusUnverified:
				assert.NotEqual(t, lake.StatusValid, v.SignStatus, "%s: unverified only under an invalid sign file", v.Path)
			}
			if v.Status != lake.StatusHashMismatch {
				accepted[v.GotSHA256] = true
			}
		default:
			t.Errorf("%s: unexpected result status %q", v.Path, v.Status)
		}
		if v.Status != lake.StatusValid {
			assert.NotEmpty(t, v.Reason, v.Path)
		}
	}
	assert.Len(t, seen, len(results), "one verdict per result file")
	assert.True(t, sort.SliceIsSorted(rv, func(i, j int) bool { return rv[i].Path < rv[j].Path }), "result verdicts sorted by path")

	// The listed-absent entries, recomputed from the sign files.
	var want []entry
	for _, in := range signs {
		sf := in.Sign
		if sf == nil {
			sf, _ = lake.ParseSignFile(in.Data)
		}
		for i, f := range sf.Files {
			if !judged[entry{in.Path, i}] && !accepted[strings.ToLower(f.SHA256)] {
				want = append(want, entry{in.Path, i})
			}
		}
	}
	key := func(e entry) string { return e.sign + "\x00" + string(rune(e.e)) }
	sort.Slice(want, func(i, j int) bool { return key(want[i]) < key(want[j]) })
	sort.Slice(missing, func(i, j int) bool { return key(missing[i]) < key(missing[j]) })
	assert.Equal(t, want, missing, "missing rows are the listed-absent entries")
	for _, v := range rv {
		if v.Status == lake.StatusMissing {
			assert.Equal(t, path.Join(path.Dir(v.SignPath), v.FileName), v.Path)
		}
	}
}
