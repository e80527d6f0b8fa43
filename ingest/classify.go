package ingest

import (
	"bytes"
	"os"
	"strings"

	"github.com/forensic-dev/forensic/ingest/accesslog"
	"github.com/forensic-dev/forensic/ingest/s3meta"
	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/source"
	"github.com/forensic-dev/forensic/store"
)

// Classification looks at an item's names and at the head of its content,
// never at more, so an item's kind does not depend on its size or on the
// path (buffered or streamed) that reads it.
const (
	// headSize is the head of the content classification sees (metadata
	// exports are judged on the top-level keys found in it).
	headSize = 64 << 10
	// looksSize is the part of the head the content tests of CloudTrail
	// files, public keys and access logs are written for.
	looksSize = 4 << 10
	// maxDERKey bounds a binary file taken for a DER key.
	maxDERKey = 16 << 10
)

// class is what classify decided about an item.
type class struct {
	kind string
	// sidecar: a K.metadata.json or K.attributes.json export; objPath is
	// K in the item's own terms (the file path, or the member name).
	sidecar bool
	objPath string
	// inventoryCSV: an S3 Inventory data file.
	inventoryCSV bool
	key          *cloudtrail.KeyInfo // the CloudTrail key shape, when the name has one
}

// classify decides an item's kind — by S3 key shape first, then by content
// — from its names and head, the first headSize bytes of its content
// (decompressed). complete says that head is the whole content.
func classify(e *source.Entry, head []byte, complete bool) class {
	name := fullName(e)
	looks := head[:min(len(head), looksSize)]

	// 1. A metadata export beside an object: K.metadata.json, K.attributes.json.
	// The object path is in the item's own terms: the file path on disk, or
	// the member name inside its archive (as evidence.member spells it).
	sideName := e.Path
	if e.Member != "" {
		sideName = e.Member
	}
	if objPath, _, _, ok := s3meta.Sidecar(sideName); ok {
		return class{kind: store.KindObjectMetadata, sidecar: true, objPath: objPath}
	}
	// 2. The AWSLogs/... key shape.
	var key *cloudtrail.KeyInfo
	if ki, ok := cloudtrail.ParseKey(name); ok {
		key = &ki
		switch {
		case ki.Type == cloudtrail.TypeDigest:
			return class{kind: store.KindCloudTrailDig, key: key}
		case cloudtrail.IsRecordsType(ki.Type):
			// A bare file name is taken for a log unless the content,
			// when there is any to see, says otherwise.
			if !ki.FileNameOnly || len(head) == 0 || cloudtrail.LooksLikeRecords(looks) {
				return class{kind: store.KindCloudTrailLog, key: key}
			}
		}
	}
	// 3. CloudTrail Lake query results: a sign file by name and content,
	// a result file by name.
	if k := classifyLake(e, name, looks); k != "" {
		return class{kind: k}
	}
	c := class{kind: store.KindUnknown, key: key}
	// 4. By content, so flattened or renamed copies are still recognised.
	switch {
	case cloudtrail.LooksLikeDigest(looks):
		c.kind = store.KindCloudTrailDig
	case cloudtrail.LooksLikeRecords(looks):
		c.kind = store.KindCloudTrailLog
	case cloudtrail.LooksLikePublicKeys(looks) || looksLikeDERKey(name, head, complete):
		c.kind = store.KindPublicKeys
	case s3meta.DetectHead(head, complete) != "":
		c.kind = store.KindObjectMetadata
	case isInventoryCSV(name):
		c.kind, c.inventoryCSV = store.KindObjectMetadata, true
	case accesslog.Looks(looks):
		c.kind = store.KindAccessLog
	case hasSidecar(e):
		c.kind = store.KindObject
	case accessLogKey(name) && len(head) > 0 && head[0] != '{':
		// A delivered access-log name whose first line is damaged.
		c.kind = store.KindAccessLog
	}
	return c
}

func accessLogKey(name string) bool {
	_, ok := accesslog.ParseKey(name)
	return ok
}

// hasSidecar reports whether a metadata export sits beside an on-disk file.
// Archive members are paired after the walk (see pairObjects).
func hasSidecar(e *source.Entry) bool {
	if e.Member != "" {
		return false
	}
	for _, s := range []string{".metadata.json", ".attributes.json"} {
		if fi, err := os.Lstat(e.Path + s); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func isInventoryCSV(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "/data/") && (strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".csv.gz"))
}

// looksLikeDERKey accepts a small binary file named like a key that
// starts with an ASN.1 SEQUENCE.
func looksLikeDERKey(name string, head []byte, complete bool) bool {
	n := strings.ToLower(name)
	if !(strings.HasSuffix(n, ".der") || strings.HasSuffix(n, ".pem") || strings.HasSuffix(n, ".pub") || strings.HasSuffix(n, ".key")) {
		return false
	}
	return complete && len(head) < maxDERKey && (len(head) > 0 && head[0] == 0x30 || bytes.Contains(head, []byte("PUBLIC KEY-----")))
}
