package lake_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/lake"
)

// keysFromList reads list-public-keys output with the repo's own parser
// (cloudtrail.ParsePublicKeys, as verify.LoadTrustAnchors does) and keeps
// the keys it trusts: the adapter the lead writes for verify.TrustAnchors.
func keysFromList(t *testing.T, name string, data []byte) *lake.KeySet {
	t.Helper()
	parsed, err := cloudtrail.ParsePublicKeys(name, data)
	require.NoError(t, err)
	var keys []lake.Key
	for _, k := range parsed {
		if k.Error != "" {
			continue
		}
		pub, err := cloudtrail.RSAPublicKey(k)
		require.NoError(t, err)
		lk := lake.Key{Fingerprint: k.Fingerprint, Region: k.Region, Public: pub, Source: name}
		if k.ValidityStart != nil {
			lk.ValidFrom = *k.ValidityStart
		}
		if k.ValidityEnd != nil {
			lk.ValidTo = *k.ValidityEnd
		}
		keys = append(keys, lk)
	}
	return lake.NewKeySet(keys...)
}

// evidence is a Lake set read the way ingest would: every file under
// Root, recognised by LooksLikeSignFile / LooksLikeResult / IsResultName.
type evidence struct {
	signs   []lake.SignInput
	results []lake.ResultInput
	keys    *lake.KeySet
	other   []string // files recognised as neither
}

func readSet(t *testing.T, s *fixtures.LakeSet) evidence {
	t.Helper()
	var ev evidence
	type file struct {
		rel  string
		data []byte
	}
	var files []file
	err := filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(s.Root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files = append(files, file{filepath.ToSlash(rel), data})
		return err
	})
	require.NoError(t, err)
	signDirs, isSign := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		head := f.data[:min(len(f.data), 4096)]
		if lake.LooksLikeSignFile(f.rel, head) {
			ev.signs = append(ev.signs, lake.SignInput{Path: f.rel, Data: f.data})
			signDirs[path.Dir(f.rel)], isSign[f.rel] = true, true
		}
	}
	for _, f := range files {
		switch {
		case isSign[f.rel]:
		case lake.LooksLikeResult(f.rel) || (signDirs[path.Dir(f.rel)] && lake.IsResultName(path.Base(f.rel))):
			ev.results = append(ev.results, lake.ResultInput{Path: f.rel, SHA256: sha256Hex(f.data), Size: int64(len(f.data))})
		default:
			ev.other = append(ev.other, f.rel)
		}
	}
	data, err := os.ReadFile(s.KeyFile)
	require.NoError(t, err)
	ev.keys = keysFromList(t, filepath.ToSlash(s.KeyFile), data)
	return ev
}

func (ev evidence) classify(t *testing.T) ([]lake.SignVerdict, []lake.ResultVerdict) {
	t.Helper()
	sv, rv, err := lake.Classify(ev.signs, ev.results, ev.keys)
	require.NoError(t, err)
	checkInvariants(t, ev.signs, ev.results, sv, rv)
	return sv, rv
}

// statuses maps each verdict's path to its status.
func statuses[V lake.SignVerdict | lake.ResultVerdict](vs []V) map[string]string {
	out := map[string]string{}
	for _, v := range vs {
		switch v := any(v).(type) {
		case lake.SignVerdict:
			out[v.Path] = v.Status
		case lake.ResultVerdict:
			out[v.Path] = v.Status
		}
	}
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
