package cloudtrail

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

// splitAll collects Split's records as strings.
func splitAll(content []byte) (string, []string, error) {
	var recs []string
	format, err := Split(content, func(idx int, raw []byte) error {
		if idx != len(recs) {
			return errors.New("index out of order")
		}
		recs = append(recs, string(raw))
		return nil
	})
	return format, recs, err
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		format string
		recs   []string
		errOff int64 // -1: no error
	}{
		{"records", `{"Records":[{"a":1},{"b":[2,3]}]}`, FormatRecords, []string{`{"a":1}`, `{"b":[2,3]}`}, -1},
		{"records with newline at end", "{\"Records\":[{\"a\":1}]}\n", FormatRecords, []string{`{"a":1}`}, -1},
		{"empty Records", `{"Records":[]}`, FormatRecords, nil, -1},
		{"empty Records with spaces", "{ \"Records\" : [ \n ] }", FormatRecords, nil, -1},
		{"BOM and whitespace", "\xEF\xBB\xBF \r\n\t{\"Records\":[ {\"a\":1} , {\"b\":2} ]}  \n", FormatRecords, []string{`{"a":1}`, `{"b":2}`}, -1},
		{"other top-level keys ignored", `{"x":{"Records":[{"no":1}]},"Records":[{"a":1}],"y":[1,{"z":null}]}`, FormatRecords, []string{`{"a":1}`}, -1},
		{"escapes inside strings", `{"Records":[{"s":"\"}]"},{"t":"\\","u":"\u00e9\/\b\f\n\r\t"}]}`, FormatRecords, []string{`{"s":"\"}]"}`, `{"t":"\\","u":"\u00e9\/\b\f\n\r\t"}`}, -1},
		{"nested arrays and objects", `{"Records":[{"a":[[1,[2,{"b":[]}]],{}],"c":{"d":{"e":[true,false,null,-1.5e+3]}}}]}`, FormatRecords, []string{`{"a":[[1,[2,{"b":[]}]],{}],"c":{"d":{"e":[true,false,null,-1.5e+3]}}}`}, -1},
		{"array", "[\n   {\n      \"a\": 1\n   },\n   {\"b\":2}\n]\n", FormatArray, []string{"{\n      \"a\": 1\n   }", `{"b":2}`}, -1},
		{"empty array", `[]`, FormatArray, nil, -1},
		{"ndjson", "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}", FormatNDJSON, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}, -1},
		{"ndjson trailing newline", "{\"a\":1}\n{\"b\":2}\n", FormatNDJSON, []string{`{"a":1}`, `{"b":2}`}, -1},
		{"single object is one ndjson line", `{"eventVersion":"1.08"}`, FormatNDJSON, []string{`{"eventVersion":"1.08"}`}, -1},
		{"empty object", `{}`, FormatNDJSON, []string{`{}`}, -1},

		// A CloudWatch Logs export: each line a time stamp, a space, a record.
		{"cloudwatch export", "2024-03-04T10:00:00.123Z {\"a\":1}\n2024-03-04T10:00:01.000Z  {\"b\":2}\r\n\n1709546402000\t{\"c\":3}\n", FormatCloudWatchExport, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}, -1},
		{"cloudwatch export without newline", "2024-03-04T10:00:00Z {\"a\":1} 2024-03-04T10:00:00Z {\"b\":2}", FormatCloudWatchExport, []string{`{"a":1}`}, 29},
		{"cloudwatch export line without stamp", "2024-03-04T10:00:00Z {\"a\":1}\n{\"b\":2}", FormatCloudWatchExport, []string{`{"a":1}`}, 29},
		{"cloudwatch export stamp without space", "2024-03-04T10:00:00Z{\"a\":1}", FormatCloudWatchExport, nil, 0},
		{"cloudwatch export stamp too long", strings.Repeat("1", 41) + " {}", FormatCloudWatchExport, nil, 0},
		{"cloudwatch export stamp at the cap", strings.Repeat("1", 40) + " {}", FormatCloudWatchExport, []string{`{}`}, -1},
		{"cloudwatch export message not an object", "2024-03-04T10:00:00Z hello", FormatCloudWatchExport, nil, 21},
		{"cloudwatch export cut after stamp", "2024-03-04T10:00:00Z ", FormatCloudWatchExport, nil, 21},
		{"cloudwatch export record cut", "2024-03-04T10:00:00Z {\"a\":", FormatCloudWatchExport, nil, 26},
		{"number alone", "12", FormatCloudWatchExport, nil, 0},
		{"empty content", "", "", nil, 0},
		{"only BOM and spaces", "\xEF\xBB\xBF  ", "", nil, 5},
		{"garbage", "hello", "", nil, 0},
		{"garbage after BOM", "\xEF\xBB\xBFx", "", nil, 3},
		{"truncated in record", `{"Records":[{"a":1},{"b":"xy`, FormatRecords, []string{`{"a":1}`}, 28},
		{"truncated after record", `{"Records":[{"a":1}`, FormatRecords, []string{`{"a":1}`}, 19},
		{"truncated after Records", `{"Records":[{"a":1}]`, FormatRecords, []string{`{"a":1}`}, 20},
		{"record not an object", `{"Records":[{"a":1},2]}`, FormatRecords, []string{`{"a":1}`}, 20},
		{"Records not an array", `{"Records":{"a":1}}`, "", nil, 11},
		{"object truncated before Records", `{"x":1,`, "", nil, 7},
		{"duplicate Records", `{"Records":[{"a":1}],"Records":[{"b":1}]}`, FormatRecords, []string{`{"a":1}`}, 31},
		{"trailing garbage", `{"Records":[{"a":1}]}x`, FormatRecords, []string{`{"a":1}`}, 21},
		{"two wrappers", `{"Records":[]}{"Records":[]}`, FormatRecords, nil, 14},
		{"array trailing comma", `[{"a":1},]`, FormatArray, []string{`{"a":1}`}, 9},
		{"array of non-objects", `[1,2]`, FormatArray, nil, 1},
		{"ndjson without newline", `{"a":1} {"b":2}`, FormatNDJSON, []string{`{"a":1}`}, 8},
		{"ndjson line not an object", "{\"a\":1}\n[1]", FormatNDJSON, []string{`{"a":1}`}, 8},
		{"bad escape", `{"Records":[{"a":"\x"}]}`, FormatRecords, nil, 19},
		{"bad unicode escape", `{"Records":[{"a":"\u12G4"}]}`, FormatRecords, nil, 22},
		{"control character in string", "{\"Records\":[{\"a\":\"x\ny\"}]}", FormatRecords, nil, 19},
		{"leading zero", `{"Records":[{"a":01}]}`, FormatRecords, nil, 18},
		{"bad literal", `{"Records":[{"a":nul}]}`, FormatRecords, nil, 20},
		{"missing colon", `{"Records":[{"a" 1}]}`, FormatRecords, nil, 17},
		{"unquoted key", `{"Records":[{a:1}]}`, FormatRecords, nil, 13},
		{"mismatched bracket", `{"Records":[{"a":[1}]}`, FormatRecords, nil, 19},
		{"single quotes", `{'Records':[]}`, "", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format, recs, err := splitAll([]byte(tt.in))
			assert.Equal(t, tt.format, format, "format")
			assert.Equal(t, tt.recs, recs, "records")
			if tt.errOff < 0 {
				assert.NoError(t, err)
				return
			}
			var se *SyntaxError
			if assert.ErrorAs(t, err, &se) {
				assert.Equal(t, tt.errOff, se.Offset, "offset in %v", err)
			}
		})
	}
}

