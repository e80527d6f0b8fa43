package s3meta

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/internal/testcorpus"
	"github.com/forensic-dev/forensic/store"
)

const (
	part1 = "lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w="
	part2 = "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc="
	part3 = "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM="
	comp  = "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc="
)

func compositeParts() []store.ObjectPart {
	return []store.ObjectPart{
		{PartNumber: 1, Size: i64(5242880), Checksums: map[string]string{"SHA256": part1}},
		{PartNumber: 2, Size: i64(5242880), Checksums: map[string]string{"SHA256": part2}},
		{PartNumber: 3, Size: i64(1048576), Checksums: map[string]string{"SHA256": part3}},
	}
}

func compositeAttributes() store.ObjectMeta {
	return store.ObjectMeta{
		Source:       FormatAttributes,
		VersionID:    "3HL4kqtJvjVBH40Nrjfkd",
		Size:         i64(11534336),
		ETag:         "0c1d2e3f405162738495a6b7c8d9eaf1-3",
		LastModified: tptr(2026, 9, 3, 10, 15, 30),
		Checksums:    map[string]string{"SHA256": comp},
		ChecksumType: "COMPOSITE",
		StorageClass: "STANDARD",
		PartsCount:   iptr(3),
		Parts:        compositeParts(),
	}
}

