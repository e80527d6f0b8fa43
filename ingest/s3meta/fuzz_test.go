package s3meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/forensic-dev/forensic/store"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"ObjectParts": {"Parts": [{"PartNumber": 1}]}} {"ObjectParts": {"Parts": [{"PartNumber": 2}]}}`))
	f.Add([]byte(`{"sourceBucket": "a", "fileSchema": "Bucket, Key", "files": [{"key": "k", "size": 1, "MD5checksum": "x"}], "creationTimestamp": "1514944800000"}`))
	f.Add([]byte("\xef\xbb\xbf{\"ContentLength\": 1, \"ETag\": \"\\\"x\\\"\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseExport("b/k.versions/v.metadata.json", data, "")
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			return
		}
		if d := Detect(data); d != e.Format {
			t.Fatalf("Detect = %q but Parse read %q", d, e.Format)
		}
		if (e.Format == FormatManifest) != (e.Manifest != nil) {
			t.Fatalf("format %q with manifest %v", e.Format, e.Manifest)
		}
		for _, m := range e.Metas {
			if m.Source != e.Format {
				t.Fatalf("row source %q in %q export", m.Source, e.Format)
			}
			for i := 1; i < len(m.Parts); i++ {
				if m.Parts[i].PartNumber <= m.Parts[i-1].PartNumber {
					t.Fatalf("parts out of order: %d then %d", m.Parts[i-1].PartNumber, m.Parts[i].PartNumber)
				}
			}
			if m.Size != nil && *m.Size < 0 {
				t.Fatalf("negative size %d", *m.Size)
			}
		}
	})
}

func FuzzParseInventoryCSV(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "inventory.csv")); err == nil {
		f.Add(string(b), awsSchema)
	}
	f.Add("\"k+%2B\",\"b\"\n\"a\"b\"\n", "Key, Bucket")
	f.Add("Bucket,Key\nb,k\n", "Bucket, Key")
	f.Fuzz(func(t *testing.T, in, schema string) {
		// Every row is reported once, good or bad, in line order.
		lastLine := 0
		_ = ParseInventoryCSV(strings.NewReader(in), schema,
			func(m *store.ObjectMeta) error {
				if m.Source != FormatInventoryCSV || (m.Size != nil && *m.Size < 0) {
					t.Fatalf("bad row %+v", m)
				}
				return nil
			},
			func(line int, err error) {
				if line <= lastLine || err == nil {
					t.Fatalf("emitErr(%d, %v) after line %d", line, err, lastLine)
				}
				lastLine = line
			})
	})
}

// FuzzDecodeObject checks the hand scanner in decodeObject against
// encoding/json: same members, same values.
func FuzzDecodeObject(f *testing.F) {
	f.Add([]byte(`{"a": [1, {"b": "}"}], "c\"d": "e\\"}`))
	f.Add([]byte(`{ "x" : { } , "y":[ ],"z":null,"n":-1.5e3,"t":true }`))
	f.Add([]byte(`{"\u0041": "\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		// encoding/json takes null for a map (leaving it nil); only an
		// object is an object.
		if json.Unmarshal(data, &want) != nil || want == nil || !utf8.Valid(data) {
			return
		}
		o, err := decodeObject(bytes.TrimSpace(data), 0, "")
		if err != nil {
			// Only a repeated key may fail on valid JSON.
			var pe *ParseError
			if errors.As(err, &pe) && pe.Err.Error() == "key appears more than once" {
				return
			}
			t.Fatalf("decodeObject(%q): %v", data, err)
		}
		if len(o.vals) != len(want) {
			t.Fatalf("decodeObject(%q) has %d members, encoding/json %d", data, len(o.vals), len(want))
		}
		for k, w := range want {
			v, ok := o.vals[k]
			if !ok {
				t.Fatalf("decodeObject(%q): member %q missing", data, k)
			}
			if !bytes.Equal(v.raw, bytes.TrimSpace(w)) {
				t.Fatalf("decodeObject(%q): member %q = %q, encoding/json %q", data, k, v.raw, w)
			}
			if s, ok, err := o.str(k); err == nil && ok {
				var ws string
				if json.Unmarshal(w, &ws) != nil || ws != s {
					t.Fatalf("str(%q) = %q, encoding/json %q", k, s, ws)
				}
			}
		}
	})
}
