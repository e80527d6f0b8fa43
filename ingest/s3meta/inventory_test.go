package s3meta

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/store"
)

const awsSchema = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus, EncryptionStatus, ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus, IntelligentTieringAccessTier, BucketKeyStatus, ChecksumAlgorithm"

func inventoryRows() []store.ObjectMeta {
	return []store.ObjectMeta{
		{
			Source: FormatInventoryCSV, Bucket: "evidence-bucket", Key: "reports/q3 final.txt",
			VersionID: "3HL4kqtJvjVBH40Nrjfkd", IsLatest: bptr(false), Size: i64(11),
			LastModified: tptr(2026, 11, 28, 19, 36, 1), ETag: "5eb63bbbe01eeed093cb22bb8f5acdc3",
			StorageClass: "STANDARD", Multipart: bptr(false), SSE: "SSE-S3", Algorithms: []string{"CRC64NVME"},
		},
		{
			Source: FormatInventoryCSV, Bucket: "evidence-bucket", Key: "reports/q3 final.txt",
			VersionID: "B2VsEK5saUNNHKcOAJj7hIE86RozToyq", IsLatest: bptr(true), DeleteMarker: true,
			LastModified: tptr(2026, 11, 29, 9, 10, 11),
		},
		{
			Source: FormatInventoryCSV, Bucket: "evidence-bucket", Key: "math/1+1=2 notes.txt",
			VersionID: "null", IsLatest: bptr(true), Size: i64(5242891),
			LastModified: tptr(2026, 11, 27, 8, 0, 0), ETag: "4ba54d90a25d93d94b7b41c987352341-2",
			StorageClass: "GLACIER_IR", Multipart: bptr(true), SSE: "SSE-KMS", Algorithms: []string{"SHA256"},
		},
	}
}

// collect runs ParseInventoryCSV and returns the rows and "line N: error"
// strings.
func collect(t *testing.T, in, schema string) ([]store.ObjectMeta, []string, error) {
	t.Helper()
	var rows []store.ObjectMeta
	var errs []string
	err := ParseInventoryCSV(strings.NewReader(in), schema,
		func(m *store.ObjectMeta) error { rows = append(rows, *m); return nil },
		func(line int, err error) { errs = append(errs, fmt.Sprintf("line %d: %v", line, err)) })
	return rows, errs, err
}

func TestParseInventoryCSV(t *testing.T) {
	good := string(testdata(t, "inventory.csv"))
	lines := strings.SplitAfter(good, "\n")
	header := `"Bucket","Key","VersionId","IsLatest","IsDeleteMarker","Size","LastModifiedDate","ETag","StorageClass","IsMultipartUploaded","ReplicationStatus","EncryptionStatus","ObjectLockRetainUntilDate","ObjectLockMode","ObjectLockLegalHoldStatus","IntelligentTieringAccessTier","BucketKeyStatus","ChecksumAlgorithm"` + "\n"
	rows := inventoryRows()
	tests := []struct {
		name, in string
		want     []store.ObjectMeta
		errs     []string
	}{
		{"aws column order", good, rows, nil},
		{"header row", header + good, rows, nil},
		{"unquoted header, CRLF", strings.ReplaceAll(strings.ReplaceAll(header, `"`, ""), "\n", "\r\n") + strings.ReplaceAll(good, "\n", "\r\n"), rows, nil},
		{"no final newline", strings.TrimSuffix(good, "\n"), rows, nil},
		{"empty", "", nil, nil},
		{
			"bad rows are reported and skipped",
			lines[0] +
				`"evidence-bucket","short"` + "\n" +
				strings.Replace(lines[0], `"false","false"`, `"no","false"`, 1) +
				strings.Replace(lines[0], `"11"`, `"eleven"`, 1) +
				strings.Replace(lines[0], `q3+final`, `q3%zzfinal`, 1) +
				strings.Replace(lines[0], `2026-11-28T19:36:01.000Z`, `yesterday`, 1) +
				strings.Replace(lines[0], `"11"`, `"-11"`, 1) +
				strings.Replace(lines[0], `q3+final`, `q3%FFfinal`, 1) +
				`"evidence-bucket","a"b",` + "\n" +
				lines[1] + lines[2],
			rows,
			[]string{
				"line 2: 2 fields, fileSchema has 18",
				`line 3: column IsLatest "no": want true or false`,
				`line 4: column Size "eleven": want a non-negative integer`,
				`line 5: column Key "reports/q3%zzfinal.txt": invalid URL escape "%zz"`,
				`line 6: column LastModifiedDate "yesterday": unrecognised timestamp "yesterday"`,
				`line 7: column Size "-11": want a non-negative integer`,
				`line 8: column Key "reports/q3%FFfinal.txt": not UTF-8 once decoded`,
				`line 9: parse error on line 9, column 21: extraneous or missing " in quoted-field`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs, err := collect(t, tt.in, awsSchema)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := dumpAll(got), dumpAll(tt.want); g != w {
				t.Errorf("rows:\ngot\n%s\nwant\n%s", g, w)
			}
			if strings.Join(errs, "\n") != strings.Join(tt.errs, "\n") {
				t.Errorf("row errors:\ngot  %q\nwant %q", errs, tt.errs)
			}
		})
	}
}

func TestParseInventoryCSVColumnOrder(t *testing.T) {
	in := `"my+key%2B","b","7"` + "\n" + `"x","b",""` + "\n"
	got, errs, err := collect(t, in, "Key,Bucket , Size")
	if err != nil || errs != nil {
		t.Fatalf("errors: %v %v", err, errs)
	}
	want := []store.ObjectMeta{
		{Source: FormatInventoryCSV, Bucket: "b", Key: "my key+", Size: i64(7)},
		{Source: FormatInventoryCSV, Bucket: "b", Key: "x"},
	}
	if g, w := dumpAll(got), dumpAll(want); g != w {
		t.Errorf("rows:\ngot\n%s\nwant\n%s", g, w)
	}
}

func TestParseInventoryCSVStops(t *testing.T) {
	schemaErrs := []struct{ schema, want string }{
		{"Bucket, Size", `fileSchema "Bucket, Size": no Key column`},
		{"Bucket, Key, , Size", `fileSchema "Bucket, Key, , Size": empty column name`},
		{"Bucket, Key, Key", `fileSchema "Bucket, Key, Key": column Key listed twice`},
		{"", `fileSchema "": empty column name`},
	}
	for _, tt := range schemaErrs {
		if _, _, err := collect(t, "", tt.schema); err == nil || err.Error() != tt.want {
			t.Errorf("schema %q: error %v, want %s", tt.schema, err, tt.want)
		}
	}

	// An error from emit stops the parse.
	stop := errors.New("store full")
	n := 0
	err := ParseInventoryCSV(strings.NewReader(string(testdata(t, "inventory.csv"))), awsSchema,
		func(*store.ObjectMeta) error { n++; return stop }, func(int, error) {})
	if !errors.Is(err, stop) || n != 1 || err.Error() != "inventory csv: line 1: store full" {
		t.Errorf("emit error: n=%d err=%v", n, err)
	}

	// A line of more than 1 MiB is refused, not buffered.
	long := `"b","k"` + "\n" + `"b","` + strings.Repeat("a", maxInventoryLine) + `"` + "\n"
	rows, _, err := collect(t, long, "Bucket, Key")
	if err == nil || err.Error() != "inventory csv: line 2: line longer than 1048576 bytes" || len(rows) != 1 {
		t.Errorf("long line: %d rows, err %v", len(rows), err)
	}
}
