package s3meta

import (
	"path"
	"path/filepath"
	"strings"
)

const (
	headSuffix       = ".metadata.json"
	attributesSuffix = ".attributes.json"
	versionsSuffix   = ".versions"
)

// Sidecar recognises the export-beside-object convention (DESIGN.md "How
// an export is laid out"): "K.metadata.json" holds head-object output for
// the local object K, "K.attributes.json" get-object-attributes output.
// kind is FormatHeadObject or FormatAttributes. When K is
// "X.versions/<VersionId>" (one version of key X), versionID is
// <VersionId>. ok is false for any other name, and for a bare
// ".metadata.json" with no object name before it.
//
// Both "/" and the OS separator are accepted; objectPath is path with the
// suffix removed, in the caller's own form.
func Sidecar(p string) (objectPath, kind, versionID string, ok bool) {
	switch {
	case strings.HasSuffix(p, headSuffix):
		objectPath, kind = strings.TrimSuffix(p, headSuffix), FormatHeadObject
	case strings.HasSuffix(p, attributesSuffix):
		objectPath, kind = strings.TrimSuffix(p, attributesSuffix), FormatAttributes
	default:
		return "", "", "", false
	}
	slash := filepath.ToSlash(objectPath)
	if slash == "" || strings.HasSuffix(slash, "/") {
		return "", "", "", false
	}
	_, versionID = splitVersion(slash)
	return objectPath, kind, versionID, true
}

// splitVersion splits "X.versions/<id>" into X and id; other paths come
// back whole with id "".
func splitVersion(p string) (string, string) {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	if base == "" || !strings.HasSuffix(dir, versionsSuffix) {
		return p, ""
	}
	x := strings.TrimSuffix(dir, versionsSuffix)
	if x == "" || strings.HasSuffix(x, "/") {
		return p, ""
	}
	return x, base
}

// ObjectKey derives an object's bucket and key from its local path under
// the export root, laid out as <root>/<bucket>/<key> (what
// `aws s3 sync s3://<bucket> <root>/<bucket>/` writes):
//
//   - the path after root is split at its first "/": bucket, then key;
//   - a path ending in "X.versions/<id>" is version <id> of key X;
//   - root "" (or ".") means path is already relative to the export root;
//     an absolute path then gives nothing.
//
// The key is the rest of the path as given (not cleaned: "a//b" stays,
// since S3 keys may hold such runs). A key that itself contains
// ".versions/" is read as a version: the convention cannot tell. Paths
// not under root, or with no key after the bucket, give empty results.
func ObjectKey(root, p string) (bucket, key, versionID string) {
	p = filepath.ToSlash(p)
	root = filepath.ToSlash(root)
	if root != "" && root != "." {
		root = strings.TrimSuffix(filepath.ToSlash(filepath.Clean(root)), "/")
		if !strings.HasPrefix(p, root+"/") {
			return "", "", ""
		}
		p = p[len(root)+1:]
	} else {
		if strings.HasPrefix(p, "/") || filepath.IsAbs(p) {
			return "", "", ""
		}
		p = strings.TrimPrefix(p, "./")
	}
	p = strings.TrimLeft(p, "/")
	bucket, key, found := strings.Cut(p, "/")
	if !found || bucket == "" || key == "" || bucket == "." || bucket == ".." || strings.HasPrefix(key, "../") {
		return "", "", ""
	}
	key, versionID = splitVersion(key)
	return bucket, key, versionID
}
