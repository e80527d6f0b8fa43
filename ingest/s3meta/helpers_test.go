package s3meta

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/store"
)

func i64(n int64) *int64 { return &n }
func iptr(n int) *int    { return &n }
func bptr(b bool) *bool  { return &b }
func tptr(y int, mo time.Month, d, h, mi, s int) *time.Time {
	t := time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	return &t
}

// dump renders a row field by field so that a failing test prints a
// readable got/want pair.
func dump(m store.ObjectMeta) string {
	var b strings.Builder
	p := func(k string, v any) { fmt.Fprintf(&b, "  %s: %v\n", k, v) }
	p("Source", m.Source)
	p("Bucket", m.Bucket)
	p("Key", fmt.Sprintf("%q", m.Key))
	p("VersionID", m.VersionID)
	p("IsLatest", deref(m.IsLatest))
	p("DeleteMarker", m.DeleteMarker)
	p("Size", deref(m.Size))
	p("ETag", m.ETag)
	if m.LastModified != nil {
		p("LastModified", m.LastModified.Format(time.RFC3339Nano)+" "+m.LastModified.Location().String())
	} else {
		p("LastModified", "nil")
	}
	p("Checksums", sortedMap(m.Checksums))
	p("ChecksumType", m.ChecksumType)
	p("Algorithms", m.Algorithms)
	p("StorageClass", m.StorageClass)
	p("SSE", m.SSE)
	p("SSECustomer", m.SSECustomer)
	p("KMSKeyID", m.KMSKeyID)
	p("PartsCount", deref(m.PartsCount))
	for _, part := range m.Parts {
		p("Part", fmt.Sprintf("%d size=%v %s", part.PartNumber, deref(part.Size), sortedMap(part.Checksums)))
	}
	p("Multipart", deref(m.Multipart))
	p("UserMetadata", sortedMap(m.UserMetadata))
	p("ObjectPath", m.ObjectPath)
	return b.String()
}

func dumpAll(ms []store.ObjectMeta) string {
	var b strings.Builder
	for i, m := range ms {
		fmt.Fprintf(&b, "row %d:\n%s", i, dump(m))
	}
	return b.String()
}

func dumpManifest(m *store.InventoryManifest) string {
	if m == nil {
		return "nil"
	}
	ct := "nil"
	if m.CreationTimestamp != nil {
		ct = m.CreationTimestamp.Format(time.RFC3339Nano) + " " + m.CreationTimestamp.Location().String()
	}
	return fmt.Sprintf("source=%s dest=%s version=%s created=%s format=%s schema=%q files=%+v",
		m.SourceBucket, m.DestinationBucket, m.Version, ct, m.FileFormat, m.FileSchema, m.Files)
}

func deref[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func sortedMap(m map[string]string) string {
	if m == nil {
		return "nil"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join("testdata", name))
}
