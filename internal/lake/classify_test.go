package lake_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/lake"
)

var lakeOpts = fixtures.LakeOptions{Seed: 7, Queries: 2, FilesPerQuery: 3, RowsPerFile: 4}

func genLake(t *testing.T, opt fixtures.LakeOptions, tamper ...fixtures.LakeTampering) *fixtures.LakeSet {
	t.Helper()
	s, err := fixtures.GenerateLake(t.TempDir(), opt)
	require.NoError(t, err)
	for _, tp := range tamper {
		require.NoError(t, fixtures.TamperLake(s, tp))
	}
	return s
}

// allValid is what an untouched set must give: every sign file and
// result file valid.
func allValid(s *fixtures.LakeSet) (signs, results map[string]string) {
	signs, results = map[string]string{}, map[string]string{}
	for _, q := range s.Queries {
		signs[q.SignPath] = lake.StatusValid
		for _, r := range q.Results {
			results[r.Path] = lake.StatusValid
		}
	}
	return signs, results
}

func TestLakeUntouched(t *testing.T) {
	s := genLake(t, lakeOpts)
	ev := readSet(t, s)
	assert.Empty(t, ev.other, "every file is recognised")
	sv, rv := ev.classify(t)
	wantSigns, wantResults := allValid(s)
	assert.Equal(t, wantSigns, statuses(sv))
	assert.Equal(t, wantResults, statuses(rv))
	for i, v := range sv {
		q := s.Queries[i]
		assert.Equal(t, q.SignPath, v.Path)
		assert.Equal(t, q.ID, v.QueryID)
		assert.Equal(t, s.Fingerprint, v.KeyFingerprint)
		assert.Equal(t, fixtures.DefaultRegion, v.KeyRegion)
		assert.Equal(t, q.CompleteTime, v.WindowStart)
		assert.Equal(t, q.CompleteTime.Add(20*24*time.Hour), v.WindowEnd)
		assert.Equal(t, 3, v.Files)
		assert.Empty(t, v.Notes)
	}
	byPath := map[string]fixtures.LakeResult{}
	for _, q := range s.Queries {
		for _, r := range q.Results {
			byPath[r.Path] = r
		}
	}
	for _, v := range rv {
		r := byPath[v.Path]
		assert.Equal(t, lake.MatchFolder, v.MatchedBy)
		assert.Equal(t, r.SHA256, v.WantSHA256)
		assert.Equal(t, r.SHA256, v.GotSHA256)
		assert.Equal(t, r.Size, v.Size)
		assert.Equal(t, s.Fingerprint, v.KeyFingerprint)
		f, err := os.Open(s.Abs(v.Path))
		require.NoError(t, err)
		header, rows, err := lake.ResultHeader(f)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, fixtures.LakeColumns, header)
		assert.Equal(t, int64(r.Rows), rows)
	}
}

