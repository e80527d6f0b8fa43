// Package shard says which shard of an evidence export an item belongs to,
// from its name alone, so that the work on a large export can be split
// across machines (forensic plan, ingest --shard).
//
// A shard is one area of CloudTrail's delivery layout — key prefix,
// organization, account and region — with every trail and backfill chain
// delivering there: a log file's key does not name its trail, and
// backfill digests list the same area's log files, so every chain's
// digests and the log files they list fall in one shard. A digest's saved
// metadata (K.metadata.json, K.attributes.json) goes with the digest.
// Everything else — access logs, S3 objects and their metadata, public
// keys, unknown files — is the shard Rest. See docs/shards.md.
package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
)

// Rest is the shard of everything that belongs to no area.
const Rest = "rest"

// Area is a shard's part of the delivery layout.
type Area struct {
	Prefix  string `json:"prefix"` // the key prefix before AWSLogs/, as the export's folders name it
	OrgID   string `json:"org_id"`
	Account string `json:"account"`
	Region  string `json:"region"`
}

// ID is the area's shard id: "area-" and 12 hex digits of the SHA-256 of
// the area as a JSON array.
func (a Area) ID() string {
	b, _ := json.Marshal([]string{a.Prefix, a.OrgID, a.Account, a.Region})
	sum := sha256.Sum256(b)
	return "area-" + hex.EncodeToString(sum[:6])
}

var idPattern = regexp.MustCompile(`^(rest|area-[0-9a-f]{12})$`)

// ValidID reports whether id is a shard id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// sidecarSuffixes are the saved-metadata files that go with the file they
// are named after.
var sidecarSuffixes = []string{".metadata.json", ".attributes.json"}

// EntryName is the name Of reads of an item of the source at abs (the
// source argument, absolute): its member name when it is an archive
// member, else its slash path below abs (its base name when it is abs).
func EntryName(abs, path, member string) string {
	if member != "" {
		return member
	}
	rel, err := filepath.Rel(abs, path)
	if err != nil || rel == "." {
		rel = filepath.Base(path)
	}
	return filepath.ToSlash(rel)
}

// Of is the shard of the item named name: its slash path below the
// source argument for a file on disk, its member name (nested members
// joined by "!/") for an archive member. ok is false for Rest.
func Of(name string) (id string, a Area, ok bool) {
	for _, suf := range sidecarSuffixes {
		if strings.HasSuffix(name, suf) {
			name = strings.TrimSuffix(name, suf)
			break
		}
	}
	ki, ok := cloudtrail.ParseKey(name)
	if !ok {
		return Rest, Area{}, false
	}
	switch ki.Type {
	case cloudtrail.TypeLog, cloudtrail.TypeDigest, cloudtrail.TypeInsight, cloudtrail.TypeNetworkActivity, cloudtrail.TypeAggregated:
	default:
		return Rest, Area{}, false
	}
	a = Area{Prefix: ki.Prefix, OrgID: ki.OrgID, Account: ki.Account, Region: ki.Region}
	return a.ID(), a, true
}
