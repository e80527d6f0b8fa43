package s3meta

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/store"
)

// parseManifest reads an S3 Inventory manifest.json (FORMATS.md B.5).
// creationTimestamp is a string of epoch milliseconds; it is read as
// milliseconds whatever its size (awstime.Parse would guess seconds for
// small values).
func parseManifest(o *object) (*store.InventoryManifest, error) {
	m := &store.InventoryManifest{}
	var created string
	if err := strFields(o, "sourceBucket", &m.SourceBucket, "destinationBucket", &m.DestinationBucket,
		"version", &m.Version, "creationTimestamp", &created, "fileFormat", &m.FileFormat,
		"fileSchema", &m.FileSchema); err != nil {
		return nil, err
	}
	if created != "" {
		ms, err := strconv.ParseInt(created, 10, 64)
		if err != nil || ms < 0 {
			return nil, fieldErr("creationTimestamp", o.vals["creationTimestamp"].off,
				"want epoch milliseconds, got %q", created)
		}
		t := time.UnixMilli(ms).UTC()
		m.CreationTimestamp = &t
	}
	if _, ok := o.get("files"); !ok {
		return nil, fieldErr("files", o.off, "missing")
	}
	files, err := o.objects("files")
	if err != nil {
		return nil, err
	}
	m.Files = make([]store.InventoryFile, 0, len(files))
	for _, f := range files {
		var file store.InventoryFile
		if err := strFields(f, "key", &file.Key, "MD5checksum", &file.MD5Checksum); err != nil {
			return nil, err
		}
		if file.Key == "" {
			return nil, fieldErr(f.field("key"), f.off, "missing")
		}
		size, err := f.count("size")
		if err != nil {
			return nil, err
		}
		if size != nil {
			file.Size = *size
		}
		m.Files = append(m.Files, file)
	}
	return m, nil
}

// ParseManifestChecksum returns the hex MD5 held in a manifest.checksum
// file, surrounding white space removed. Case is kept; compare with
// CheckManifestChecksum.
func ParseManifestChecksum(data []byte) string {
	return strings.TrimSpace(string(data))
}

// ManifestMD5 is the lower-case hex MD5 of the manifest.json bytes exactly
// as stored: what manifest.checksum holds.
func ManifestMD5(manifest []byte) string {
	sum := md5.Sum(manifest)
	return hex.EncodeToString(sum[:])
}

// CheckManifestChecksum compares MD5(manifest) with the value in the
// manifest.checksum file. want is the trimmed file content, got the
// computed hex MD5; ok is true only when want is 32 hex digits equal to got
// (hex case ignored).
func CheckManifestChecksum(manifest, checksumFile []byte) (want, got string, ok bool) {
	want = ParseManifestChecksum(checksumFile)
	got = ManifestMD5(manifest)
	if _, err := hex.DecodeString(want); err != nil || len(want) != 32 {
		return want, got, false
	}
	return want, got, strings.EqualFold(want, got)
}
