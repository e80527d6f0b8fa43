package s3meta

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Export formats, as returned by Detect and Parse and stored in
// store.ObjectMeta.Source and store.Evidence.Format.
const (
	FormatHeadObject   = "head-object"
	FormatAttributes   = "get-object-attributes"
	FormatListVersions = "list-object-versions" // also list-objects and list-objects-v2 (Contents[])
	FormatManifest     = "inventory-manifest"
	FormatInventoryCSV = "inventory-csv"
)

// headOnly are members that HeadObject (and GetObject, whose JSON has the
// same shape) prints and GetObjectAttributes never does.
var headOnly = []string{
	"ContentLength", "AcceptRanges", "Metadata", "ContentType", "ContentEncoding",
	"CacheControl", "ContentDisposition", "ContentLanguage", "ContentRange", "Expires",
	"Expiration", "Restore", "ArchiveStatus", "MissingMeta", "WebsiteRedirectLocation",
	"ServerSideEncryption", "SSECustomerAlgorithm", "SSECustomerKeyMD5", "SSEKMSKeyId",
	"BucketKeyEnabled", "ReplicationStatus", "PartsCount", "TagCount", "ObjectLockMode",
	"ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus", "ChecksumType",
}

// attributesOnly are members only GetObjectAttributes prints.
var attributesOnly = []string{"ObjectSize", "Checksum", "ObjectParts"}

// listingMarkers are members of an (even empty) ListObjectVersions,
// ListObjects or ListObjectsV2 page besides Name.
var listingMarkers = []string{
	"KeyMarker", "VersionIdMarker", "NextKeyMarker", "NextVersionIdMarker",
	"Marker", "NextMarker", "ContinuationToken", "NextContinuationToken",
	"StartAfter", "KeyCount", "MaxKeys",
}

// Detect reports which export a JSON document is, from the top-level keys of
// its first (or only) JSON object, never from its file name:
//
//   - "inventory-manifest": sourceBucket, fileSchema and files;
//   - "list-object-versions": Versions, DeleteMarkers or Contents, or Name
//     with a listing marker such as KeyMarker or MaxKeys (an empty listing);
//   - "get-object-attributes": ObjectSize, Checksum or ObjectParts;
//   - "head-object": a member only HeadObject prints (ContentLength,
//     AcceptRanges, Metadata, ContentType, a top-level Checksum*, ...) together
//     with ETag, LastModified or ContentLength;
//   - otherwise, from the ETag alone: quoted is head-object, unquoted with a
//     StorageClass is get-object-attributes.
//
// Both head-only and attributes-only members, invalid JSON, or none of the
// above give "".
func Detect(data []byte) string {
	data, _ = stripBOM(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return ""
	}
	o, err := decodeObject(raw, 0, "")
	if err != nil {
		return ""
	}
	return detect(o)
}

func detect(o *object) string {
	if o.has("sourceBucket") && o.has("fileSchema") && o.has("files") {
		return FormatManifest
	}
	if o.has("Versions") || o.has("DeleteMarkers") || o.has("Contents") ||
		(o.has("Name") && hasAny(o, listingMarkers)) {
		return FormatListVersions
	}
	head := hasAny(o, headOnly)
	for _, alg := range ChecksumAlgorithms {
		head = head || o.has("Checksum"+alg)
	}
	head = head && (o.has("ETag") || o.has("LastModified") || o.has("ContentLength"))
	attrs := hasAny(o, attributesOnly)
	switch {
	case head && attrs:
		return ""
	case head:
		return FormatHeadObject
	case attrs:
		return FormatAttributes
	}
	etag, ok, err := o.str("ETag")
	switch {
	case err != nil || !ok:
		return ""
	case strings.HasPrefix(etag, `"`):
		return FormatHeadObject
	case o.has("StorageClass"):
		return FormatAttributes
	}
	return ""
}

func hasAny(o *object, keys []string) bool {
	for _, k := range keys {
		if o.has(k) {
			return true
		}
	}
	return false
}

// DetectHead is Detect for the head of a file, its first bytes, so that a
// file can be classified before it is read to its end: when complete is
// set the head is the whole file and DetectHead is Detect; otherwise the
// first object is judged on the top-level members the head holds, a member
// cut short by the end of the head counting by its key alone. The head is
// not checked to be valid JSON (Parse does that).
func DetectHead(head []byte, complete bool) string {
	if complete {
		return Detect(head)
	}
	head, _ = stripBOM(head)
	o := headObject(head)
	if o == nil {
		return ""
	}
	return detect(o)
}

// headObject reads the top-level members of the object that starts b, up
// to the end of b; nil when b does not start with an object.
func headObject(b []byte) *object {
	o := &object{vals: map[string]value{}}
	sc := scanner{b: b}
	sc.ws()
	if sc.peek() != '{' {
		return nil
	}
	sc.i++
	for {
		sc.ws()
		if sc.i >= len(b) || b[sc.i] != '"' {
			return o
		}
		ks := sc.i
		sc.str()
		if sc.bad {
			return o // the key is cut short
		}
		key, err := unquote(b[ks:sc.i])
		if err != nil {
			return nil
		}
		if _, dup := o.vals[key]; dup {
			return nil
		}
		sc.ws()
		if sc.i < len(b) && b[sc.i] != ':' {
			return nil
		}
		sc.i++
		sc.ws()
		vs := sc.i
		sc.value()
		o.keys = append(o.keys, key)
		if sc.bad || sc.i >= len(b) {
			o.vals[key] = value{} // cut short: known by its key alone
			return o
		}
		o.vals[key] = value{raw: b[vs:sc.i], off: int64(vs)}
		sc.ws()
		if sc.peek() != ',' {
			return o
		}
		sc.i++
	}
}