// TestCorpusCLI parses every AWS CLI s3api example in the corpus.
func TestCorpusCLI(t *testing.T) {
	dir := testcorpus.Path(t, "awsdocs-examples", "aws-cli-s3api")
	want := map[string]store.ObjectMeta{
		"head-object-example-output.json": {
			Source:       FormatHeadObject,
			VersionID:    "null",
			Size:         i64(77),
			ETag:         "30a6ec7e1a9ad79c203d05a589c8b400",
			LastModified: tptr(2015, 4, 16, 18, 19, 14),
			UserMetadata: map[string]string{},
		},
		"get-object-attributes-example-output.json": {
			Source:       FormatAttributes,
			VersionID:    "IuCPjXTDzHNfldAuitVBIKJpF2p1fg4P",
			Size:         i64(405),
			ETag:         "b662d79adeb7c8d787ea7eafb9ef6207",
			LastModified: tptr(2022, 3, 15, 19, 37, 31),
			StorageClass: "STANDARD",
		},
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		t.Run(ent.Name(), func(t *testing.T) {
			w, ok := want[ent.Name()]
			if !ok {
				t.Fatalf("corpus file %s has no expected values in this test", ent.Name())
			}
			path := filepath.Join(dir, ent.Name())
			data := readFile(t, path)
			metas, manifest, format, err := Parse(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if format != w.Source || manifest != nil {
				t.Errorf("format = %q, manifest = %v; want %q, nil", format, manifest, w.Source)
			}
			if got, want := dumpAll(metas), dumpAll([]store.ObjectMeta{w}); got != want {
				t.Errorf("Parse(%s):\ngot\n%s\nwant\n%s", ent.Name(), got, want)
			}
			if got := Detect(data); got != w.Source {
				t.Errorf("Detect = %q, want %q", got, w.Source)
			}
		})
	}
}

// TestCorpusManifests parses the S3 user guide's inventory manifests.
func TestCorpusManifests(t *testing.T) {
	created := time.Date(2018, 1, 3, 2, 0, 0, 0, time.UTC) // 1514944800000 ms
	csvSchema := "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, ReplicationStatus, EncryptionStatus, ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus, IntelligentTieringAccessTier, BucketKeyStatus, ChecksumAlgorithm"
	want := map[string]store.InventoryManifest{
		"inventory-manifest-csv-sample.json": {
			SourceBucket:      "example-source-bucket",
			DestinationBucket: "arn:aws:s3:::example-inventory-destination-bucket",
			Version:           "2016-11-30",
			CreationTimestamp: &created,
			FileFormat:        "CSV",
			FileSchema:        csvSchema,
			Files: []store.InventoryFile{{
				Key:         "Inventory/example-source-bucket/2016-11-06T21-32Z/files/939c6d46-85a9-4ba8-87bd-9db705a579ce.csv.gz",
				Size:        2147483647,
				MD5Checksum: "f11166069f1990abeb9c97ace9cdfabc",
			}},
		},
		"inventory-manifest-orc-sample.json": {
			SourceBucket:      "example-source-bucket",
			DestinationBucket: "arn:aws:s3:::example-destination-bucket",
			Version:           "2016-11-30",
			CreationTimestamp: &created,
			FileFormat:        "ORC",
			FileSchema:        "struct<bucket:string,key:string,version_id:string,is_latest:boolean,is_delete_marker:boolean,size:bigint,last_modified_date:timestamp,e_tag:string,storage_class:string,is_multipart_uploaded:boolean,replication_status:string,encryption_status:string,object_lock_retain_until_date:timestamp,object_lock_mode:string,object_lock_legal_hold_status:string,intelligent_tiering_access_tier:string,bucket_key_status:string,checksum_algorithm:string>",
			Files: []store.InventoryFile{{
				Key:         "inventory/example-source-bucket/data/d794c570-95bb-4271-9128-26023c8b4900.orc",
				Size:        56291,
				MD5Checksum: "5925f4e78e1695c2d020b9f6eexample",
			}},
		},
		"inventory-manifest-parquet-sample.json": {
			SourceBucket:      "example-source-bucket",
			DestinationBucket: "arn:aws:s3:::example-destination-bucket",
			Version:           "2016-11-30",
			CreationTimestamp: &created,
			FileFormat:        "Parquet",
			FileSchema:        "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); optional binary storage_class (UTF8); optional boolean is_multipart_uploaded; optional binary replication_status (UTF8); optional binary encryption_status (UTF8); optional int64 object_lock_retain_until_date (TIMESTAMP_MILLIS); optional binary object_lock_mode (UTF8); optional binary object_lock_legal_hold_status (UTF8); optional binary intelligent_tiering_access_tier (UTF8); optional binary bucket_key_status (UTF8); optional binary checksum_algorithm (UTF8); }",
			Files: []store.InventoryFile{{
				Key:         "inventory/example-source-bucket/data/d754c470-85bb-4255-9218-47023c8b4910.parquet",
				Size:        56291,
				MD5Checksum: "5825f2e18e1695c2d030b9f6eexample",
			}},
		},
	}
	matches, err := filepath.Glob(testcorpus.Path(t, "awsdocs-examples", "s3-user-guide", "inventory-manifest-*.json"))
	if err != nil || len(matches) != len(want) {
		t.Fatalf("glob: %d files (want %d), %v", len(matches), len(want), err)
	}
	for _, path := range matches {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected values for %s", name)
			}
			data := readFile(t, path)
			metas, manifest, format, err := Parse(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if format != FormatManifest || metas != nil {
				t.Errorf("format = %q, %d rows; want %q, none", format, len(metas), FormatManifest)
			}
			if got, want := dumpManifest(manifest), dumpManifest(&w); got != want {
				t.Errorf("manifest:\ngot  %s\nwant %s", got, want)
			}
			if got := Detect(data); got != FormatManifest {
				t.Errorf("Detect = %q, want %q", got, FormatManifest)
			}
		})
	}
	// The CSV sample's schema is the column list ParseInventoryCSV reads.
	cols, err := InventoryColumns(csvSchema)
	if err != nil || len(cols) != 18 || cols[0] != "Bucket" || cols[17] != "ChecksumAlgorithm" {
		t.Errorf("InventoryColumns(csv sample) = %q, %v", cols, err)
	}
}