func TestSplitRawIsSubslice(t *testing.T) {
	content := []byte(`{"Records":[{"a":1}, {"b":2}]}`)
	var offs []int
	_, err := Split(content, func(_ int, raw []byte) error {
		// raw must alias content: same backing array, no copy.
		for i := range content {
			if &content[i] == &raw[0] {
				offs = append(offs, i)
			}
		}
		assert.Equal(t, len(raw), cap(raw), "cap limited so appends cannot clobber content")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{12, 21}, offs)
}

func TestSplitEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	format, err := Split([]byte(`[{"a":1},{"b":2},{"c":3}]`), func(idx int, _ []byte) error {
		n++
		if idx == 1 {
			return stop
		}
		return nil
	})
	assert.Equal(t, FormatArray, format)
	assert.Same(t, stop, err)
	assert.Equal(t, 2, n)
}

func TestSplitDepthLimit(t *testing.T) {
	deep := `{"Records":[{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}]}`
	_, recs, err := splitAll([]byte(deep))
	assert.NoError(t, err)
	assert.Len(t, recs, 1)

	tooDeep := `{"Records":[{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}]}`
	tooDeep = strings.Replace(tooDeep, `{"a":`, `{"a":[`, 1)
	tooDeep = strings.Replace(tooDeep, `}]}`, `]}]}`, 1)
	_, _, err = splitAll([]byte(tooDeep))
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "nesting deeper than 10000")
}