func TestLakeTamperings(t *testing.T) {
	type want struct {
		signs, results map[string]string
	}
	tests := []struct {
		tamper fixtures.LakeTampering
		opt    fixtures.LakeOptions
		// change turns the all-valid expectation of the untampered set
		// (orig) into the tampered one.
		change func(orig, s *fixtures.LakeSet, w want)
		check  func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict)
	}{{
		tamper: fixtures.LakeResultChanged,
		change: func(orig, s *fixtures.LakeSet, w want) {
			w.results[orig.Queries[0].Results[0].Path] = lake.StatusHashMismatch
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, rv, orig.Queries[0].Results[0].Path)
			assert.Equal(t, orig.Queries[0].Results[0].SHA256, v.WantSHA256)
			assert.Equal(t, s.Queries[0].Results[0].SHA256, v.GotSHA256)
			assert.NotEqual(t, v.WantSHA256, v.GotSHA256)
			assert.Equal(t, orig.Queries[0].SignPath, v.SignPath)
			assert.Equal(t, lake.StatusValid, v.SignStatus)
			assert.Equal(t, "result_1.csv.gz", v.FileName)
			assert.Equal(t, 0, v.Entry)
			assert.Equal(t, lake.MatchFolder, v.MatchedBy)
		},
	}, {
		tamper: fixtures.LakeResultDeleted,
		change: func(orig, s *fixtures.LakeSet, w want) {
			w.results[orig.Queries[0].Results[2].Path] = lake.StatusMissing
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, rv, orig.Queries[0].Results[2].Path)
			assert.Equal(t, -1, v.Input)
			assert.Equal(t, 2, v.Entry)
			assert.Equal(t, "result_3.csv.gz", v.FileName)
			assert.Equal(t, orig.Queries[0].Results[2].SHA256, v.WantSHA256)
			assert.Empty(t, v.GotSHA256)
		},
	}, {
		tamper: fixtures.LakeResultAdded,
		change: func(orig, s *fixtures.LakeSet, w want) {
			w.results[s.Queries[0].Results[3].Path] = lake.StatusUnreferenced
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			added := s.Queries[0].Results[3]
			assert.True(t, strings.HasSuffix(added.Path, "/result_4.csv.gz"))
			v := find(t, rv, added.Path)
			assert.Equal(t, added.SHA256, v.GotSHA256)
			assert.Contains(t, v.Reason, "no sign file in its folder lists result_4.csv.gz")
		},
	}, {
		tamper: fixtures.LakeHashesReordered,
		change: func(orig, s *fixtures.LakeSet, w want) {
			invalidQuery0(orig, w.signs, w.results, lake.StatusSignatureInvalid)
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, sv, orig.Queries[0].SignPath)
			assert.Equal(t, orig.Fingerprint, v.Fingerprint)
			assert.Contains(t, v.Reason, "the signature does not match")
			// Entries swapped with their names: each file still matches its own entry.
			r := find(t, rv, orig.Queries[0].Results[0].Path)
			assert.Equal(t, 1, r.Entry)
			assert.Equal(t, r.WantSHA256, r.GotSHA256)
			assert.Contains(t, r.Reason, "signature_invalid")
		},
	}, {
		tamper: fixtures.LakeSignatureChanged,
		change: func(orig, s *fixtures.LakeSet, w want) {
			invalidQuery0(orig, w.signs, w.results, lake.StatusSignatureInvalid)
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, sv, orig.Queries[0].SignPath)
			require.Len(t, v.Keys, 1)
			assert.True(t, v.Keys[0].Tried)
			assert.False(t, v.Keys[0].Verified)
		},
	}, {
		// Another published key, valid in the window: the key is known
		// and trusted for that time, so it is the signature that fails.
		tamper: fixtures.LakeOtherKeyFingerprint,
		change: func(orig, s *fixtures.LakeSet, w want) {
			invalidQuery0(orig, w.signs, w.results, lake.StatusSignatureInvalid)
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, sv, orig.Queries[0].SignPath)
			assert.Equal(t, s.OtherFingerprint, v.Fingerprint)
			require.Len(t, v.Keys, 1)
			assert.Equal(t, s.OtherFingerprint, v.Keys[0].Fingerprint)
			assert.True(t, v.Keys[0].InWindow)
			assert.True(t, v.Keys[0].Tried)
			assert.False(t, v.Keys[0].Verified)
			assert.Empty(t, v.KeyFingerprint)
			assert.Equal(t, s.OtherFingerprint, find(t, rv, orig.Queries[0].Results[0].Path).KeyFingerprint)
		},
	}, {
		tamper: fixtures.LakeKeyUnknown,
		change: func(orig, s *fixtures.LakeSet, w want) {
			invalidQuery0(orig, w.signs, w.results, lake.StatusKeyUnknown)
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, sv, orig.Queries[0].SignPath)
			assert.Equal(t, fixtures.RogueFingerprint(), v.Fingerprint)
			assert.Empty(t, v.Keys)
		},
	}, {
		tamper: fixtures.LakeKeyNotValidAtTime,
		opt:    fixtures.LakeOptions{Seed: 7, Queries: 1, FilesPerQuery: 2},
		change: func(orig, s *fixtures.LakeSet, w want) {
			invalidQuery0(orig, w.signs, w.results, lake.StatusKeyNotValidAtTime)
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, sv, orig.Queries[0].SignPath)
			require.Len(t, v.Keys, 1)
			assert.False(t, v.Keys[0].InWindow)
			assert.False(t, v.Keys[0].Tried)
			assert.Equal(t, s.Queries[0].CompleteTime.Add(-24*time.Hour), v.Keys[0].ValidTo)
			assert.Contains(t, v.Reason, "does not overlap the key window")
		},
	}, {
		tamper: fixtures.LakeFilesEmpty,
		change: func(orig, s *fixtures.LakeSet, w want) {
			w.signs[orig.Queries[0].SignPath] = lake.StatusFormatInvalid
			for _, r := range orig.Queries[0].Results {
				w.results[r.Path] = lake.StatusUnreferenced
			}
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			v := find(t, sv, orig.Queries[0].SignPath)
			assert.Equal(t, `"files" is empty: the sign file lists no result file`, v.Reason)
			assert.Equal(t, 0, v.Files)
		},
	}, {
		tamper: fixtures.LakeFlattened,
		change: func(orig, s *fixtures.LakeSet, w want) {
			clear(w.signs)
			clear(w.results)
			w2s, w2r := allValid(s)
			for k, v := range w2s {
				w.signs[k] = v
			}
			for k, v := range w2r {
				w.results[k] = v
			}
		},
		check: func(t *testing.T, orig, s *fixtures.LakeSet, sv []lake.SignVerdict, rv []lake.ResultVerdict) {
			assert.Equal(t, []string{"amzn-s3-demo-lake-bucket/flat/result_sign (1).json", "amzn-s3-demo-lake-bucket/flat/result_sign.json"},
				[]string{sv[0].Path, sv[1].Path})
			for qi, q := range s.Queries {
				for ri, r := range q.Results {
					v := find(t, rv, r.Path)
					assert.Equal(t, q.SignPath, v.SignPath, r.Path)
					assert.Equal(t, ri, v.Entry, r.Path)
					assert.Equal(t, orig.Queries[qi].Results[ri].SHA256, v.GotSHA256)
					if qi == 0 {
						assert.Equal(t, lake.MatchFolder, v.MatchedBy, r.Path)
					} else {
						assert.Equal(t, lake.MatchHash, v.MatchedBy, r.Path)
						assert.Contains(t, v.Note, "matched by hash")
					}
				}
			}
		},
	}}
	for _, tt := range tests {
		t.Run(string(tt.tamper), func(t *testing.T) {
			opt := tt.opt
			if opt.Queries == 0 {
				opt = lakeOpts
			}
			orig := genLake(t, opt)
			s := genLake(t, opt, tt.tamper)
			w := want{}
			w.signs, w.results = allValid(orig)
			tt.change(orig, s, w)
			ev := readSet(t, s)
			assert.Empty(t, ev.other, "every file is recognised")
			sv, rv := ev.classify(t)
			assert.Equal(t, w.signs, statuses(sv), "sign files")
			assert.Equal(t, w.results, statuses(rv), "result files")
			tt.check(t, orig, s, sv, rv)
		})
	}
	covered := make([]fixtures.LakeTampering, len(tests))
	for i, tt := range tests {
		covered[i] = tt.tamper
	}
	assert.ElementsMatch(t, fixtures.LakeTamperings, covered, "one test per tampering")
}

