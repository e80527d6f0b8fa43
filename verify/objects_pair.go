package verify

import (
	"path"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

const versionsSuffix = ".versions"

// versionOf returns the version id of a local copy named ".../K.versions/<id>"
// (atKey false), or "" and true for a copy at the key itself.
func versionOf(localName string) (version string, atKey bool) {
	dir, base := path.Split(localName)
	dir = strings.TrimSuffix(dir, "/")
	if base == "" || !strings.HasSuffix(dir, versionsSuffix) || strings.HasSuffix(strings.TrimSuffix(dir, versionsSuffix), "/") {
		return "", true
	}
	return base, false
}

// splitVersionKey splits a key under a bucket folder, "K.versions/<id>",
// into K and id; other keys come back whole.
func splitVersionKey(rel string) (key, version string) {
	i := strings.LastIndex(rel, versionsSuffix+"/")
	if i <= 0 || strings.Contains(rel[i+len(versionsSuffix)+1:], "/") || i+len(versionsSuffix)+1 == len(rel) {
		return rel, ""
	}
	return rel[:i], rel[i+len(versionsSuffix)+1:]
}

// bucketFolder is the bucket folder of a copy or sidecar at a place
// whose name is ".../<bucket>/<key>[.versions/<id>]" (a folder is scoped
// like the place).
func bucketFolder(at place, bucket, key string) (string, bool) {
	if bucket == "" || key == "" {
		return "", false
	}
	i := strings.LastIndex(at.name, "/"+bucket+"/"+key)
	if i < 0 {
		return "", false
	}
	return at.name[:i+1+len(bucket)], true
}

// matchVersion returns the rows (which name the copy's bucket and key but
// no local copy) that describe the copy's version; see the rules at the
// top of objects.go.
func matchVersion(c *objectCopy, rows []store.MetaRow) []store.MetaRow {
	norm := func(v string) string {
		if v == "null" {
			return ""
		}
		return v
	}
	versioned := 0
	for _, m := range rows {
		if !m.DeleteMarker && norm(m.VersionID) != "" {
			versioned++
		}
	}
	var out []store.MetaRow
	for _, m := range rows {
		if m.DeleteMarker {
			continue
		}
		v := norm(m.VersionID)
		switch {
		case v != "" && c.version != "":
			if v != c.version {
				continue
			}
		case v != "":
			latest := m.IsLatest != nil && *m.IsLatest || m.IsLatest == nil && versioned == 1
			if !c.atKey || !latest {
				continue
			}
		default:
			if !c.atKey || m.IsLatest != nil && !*m.IsLatest {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// metaRefs names the metadata rows a status rests on.
func metaRefs(rows []store.MetaRow) []verdict.MetadataRef {
	out := make([]verdict.MetadataRef, 0, len(rows))
	for _, m := range rows {
		p := m.Path
		if m.Member != "" {
			p += "!/" + m.Member
		}
		out = append(out, verdict.MetadataRef{Source: m.Source, EvidenceID: m.EvidenceID, Path: p})
	}
	return out
}

// sourcesOf lists the distinct metadata sources of rows, sorted.
func sourcesOf(rows []store.MetaRow) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range rows {
		if !seen[m.Source] {
			seen[m.Source] = true
			out = append(out, m.Source)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// claimedSize is the first size the rows give, or nil.
func claimedSize(rows []store.MetaRow) *int64 {
	for _, m := range rows {
		if m.Size != nil && !(m.Source == "head-object" && m.PartsCount != nil && *m.PartsCount > 1) {
			return verdict.Ptr(*m.Size)
		}
	}
	return nil
}