func TestSplitLongStrings(t *testing.T) {
	// Exercise the eight-byte string scan at every alignment, with the
	// special byte at every position of a word.
	for n := 0; n < 40; n++ {
		for _, special := range []string{``, `\"`, `\\`, `\u0041`} {
			s := strings.Repeat("x", n) + special + strings.Repeat("é", n%5)
			in := `[{"k":"` + s + `"}]`
			_, recs, err := splitAll([]byte(in))
			require.NoError(t, err, in)
			require.Equal(t, []string{`{"k":"` + s + `"}`}, recs)
		}
		bad := `[{"k":"` + strings.Repeat("x", n) + "\x01" + `"}]`
		_, _, err := splitAll([]byte(bad))
		var se *SyntaxError
		require.ErrorAs(t, err, &se, bad)
		assert.Equal(t, int64(7+n), se.Offset)
	}
}

// corpusFiles returns the files matching pattern under the corpus.
func corpusFiles(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testcorpus.Dir(t), pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, pattern)
	return files
}

// requireIDs fails unless every event has eventID, eventTime and eventName.
func requireIDs(t *testing.T, name string, evs []store.Event) {
	t.Helper()
	for _, ev := range evs {
		if ev.EventID == "" || ev.EventTime == "" || ev.EventName == "" {
			t.Errorf("%s record %d: eventID %q, eventTime %q, eventName %q: want all non-empty",
				name, ev.RecordIndex, ev.EventID, ev.EventTime, ev.EventName)
		}
	}
}

// splitExtract splits and extracts content, checking every record.
func splitExtract(t *testing.T, name string, content []byte) (string, []store.Event) {
	t.Helper()
	var evs []store.Event
	format, err := Split(content, func(idx int, raw []byte) error {
		ev := store.Event{RecordIndex: idx}
		if err := Extract(raw, &ev); err != nil {
			return err
		}
		evs = append(evs, ev)
		return nil
	})
	require.NoError(t, err, name)
	for _, ev := range evs {
		if !json.Valid(ev.Raw) || !bytes.Contains(content, ev.Raw) {
			t.Errorf("%s record %d: raw is not a valid slice of the content", name, ev.RecordIndex)
		}
	}
	return format, evs
}

func TestCorpusInvictus(t *testing.T) {
	total := 0
	for _, f := range corpusFiles(t, "invictus-aws-dataset/CloudTrail/*.json") {
		content, err := os.ReadFile(f)
		require.NoError(t, err)
		format, evs := splitExtract(t, f, content)
		requireIDs(t, f, evs)
		assert.Equal(t, FormatRecords, format, f)
		assert.True(t, LooksLikeRecords(head(content)), "LooksLikeRecords %s", f)
		assert.False(t, LooksLikeDigest(head(content)), "LooksLikeDigest %s", f)
		assert.False(t, LooksLikePublicKeys(head(content)), "LooksLikePublicKeys %s", f)
		total += len(evs)
	}
	assert.Equal(t, 2900, total)
}

func TestCorpusInvictusFirstRecord(t *testing.T) {
	content, err := os.ReadFile(testcorpus.Path(t, "invictus-aws-dataset", "CloudTrail",
		"218007301253_CloudTrail_us-east-1_20230710T1240Z_C1qUFaqvZS64BcIN.json"))
	require.NoError(t, err)
	_, evs := splitExtract(t, "C1qU", content)
	require.NotEmpty(t, evs)
	ev := evs[0]
	ev.Raw = nil
	t.Logf("%+v", ev)
	assert.Equal(t, "1.08", ev.EventVersion)
	assert.Equal(t, "IAMUser", ev.IdentityType)
	assert.Equal(t, "arn:aws:iam::123837392027:user/benjamin", ev.Principal)
	assert.Equal(t, "123837392027", ev.AccountID)
	assert.Equal(t, "ASIATFQR7NSCX6ILTQHM", ev.AccessKeyID)
	assert.Equal(t, "benjamin", ev.UserName)
}

func TestCorpusStratus(t *testing.T) {
	total := 0
	for _, f := range corpusFiles(t, "stratus-red-team-detonation-logs/*.json") {
		content, err := os.ReadFile(f)
		require.NoError(t, err)
		format, evs := splitExtract(t, f, content)
		requireIDs(t, f, evs)
		assert.Equal(t, FormatArray, format, f)
		assert.True(t, LooksLikeRecords(head(content)), "LooksLikeRecords %s", f)
		total += len(evs)
	}
	assert.Equal(t, 310, total)
}