// invalidQuery0 marks query 0's sign file status and its results unverified.
func invalidQuery0(orig *fixtures.LakeSet, signs, results map[string]string, status string) {
	signs[orig.Queries[0].SignPath] = status
	for _, r := range orig.Queries[0].Results {
		results[r.Path] = lake.StatusUnverified
	}
}

func find[V lake.SignVerdict | lake.ResultVerdict](t *testing.T, vs []V, p string) V {
	t.Helper()
	for _, v := range vs {
		switch x := any(v).(type) {
		case lake.SignVerdict:
			if x.Path == p {
				return v
			}
		case lake.ResultVerdict:
			if x.Path == p {
				return v
			}
		}
	}
	t.Fatalf("no verdict for %s", p)
	var zero V
	return zero
}

// A file at a listed path that holds another entry's bytes is judged
// against its own entry (hash_mismatch), and the entry whose bytes were
// moved there, now at no path of its own, is missing.
func TestLakeReplacedByCopy(t *testing.T) {
	s := genLake(t, lakeOpts)
	q := s.Queries[0]
	first, err := os.ReadFile(s.Abs(q.Results[0].Path))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.Abs(q.Results[1].Path), first, 0o644))
	require.NoError(t, os.Remove(s.Abs(q.Results[0].Path)))

	sv, rv := readSet(t, s).classify(t)
	assert.Equal(t, lake.StatusValid, find(t, sv, q.SignPath).Status)
	v := find(t, rv, q.Results[1].Path)
	assert.Equal(t, lake.StatusHashMismatch, v.Status)
	assert.Equal(t, q.Results[1].SHA256, v.WantSHA256)
	assert.Equal(t, q.Results[0].SHA256, v.GotSHA256)
	assert.Contains(t, v.Reason, "its content is files[0] result_1.csv.gz")
	m := find(t, rv, q.Results[0].Path)
	assert.Equal(t, lake.StatusMissing, m.Status)
	assert.Contains(t, m.Reason, "its content is in "+q.Results[1].Path)
	assert.Equal(t, lake.StatusValid, find(t, rv, q.Results[2].Path).Status)
}

