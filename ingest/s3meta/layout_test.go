package s3meta

import "testing"

func TestSidecar(t *testing.T) {
	tests := []struct {
		in                 string
		obj, kind, version string
		ok                 bool
	}{
		{"b/dir/file.txt.metadata.json", "b/dir/file.txt", FormatHeadObject, "", true},
		{"b/dir/file.txt.attributes.json", "b/dir/file.txt", FormatAttributes, "", true},
		{"/abs/b/AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/28/d.json.gz.metadata.json",
			"/abs/b/AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/28/d.json.gz", FormatHeadObject, "", true},
		{"b/k.txt.versions/3HL4kqtJvjVBH40Nrjfkd.metadata.json", "b/k.txt.versions/3HL4kqtJvjVBH40Nrjfkd", FormatHeadObject, "3HL4kqtJvjVBH40Nrjfkd", true},
		{"b/k.txt.versions/null.attributes.json", "b/k.txt.versions/null", FormatAttributes, "null", true},
		{"k.versions/v.metadata.json", "k.versions/v", FormatHeadObject, "v", true},
		{"b/.versions/v.metadata.json", "b/.versions/v", FormatHeadObject, "", true},
		{"b/dir/.metadata.json", "", "", "", false},
		{".metadata.json", "", "", "", false},
		{"b/file.metadata.json.gz", "", "", "", false},
		{"b/file.json", "", "", "", false},
		{"b/file.METADATA.JSON", "", "", "", false},
		{"b/file.metadata.json.metadata.json", "b/file.metadata.json", FormatHeadObject, "", true},
	}
	for _, tt := range tests {
		obj, kind, version, ok := Sidecar(tt.in)
		if obj != tt.obj || kind != tt.kind || version != tt.version || ok != tt.ok {
			t.Errorf("Sidecar(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
				tt.in, obj, kind, version, ok, tt.obj, tt.kind, tt.version, tt.ok)
		}
	}
}

func TestObjectKey(t *testing.T) {
	tests := []struct {
		root, path           string
		bucket, key, version string
	}{
		{"/cases/export", "/cases/export/my-bucket/dir/a.txt", "my-bucket", "dir/a.txt", ""},
		{"/cases/export/", "/cases/export/my-bucket/a.txt", "my-bucket", "a.txt", ""},
		{"/cases/export", "/cases/export/my-bucket/a.txt.versions/3HL4kqtJvjVBH40Nrjfkd", "my-bucket", "a.txt", "3HL4kqtJvjVBH40Nrjfkd"},
		{"/cases/export", "/cases/export/my-bucket/d/a.txt.versions/null", "my-bucket", "d/a.txt", "null"},
		{"/cases/export", "/cases/export/my-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/f.json.gz",
			"my-bucket", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/f.json.gz", ""},
		{"/cases/export", "/cases/export/my-bucket/a//b", "my-bucket", "a//b", ""},
		{"/cases/export", "/cases/export/my-bucket/with space+plus.txt", "my-bucket", "with space+plus.txt", ""},
		{"/cases/export", "/cases/exported/my-bucket/a.txt", "", "", ""},
		{"/cases/export", "/other/my-bucket/a.txt", "", "", ""},
		{"/cases/export", "/cases/export/my-bucket", "", "", ""},
		{"/cases/export", "/cases/export/my-bucket/", "", "", ""},
		{"/cases/export", "/cases/export", "", "", ""},
		{"", "my-bucket/a.txt", "my-bucket", "a.txt", ""},
		{".", "./my-bucket/a.txt", "my-bucket", "a.txt", ""},
		{"", "my-bucket/k.versions/v1", "my-bucket", "k", "v1"},
		{"", "my-bucket/.versions/v1", "my-bucket", ".versions/v1", ""},
		{"", "my-bucket/dir/.versions/v1", "my-bucket", "dir/.versions/v1", ""},
		{"", "/abs/my-bucket/a.txt", "", "", ""},
		{"", "../my-bucket/a.txt", "", "", ""},
		{"", "my-bucket/../a.txt", "", "", ""},
		{"/", "/my-bucket/a.txt", "my-bucket", "a.txt", ""},
	}
	for _, tt := range tests {
		bucket, key, version := ObjectKey(tt.root, tt.path)
		if bucket != tt.bucket || key != tt.key || version != tt.version {
			t.Errorf("ObjectKey(%q, %q) = %q, %q, %q; want %q, %q, %q",
				tt.root, tt.path, bucket, key, version, tt.bucket, tt.key, tt.version)
		}
	}
}
