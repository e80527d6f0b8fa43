package accesslog

import (
	"archive/zip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/forensic-dev/forensic/internal/testcorpus"
)

// head reads up to headSize bytes of a corpus file.
func head(t *testing.T, elem ...string) []byte {
	t.Helper()
	f, err := os.Open(testcorpus.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, headSize)
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
	return b[:n]
}

func TestLooksCorpus(t *testing.T) {
	tests := []struct {
		path []string
		want bool
	}{
		{[]string{"s3-server-access-logs", "apache-hadoop", "TestAuditLogs_sampleLog1"}, true},
		{[]string{"awsdocs-examples", "s3-user-guide", "server-access-log-example.log"}, true},
		{[]string{"invictus-aws-dataset", "CloudTrail", "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json"}, false},
		{[]string{"cloudtrail-digest", "elastic-integrations", "test-cloudtrail-digest-json.log"}, false},
		{[]string{"awsdocs-examples", "s3-user-guide", "inventory-manifest-csv-sample.json"}, false},
		{[]string{"otrf-security-datasets", "SDAWS-2202181000.yaml"}, false},
		{[]string{"PROVENANCE.md"}, false},
	}
	for _, tt := range tests {
		if got := Looks(head(t, tt.path...)); got != tt.want {
			t.Errorf("Looks(%s) = %v, want %v", strings.Join(tt.path, "/"), got, tt.want)
		}
	}

	// A CSV of flattened S3 events (a derived format, not an access log).
	zr, err := zip.OpenReader(testcorpus.Path(t, "otrf-security-datasets", "aws_s3_honeybucketlogs.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b := make([]byte, headSize)
	n, _ := io.ReadFull(rc, b)
	if Looks(b[:n]) {
		t.Errorf("Looks(aws_s3_honeybucketlogs.zip!/%s) = true, want false", zr.File[0].Name)
	}
}

func TestLooks(t *testing.T) {
	good := line(27, nil)
	longRef := line(27, map[int]string{16: `"https://example.com/?q=` + strings.Repeat("x", 8000) + `"`})
	tests := []struct {
		name string
		head string
		want bool
	}{
		{"27 fields", good + "\n" + good + "\n", true},
		{"18 fields, no newline", line(18, nil), true},
		{"CRLF", good + "\r\n", true},
		{"byte-order mark", "\xef\xbb\xbf" + good + "\n", true},
		{"first line cut by the 4 KiB head", longRef[:headSize], true},
		{"anonymised owner", line(27, map[int]string{1: "awsexamplebucketowner0123"}), true},
		{"second line garbage is not looked at", good + "\nrandom\n", true},
		{"website operation", line(27, map[int]string{7: "WEBSITE.GET.OBJECT"}), true},
		{"batch delete", line(27, map[int]string{7: "BATCH.DELETE.OBJECT"}), true},

		{"empty", "", false},
		{"random text", "The quick brown fox jumps over the lazy dog.\nSecond line.\n", false},
		{"CloudTrail JSON", `{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser"}}]}`, false},
		{"17 fields", line(17, nil), false},
		{"owner not canonical", line(27, map[int]string{1: "bob"}), false},
		{"unknown operation kind", line(27, map[int]string{7: "HTTP.GET.OBJECT"}), false},
		{"operation lower case", line(27, map[int]string{7: "rest.get.object"}), false},
		{"time not bracketed", line(27, map[int]string{3: "2019-02-06T00:00:38Z"}), false},
		{"bad status", line(27, map[int]string{10: "OK"}), false},
		{"cut head of a non-log", strings.Repeat("a", headSize), false},
		{"blank first line", "\n" + good, false},
	}
	for _, tt := range tests {
		if got := Looks([]byte(tt.head)); got != tt.want {
			t.Errorf("Looks(%s: %.60q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}