// A copy of a result file elsewhere matches by hash; a copy of a sign
// file without its results lists nothing absent (the bytes are present);
// a tampered copy of a sign file in the same folder does not make the
// files unverified, since a valid sign file lists them too.
func TestLakeCopies(t *testing.T) {
	s := genLake(t, lakeOpts)
	ev := readSet(t, s)
	q := s.Queries[0]
	data, err := os.ReadFile(s.Abs(q.SignPath))
	require.NoError(t, err)
	tampered := bytes.Replace(data, []byte(`"hashSignature" : "`), []byte(`"hashSignature" : "00`), 1)
	require.NotEqual(t, data, tampered)
	dir := q.SignPath[:strings.LastIndex(q.SignPath, "/")]
	ev.signs = append(ev.signs,
		lake.SignInput{Path: "copies/result_sign.json", Data: data},
		lake.SignInput{Path: dir + "/result_sign (1).json", Data: tampered})
	ev.results = append(ev.results, lake.ResultInput{Path: "elsewhere/result_1.csv.gz", SHA256: strings.ToUpper(q.Results[0].SHA256), Size: q.Results[0].Size})

	sv, rv := ev.classify(t)
	wantSigns, wantResults := allValid(s)
	wantSigns["copies/result_sign.json"] = lake.StatusValid
	wantSigns[dir+"/result_sign (1).json"] = lake.StatusSignatureInvalid
	wantResults["elsewhere/result_1.csv.gz"] = lake.StatusValid
	assert.Equal(t, wantSigns, statuses(sv))
	assert.Equal(t, wantResults, statuses(rv))
	for _, r := range q.Results {
		v := find(t, rv, r.Path)
		assert.Equal(t, q.SignPath, v.SignPath, "the valid sign file in the folder wins")
		assert.Equal(t, lake.MatchFolder, v.MatchedBy)
	}
	v := find(t, rv, "elsewhere/result_1.csv.gz")
	assert.Equal(t, lake.MatchHash, v.MatchedBy)
	assert.Equal(t, q.SignPath, v.SignPath, "ties go to the smaller sign path (amzn… < copies/…)")
	assert.Equal(t, q.Results[0].SHA256, v.GotSHA256)
}

// Classify's output does not depend on input order.
func TestLakeDeterministic(t *testing.T) {
	s := genLake(t, lakeOpts, fixtures.LakeFlattened, fixtures.LakeResultChanged)
	ev := readSet(t, s)
	sv1, rv1 := ev.classify(t)
	slices.Reverse(ev.signs)
	slices.Reverse(ev.results)
	sv2, rv2 := ev.classify(t)
	strip := func(sv []lake.SignVerdict, rv []lake.ResultVerdict) {
		for i := range sv {
			sv[i].Input = 0
		}
		for i := range rv {
			rv[i].Input = min(rv[i].Input, 0)
		}
	}
	strip(sv1, rv1)
	strip(sv2, rv2)
	assert.Equal(t, sv1, sv2)
	assert.Equal(t, rv1, rv2)
}

func TestLakeClassifyRejectsBadInput(t *testing.T) {
	_, _, err := lake.Classify(nil, []lake.ResultInput{{Path: "a/result_1.csv.gz", SHA256: "abc"}}, nil)
	assert.ErrorContains(t, err, `SHA-256 "abc" is not 64 hex digits`)
	_, _, err = lake.Classify([]lake.SignInput{{Data: []byte("{}")}}, nil, nil)
	assert.ErrorContains(t, err, "sign input 0 has no path")
}