// TestCompositeFixture checks that the A.5 values in testdata are typed in
// right: the composite is SHA-256 over the three raw part digests.
func TestCompositeFixture(t *testing.T) {
	h := sha256.New()
	for _, p := range []string{part1, part2, part3} {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != comp {
		t.Fatalf("composite = %s, want %s", got, comp)
	}
}

func TestParseTestdata(t *testing.T) {
	tests := []struct {
		file      string
		format    string
		want      []store.ObjectMeta
		docs      int
		truncated bool
		warnings  []string
	}{
		{
			file: "head-object-b1.json", format: FormatHeadObject, docs: 1,
			want: []store.ObjectMeta{{
				Source:       FormatHeadObject,
				VersionID:    "b544aa6b-9561-47f7-af31-3df5b5d7849c",
				Size:         i64(11),
				ETag:         "5eb63bbbe01eeed093cb22bb8f5acdc3",
				LastModified: tptr(2026, 11, 28, 19, 36, 1),
				Checksums:    map[string]string{"CRC32": "DUoRhQ=="},
				UserMetadata: map[string]string{"case": "42", "owner": "Alice"},
			}},
		},
		{
			file: "head-object-composite-sse.json", format: FormatHeadObject, docs: 1,
			want: []store.ObjectMeta{{
				Source:       FormatHeadObject,
				VersionID:    "null",
				Size:         i64(11534336),
				ETag:         "0c1d2e3f405162738495a6b7c8d9eaf1-3",
				LastModified: tptr(2026, 9, 3, 10, 15, 30),
				Checksums:    map[string]string{"SHA256": comp + "-3"},
				ChecksumType: "COMPOSITE",
				StorageClass: "STANDARD_IA",
				SSE:          "aws:kms",
				KMSKeyID:     "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
				PartsCount:   iptr(3),
				UserMetadata: map[string]string{"signature": "c2lnbmF0dXJl", "signature-algorithm": "SHA256withRSA"},
			}},
		},
		{
			file: "attributes-composite.json", format: FormatAttributes, docs: 1,
			want: []store.ObjectMeta{compositeAttributes()},
		},
		{
			file: "attributes-two-pages.json", format: FormatAttributes, docs: 2,
			want: []store.ObjectMeta{compositeAttributes()},
		},
		{
			file: "attributes-truncated.json", format: FormatAttributes, docs: 1, truncated: true,
			want: []store.ObjectMeta{{
				Source:       FormatAttributes,
				Size:         i64(11534336),
				ETag:         "0c1d2e3f405162738495a6b7c8d9eaf1-3",
				Checksums:    map[string]string{"SHA256": comp},
				ChecksumType: "COMPOSITE",
				PartsCount:   iptr(3),
				Parts:        compositeParts()[:1],
			}},
			warnings: []string{"offset 328: ObjectParts.IsTruncated: parts list is incomplete: 1 of 3 parts exported"},
		},
		{
			file: "list-object-versions.json", format: FormatListVersions, docs: 1,
			want: []store.ObjectMeta{
				{
					Source: FormatListVersions, Bucket: "evidence-bucket", Key: "reports/q3 final.txt",
					VersionID: "3HL4kqtJvjVBH40Nrjfkd", IsLatest: bptr(false), Size: i64(11),
					ETag: "5eb63bbbe01eeed093cb22bb8f5acdc3", LastModified: tptr(2026, 11, 28, 19, 36, 1),
					ChecksumType: "FULL_OBJECT", Algorithms: []string{"CRC64NVME"}, StorageClass: "STANDARD",
				},
				{
					Source: FormatListVersions, Bucket: "evidence-bucket", Key: "data/big.bin",
					VersionID: "null", IsLatest: bptr(true), Size: i64(5242891),
					ETag: "4ba54d90a25d93d94b7b41c987352341-2", LastModified: tptr(2026, 11, 27, 8, 0, 0),
					ChecksumType: "COMPOSITE", Algorithms: []string{"SHA256"}, StorageClass: "STANDARD",
				},
				{
					Source: FormatListVersions, Bucket: "evidence-bucket", Key: "reports/q3 final.txt",
					VersionID: "B2VsEK5saUNNHKcOAJj7hIE86RozToyq", IsLatest: bptr(true), DeleteMarker: true,
					LastModified: tptr(2026, 11, 29, 9, 10, 11),
				},
			},
		},
		{
			file: "list-objects-v2.json", format: FormatListVersions, docs: 1, truncated: true,
			want: []store.ObjectMeta{{
				Source: FormatListVersions, Bucket: "trail-bucket",
				Key:  "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/28/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261128T000000Z.json.gz",
				Size: i64(1024), ETag: "e2d4b8a0f1c3e5d7a9b1c3d5e7f90123", LastModified: tptr(2026, 11, 28, 0, 0, 42),
				ChecksumType: "FULL_OBJECT", Algorithms: []string{"CRC64NVME"}, StorageClass: "STANDARD",
			}},
			warnings: []string{"offset 604: IsTruncated: listing is incomplete: the last page says IsTruncated=true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := testdata(t, tt.file)
			e, err := ParseExport(filepath.Join("/cases/x", tt.file), data, "")
			if err != nil {
				t.Fatal(err)
			}
			if e.Format != tt.format || e.Documents != tt.docs || e.Truncated != tt.truncated || e.Manifest != nil {
				t.Errorf("format %q docs %d truncated %v manifest %v; want %q %d %v nil",
					e.Format, e.Documents, e.Truncated, e.Manifest, tt.format, tt.docs, tt.truncated)
			}
			if got, want := dumpAll(e.Metas), dumpAll(tt.want); got != want {
				t.Errorf("rows:\ngot\n%s\nwant\n%s", got, want)
			}
			var warnings []string
			for _, w := range e.Warnings {
				warnings = append(warnings, w.String())
			}
			if strings.Join(warnings, "\n") != strings.Join(tt.warnings, "\n") {
				t.Errorf("warnings:\ngot  %q\nwant %q", warnings, tt.warnings)
			}
			if got := Detect(data); got != tt.format {
				t.Errorf("Detect = %q, want %q", got, tt.format)
			}
		})
	}
}

func TestParseSidecar(t *testing.T) {
	data := testdata(t, "head-object-b1.json")
	tests := []struct {
		name, root                           string
		bucket, key, version, objPath, warns string
	}{
		{
			name: "/cases/export/evidence-bucket/docs/a.txt.metadata.json", root: "/cases/export",
			bucket: "evidence-bucket", key: "docs/a.txt", version: "b544aa6b-9561-47f7-af31-3df5b5d7849c",
			objPath: "/cases/export/evidence-bucket/docs/a.txt",
		},
		{
			// Parse's short form: a relative name is relative to the export root.
			name: "evidence-bucket/docs/a.txt.metadata.json", root: "",
			bucket: "evidence-bucket", key: "docs/a.txt", version: "b544aa6b-9561-47f7-af31-3df5b5d7849c",
			objPath: "evidence-bucket/docs/a.txt",
		},
		{
			name: "/abs/evidence-bucket/docs/a.txt.metadata.json", root: "",
			version: "b544aa6b-9561-47f7-af31-3df5b5d7849c", objPath: "/abs/evidence-bucket/docs/a.txt",
		},
		{
			name: "/r/b/docs/a.txt.versions/b544aa6b-9561-47f7-af31-3df5b5d7849c.metadata.json", root: "/r",
			bucket: "b", key: "docs/a.txt", version: "b544aa6b-9561-47f7-af31-3df5b5d7849c",
			objPath: "/r/b/docs/a.txt.versions/b544aa6b-9561-47f7-af31-3df5b5d7849c",
		},
		{
			name: "/r/b/docs/a.txt.versions/OTHER.metadata.json", root: "/r",
			bucket: "b", key: "docs/a.txt", version: "b544aa6b-9561-47f7-af31-3df5b5d7849c",
			objPath: "/r/b/docs/a.txt.versions/OTHER",
			warns:   `offset 0: name: file name says version "OTHER", export says VersionId "b544aa6b-9561-47f7-af31-3df5b5d7849c"; keeping the export's`,
		},
		{
			name: "/r/b/docs/a.txt.attributes.json", root: "/r",
			bucket: "b", key: "docs/a.txt", version: "b544aa6b-9561-47f7-af31-3df5b5d7849c",
			objPath: "/r/b/docs/a.txt",
			warns:   "offset 0: name: file name says get-object-attributes, content is head-object",
		},
		{
			name: "/r/b/docs/export.json", root: "/r",
			version: "b544aa6b-9561-47f7-af31-3df5b5d7849c",
		},
	}
	for _, tt := range tests {
		e, err := ParseExport(tt.name, data, tt.root)
		if err != nil {
			t.Fatalf("ParseExport(%q): %v", tt.name, err)
		}
		m := e.Metas[0]
		var warns []string
		for _, w := range e.Warnings {
			warns = append(warns, w.String())
		}
		got := []string{m.Bucket, m.Key, m.VersionID, m.ObjectPath, strings.Join(warns, "; ")}
		want := []string{tt.bucket, tt.key, tt.version, tt.objPath, tt.warns}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("ParseExport(%q, root %q):\ngot  %q\nwant %q", tt.name, tt.root, got, want)
		}
	}
	// The version comes from the path when the export has none.
	e, err := ParseExport("/r/b/k.versions/v1.attributes.json", []byte(`{"ObjectSize": 3}`), "/r")
	if err != nil || e.Metas[0].VersionID != "v1" || e.Metas[0].Key != "k" {
		t.Errorf("version from path: %+v, %v", e, err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"head quoted etag only", `{"ETag": "\"abc\"", "LastModified": "x"}`, FormatHeadObject},
		{"head checksum", `{"ChecksumCRC64NVME": "AAAAAAAAAAA=", "ETag": "abc"}`, FormatHeadObject},
		{"head metadata", `{"Metadata": {"signature": "x"}, "LastModified": "x"}`, FormatHeadObject},
		{"attributes etag+class", `{"ETag": "abc", "StorageClass": "STANDARD"}`, FormatAttributes},
		{"attributes checksum", `{"Checksum": {"ChecksumCRC32": "x"}}`, FormatAttributes},
		{"attributes parts", `{"ObjectParts": {}}`, FormatAttributes},
		{"list versions", `{"Versions": []}`, FormatListVersions},
		{"list delete markers", `{"DeleteMarkers": []}`, FormatListVersions},
		{"list v2", `{"Contents": [], "Name": "b"}`, FormatListVersions},
		{"empty listing", `{"Name": "b", "MaxKeys": 1000, "IsTruncated": false}`, FormatListVersions},
		{"manifest", `{"sourceBucket": "a", "fileSchema": "Bucket, Key", "files": []}`, FormatManifest},
		{"manifest missing files", `{"sourceBucket": "a", "fileSchema": "Bucket, Key"}`, ""},
		{"ambiguous head and attributes", `{"ContentLength": 1, "ObjectSize": 1, "ETag": "x"}`, ""},
		{"unquoted etag alone", `{"ETag": "abc"}`, ""},
		{"content type alone", `{"ContentType": "text/plain"}`, ""},
		{"lower-case key", `{"contentlength": 1, "etag": "\"x\""}`, ""},
		{"cloudtrail log", `{"Records": []}`, ""},
		{"digest", `{"awsAccountId": "1", "digestStartTime": "x", "logFiles": []}`, ""},
		{"public keys", `{"PublicKeyList": []}`, ""},
		{"array", `[{"ETag": "\"x\""}]`, ""},
		{"malformed", `{"ETag": `, ""},
		{"empty", ``, ""},
		{"bom", "\xef\xbb\xbf{\"ContentLength\": 1, \"ETag\": \"\\\"x\\\"\"}", FormatHeadObject},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%s: %s) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the whole error text
		offset   int64
	}{
		{"malformed", `{"ETag": "\"x\"", "ContentLength": 1,, }`, "e.json: offset 37: malformed JSON: invalid character ',' looking for beginning of object key string", 37},
		{"truncated", `{"ETag": "\"x\"", "ContentLength": 1`, "e.json: offset 36: malformed JSON: unexpected end of input", 36},
		{"trailing garbage", `{"ContentLength": 1, "ETag": "\"x\""} xyz`, "e.json: offset 38: malformed JSON: invalid character 'x' looking for beginning of value", 38},
		{"empty", ``, "e.json: offset 0: no JSON document", 0},
		{"not an object", `[1]`, "e.json: offset 0: want object, got array", 0},
		{"not an export", `{"Records": [], "x": 1}`, "e.json: offset 0: not an S3 metadata export (top-level keys Records, x)", 0},
		{"content length string", `{"ETag": "\"x\"", "ContentLength": "11"}`, `e.json: offset 35: ContentLength: want integer, got string`, 35},
		{"content length float", `{"ETag": "\"x\"", "ContentLength": 1.5}`, `e.json: offset 35: ContentLength: want integer, got 1.5`, 35},
		{"negative size", `{"ObjectSize": -1}`, `e.json: offset 15: ObjectSize: negative value -1`, 15},
		{"etag number", `{"ContentLength": 1, "ETag": 5}`, `e.json: offset 29: ETag: want string, got number`, 29},
		{"checksum number", `{"ContentLength": 1, "ChecksumSHA256": 5}`, `e.json: offset 39: ChecksumSHA256: want string, got number`, 39},
		{"metadata array", `{"ContentLength": 1, "Metadata": []}`, `e.json: offset 33: Metadata: want object, got array`, 33},
		{"metadata value number", `{"ContentLength": 1, "Metadata": {"a": 1}}`, `e.json: offset 39: Metadata.a: want string, got number`, 39},
		{"metadata case clash", `{"ContentLength": 1, "Metadata": {"Sig": "a", "sig": "b"}}`, `e.json: offset 53: Metadata.sig: same key as "Sig" once lower-cased`, 53},
		{"bad time", `{"ContentLength": 1, "LastModified": "yesterday"}`, `e.json: offset 37: LastModified: unrecognised timestamp "yesterday"`, 37},
		{"time bool", `{"ContentLength": 1, "LastModified": true}`, `e.json: offset 37: LastModified: want timestamp string, got boolean`, 37},
		{"delete marker string", `{"ContentLength": 1, "DeleteMarker": "true"}`, `e.json: offset 37: DeleteMarker: want boolean, got string`, 37},
		{"duplicate key", `{"ContentLength": 1, "ETag": "\"a\"", "ETag": "\"b\""}`, `e.json: offset 46: ETag: key appears more than once`, 46},
		{"checksum not object", `{"Checksum": "x"}`, `e.json: offset 13: Checksum: want object, got string`, 13},
		{"part size string", `{"ObjectParts": {"Parts": [{"PartNumber": 1, "Size": "5"}]}}`, `e.json: offset 53: ObjectParts.Parts[0].Size: want integer, got string`, 53},
		{"part number zero", `{"ObjectParts": {"Parts": [{"PartNumber": 0}]}}`, `e.json: offset 27: ObjectParts.Parts[0].PartNumber: want a part number from 1, got 0`, 27},
		{"part number missing", `{"ObjectParts": {"Parts": [{"Size": 1}]}}`, `e.json: offset 27: ObjectParts.Parts[0].PartNumber: want a part number from 1, got none`, 27},
		{"parts count string", `{"ObjectParts": {"TotalPartsCount": "3"}}`, `e.json: offset 36: ObjectParts.TotalPartsCount: want integer, got string`, 36},
		{"part listed twice", `{"ObjectParts": {"Parts": [{"PartNumber": 1}]}} {"ObjectParts": {"Parts": [{"PartNumber": 1}]}}`, `e.json: offset 0: ObjectParts.Parts: part number 1 listed twice`, 0},
		{"pages disagree", `{"ObjectSize": 1, "ETag": "a"} {"ObjectSize": 2, "ETag": "a"}`, `e.json: offset 31: ObjectSize: page 2 describes a different object than page 1`, 31},
		{"pages of two formats", `{"ObjectSize": 1} {"ContentLength": 1, "ETag": "\"a\""}`, `e.json: offset 18: JSON document 2 is "head-object" but document 1 is "get-object-attributes"`, 18},
		{"two head objects", `{"ContentLength": 1, "ETag": "\"a\""} {"ContentLength": 1, "ETag": "\"a\""}`, `e.json: offset 38: 2 JSON documents; a head-object export holds one`, 38},
		{"versions not array", `{"Versions": {}}`, `e.json: offset 13: Versions: want array, got object`, 13},
		{"version missing key", `{"Name": "b", "Versions": [{"VersionId": "v"}]}`, `e.json: offset 27: Versions[0].Key: missing`, 27},
		{"algorithm not list", `{"Versions": [{"Key": "k", "ChecksumAlgorithm": "CRC32"}]}`, `e.json: offset 48: Versions[0].ChecksumAlgorithm: want array, got string`, 48},
		{"is latest string", `{"Versions": [{"Key": "k", "IsLatest": "true"}]}`, `e.json: offset 39: Versions[0].IsLatest: want boolean, got string`, 39},
		{"manifest ms", `{"sourceBucket": "a", "fileSchema": "Bucket, Key", "files": [], "creationTimestamp": "2018-01-03"}`, `e.json: offset 85: creationTimestamp: want epoch milliseconds, got "2018-01-03"`, 85},
		{"manifest ms number", `{"sourceBucket": "a", "fileSchema": "Bucket, Key", "files": [], "creationTimestamp": 1514944800000}`, `e.json: offset 85: creationTimestamp: want string, got number`, 85},
		{"manifest size string", `{"sourceBucket": "a", "fileSchema": "x", "files": [{"key": "k", "size": "1"}]}`, `e.json: offset 72: files[0].size: want integer, got string`, 72},
		{"manifest file no key", `{"sourceBucket": "a", "fileSchema": "x", "files": [{"size": 1}]}`, `e.json: offset 51: files[0].key: missing`, 51},
		{"manifest files null", `{"sourceBucket": "a", "fileSchema": "x", "files": null}`, `e.json: offset 0: files: missing`, 0},
		{"invalid utf-8", "{\"ContentLength\": 1, \"ETag\": \"\\\"\xff\\\"\"}", "e.json: offset 32: invalid UTF-8", 32},
		{"utf-16", "\xff\xfe{\x00", "e.json: offset 0: UTF-16 text (PowerShell redirection?); only UTF-8 JSON is read", 0},
		{"bom offsets", "\xef\xbb\xbf{\"ContentLength\": \"1\"}", "e.json: offset 21: ContentLength: want integer, got string", 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metas, manifest, format, err := Parse("e.json", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%s) = %d rows, %v, %q; want error %q", tt.in, len(metas), manifest, format, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%s) error\ngot  %s\nwant %s", tt.in, err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Offset != tt.offset || pe.Name != "e.json" {
				t.Errorf("error %#v: want *ParseError at offset %d", err, tt.offset)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	data := make([]byte, MaxDocument+1)
	_, _, _, err := Parse("big.json", data)
	want := "big.json: offset 67108864: export is 67108865 bytes, over the 67108864-byte limit"
	if err == nil || err.Error() != want {
		t.Errorf("Parse(64 MiB + 1) error = %v, want %s", err, want)
	}
}

// TestParseNull checks that JSON null reads as an absent member, as AWS CLI
// v2 prints some unset members.
func TestParseNull(t *testing.T) {
	metas, _, _, err := Parse("n.json", []byte(`{"ContentLength": 5, "ETag": "\"x\"", "VersionId": null, "Metadata": null, "ChecksumCRC32": null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := store.ObjectMeta{Source: FormatHeadObject, Size: i64(5), ETag: "x"}
	if got, want := dump(metas[0]), dump(want); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestManifestChecksum(t *testing.T) {
	manifest := readFile(t, testcorpus.Path(t, "awsdocs-examples", "s3-user-guide", "inventory-manifest-csv-sample.json"))
	sum := ManifestMD5(manifest)
	if len(sum) != 32 {
		t.Fatalf("ManifestMD5 = %q", sum)
	}
	if got := ManifestMD5([]byte("hello world")); got != "5eb63bbbe01eeed093cb22bb8f5acdc3" {
		t.Errorf("ManifestMD5(hello world) = %s", got)
	}
	tests := []struct {
		name     string
		manifest []byte
		checksum string
		want     string
		ok       bool
	}{
		{"match with newline", manifest, sum + "\n", sum, true},
		{"match upper case", manifest, strings.ToUpper(sum) + "\r\n", strings.ToUpper(sum), true},
		{"one byte changed", append([]byte(nil), append(manifest[:len(manifest)-1:len(manifest)-1], ' ')...), sum, sum, false},
		{"not hex", manifest, "z" + sum[1:], "z" + sum[1:], false},
		{"short", manifest, sum[:31], sum[:31], false},
		{"empty", manifest, "", "", false},
	}
	for _, tt := range tests {
		want, got, ok := CheckManifestChecksum(tt.manifest, []byte(tt.checksum))
		if want != tt.want || ok != tt.ok || got != ManifestMD5(tt.manifest) {
			t.Errorf("%s: CheckManifestChecksum = %q, %q, %v; want %q, %q, %v", tt.name, want, got, ok, tt.want, ManifestMD5(tt.manifest), tt.ok)
		}
	}
	if got := ParseManifestChecksum([]byte("  " + sum + " \n")); got != sum {
		t.Errorf("ParseManifestChecksum = %q, want %q", got, sum)
	}
}

func TestParseSSEC(t *testing.T) {
	in := `{"AcceptRanges": "bytes", "LastModified": "2026-11-28T19:36:01+00:00", "ContentLength": 0,
	"ETag": "\"8c7a1d7b2e3f4a5b6c7d8e9f0a1b2c3d\"", "SSECustomerAlgorithm": "AES256",
	"SSECustomerKeyMD5": "2YWWCIYfgpL8ekLCQ4DUkQ==", "ChecksumCRC64NVME": "AAAAAAAAAAA=", "ChecksumType": "FULL_OBJECT"}`
	metas, _, format, err := Parse("c.json", []byte(in))
	if err != nil || format != FormatHeadObject {
		t.Fatal(format, err)
	}
	want := store.ObjectMeta{
		Source: FormatHeadObject, Size: i64(0), ETag: "8c7a1d7b2e3f4a5b6c7d8e9f0a1b2c3d",
		LastModified: tptr(2026, 11, 28, 19, 36, 1), SSECustomer: "AES256",
		Checksums: map[string]string{"CRC64NVME": "AAAAAAAAAAA="}, ChecksumType: "FULL_OBJECT",
	}
	if got, want := dump(metas[0]), dump(want); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