func TestCorpusOTRF(t *testing.T) {
	zr, err := zip.OpenReader(testcorpus.Path(t, "otrf-security-datasets", "ec2_proxy_s3_exfiltration.zip"))
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	rc, err := zr.File[0].Open()
	require.NoError(t, err)
	content, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())

	format, evs := splitExtract(t, zr.File[0].Name, content)
	assert.Equal(t, FormatNDJSON, format)
	assert.Len(t, evs, 103)
	assert.Equal(t, 103, bytes.Count(content, []byte("\n")))
	assert.True(t, LooksLikeRecords(head(content)))
	// The export went through Logstash, which replaced eventTime by
	// @timestamp in every record; Extract reports what the record says and
	// does not substitute.
	versions := map[string]int{}
	for _, ev := range evs {
		versions[ev.EventVersion]++
		assert.Empty(t, ev.EventTime)
		assert.Contains(t, string(ev.Raw), `"@timestamp":"2020-09-14T`)
		if ev.EventID == "" || ev.EventName == "" {
			t.Errorf("record %d: empty eventID or eventName", ev.RecordIndex)
		}
	}
	assert.Equal(t, map[string]int{"1.05": 94, "1.07": 9}, versions)
}

// head is the first KiB of b, what classifiers see.
func head(b []byte) []byte {
	if len(b) > 1024 {
		return b[:1024]
	}
	return b
}

// FuzzSplit checks that Split never panics, emits only valid JSON objects
// in order, and that the records of a "records" file, put back into a
// wrapper, split into the same records.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"a":1},{"b":[2,3]}]}`,
		"\xEF\xBB\xBF[{\"a\":\"\\\"}]\"}]",
		"{\"a\":1}\n{\"b\":2}\n",
		`{"x":1,"Records":[{"eventVersion":"1.08","eventTime":"2020-01-01T00:00:00Z"}]}`,
		`{"Records":[{"a":-0.5e-7,"b":true,"c":false,"d":null,"e":"\u00e9"}]}`,
		`{"Records":[{"a":1},`,
		`[]`, `{}`, `x`,
		"2024-03-04T10:00:00.123Z {\"a\":1}\n1709546402000  {\"b\":[2]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		var recs [][]byte
		format, err := Split(content, func(idx int, raw []byte) error {
			if idx != len(recs) {
				t.Fatalf("index %d, want %d", idx, len(recs))
			}
			if !json.Valid(raw) || raw[0] != '{' {
				t.Fatalf("record %d is not a valid JSON object: %q", idx, raw)
			}
			recs = append(recs, raw)
			return nil
		})
		if err == nil && !json.Valid(content[skipBOM(content):]) && format != FormatNDJSON && format != FormatCloudWatchExport {
			t.Fatalf("Split accepted invalid JSON %q", content)
		}
		if err == nil && format == FormatCloudWatchExport {
			// Before each record (a sub-slice of content) lie only
			// whitespace with a newline (none before the first), a time
			// stamp and spaces; after the last, only whitespace.
			at := skipBOM(content)
			for n, raw := range recs {
				k := at
				for k < len(content) && &content[k] != &raw[0] {
					k++
				}
				gap := content[at:k]
				if n > 0 && !bytes.Contains(gap[:len(gap)-len(bytes.TrimLeft(gap, " \t\r\n"))], []byte("\n")) {
					t.Fatalf("record %d: no newline before its line in %q", n, gap)
				}
				line := bytes.TrimLeft(gap, " \t\r\n")
				if j, why := stampEnd(line, 0); j != len(line) {
					t.Fatalf("record %d: %q before it is not a time stamp and spaces (%s)", n, line, why)
				}
				at = k + len(raw)
			}
			if len(bytes.TrimSpace(content[at:])) != 0 {
				t.Fatalf("%q after the last record", content[at:])
			}
		}
		if err != nil || format != FormatRecords {
			return
		}
		wrapped := append([]byte(`{"Records":[`), bytes.Join(recs, []byte(","))...)
		wrapped = append(wrapped, "]}"...)
		format2, recs2, err := splitAll(wrapped)
		if err != nil || format2 != FormatRecords || len(recs2) != len(recs) {
			t.Fatalf("re-split: %v %s %d records, want %d", err, format2, len(recs2), len(recs))
		}
		for i := range recs {
			if recs2[i] != string(recs[i]) {
				t.Fatalf("re-split record %d = %q, want %q", i, recs2[i], recs[i])
			}
		}
	})
}
