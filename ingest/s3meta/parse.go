package s3meta

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// MaxDocument is the largest export Parse reads. One head-object or
// get-object-attributes output is a few KiB even with 10,000 parts
// (~1.5 MiB); 64 MiB holds a list-object-versions output of roughly
// 150,000 versions. Larger listings must be split by the caller (or come
// as S3 Inventory, which is streamed).
const MaxDocument = 64 << 20

// ChecksumAlgorithms are the S3 additional-checksum algorithms
// (FORMATS.md A.1): the keys of store.ObjectMeta.Checksums, and with
// "Checksum" prefixed the JSON members that carry the values.
var ChecksumAlgorithms = []string{
	"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512",
	"MD5", "XXHASH64", "XXHASH3", "XXHASH128",
}

// Export is everything read from one export file.
type Export struct {
	Format   string
	Metas    []store.ObjectMeta
	Manifest *store.InventoryManifest
	// Documents is the number of JSON documents in the file: 1, or the
	// number of pages when pages were appended to one file.
	Documents int
	// Truncated is true when the last page says IsTruncated: the
	// ObjectParts.Parts of a get-object-attributes export, or the rows of
	// a listing, are incomplete. What is there is kept.
	Truncated bool
	// Warnings are things worth reporting that did not stop the parse,
	// such as truncation or a version id in the file name that disagrees
	// with the one in the export.
	Warnings []Warning
}

// Warning is a remark on an export that parsed.
type Warning struct {
	Offset  int64  // byte offset of the value concerned
	Field   string // JSON field path, or "name" for the file name
	Message string
}

func (w Warning) String() string {
	return fmt.Sprintf("offset %d: %s: %s", w.Offset, w.Field, w.Message)
}

// Parse parses one export; see ParseExport, of which it is the short form
// with root "" (name is taken relative to the export root when it is a
// relative path). Warnings, including truncation, are dropped: callers that
// record them use ParseExport.
func Parse(name string, data []byte) (metas []store.ObjectMeta, manifest *store.InventoryManifest, format string, err error) {
	e, err := ParseExport(name, data, "")
	if err != nil {
		return nil, nil, "", err
	}
	return e.Metas, e.Manifest, e.Format, nil
}

// ParseExport parses one export: head-object or get-object-attributes
// output (one row), list-object-versions / list-objects(-v2) output (one
// row per version, delete marker or object), or an S3 Inventory
// manifest.json (Manifest set, no rows). The format is detected from the
// content (Detect). Several pages appended to one file are read as one
// export for get-object-attributes (ObjectParts merged) and listings (rows
// of every page); every page must be the same format.
//
// name is the file's path. When it is a sidecar (Sidecar), rows get
// ObjectPath, and Bucket, Key and a missing VersionID come from
// ObjectKey(root, objectPath).
//
// Errors are *ParseError, naming name, the byte offset and the field.
func ParseExport(name string, data []byte, root string) (*Export, error) {
	if len(data) > MaxDocument {
		return nil, &ParseError{Name: name, Offset: MaxDocument,
			Err: fmt.Errorf("export is %d bytes, over the %d-byte limit", len(data), MaxDocument)}
	}
	e, err := parseExport(name, data, root)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Name = name
			return nil, pe
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}

// stripBOM removes a UTF-8 byte-order mark (Windows tools write one) and
// returns how many bytes it removed.
func stripBOM(data []byte) ([]byte, int64) {
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return data[3:], 3
	}
	return data, 0
}

func parseExport(name string, data []byte, root string) (*Export, error) {
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return nil, &ParseError{Err: errors.New("UTF-16 text (PowerShell redirection?); only UTF-8 JSON is read")}
	}
	data, bom := stripBOM(data)
	docs, err := documents(data)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Offset += bom
		}
		return nil, err
	}
	e, err := parseDocuments(docs)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Offset += bom
		}
		return nil, err
	}
	for i := range e.Warnings {
		e.Warnings[i].Offset += bom
	}
	if e.Format == FormatHeadObject || e.Format == FormatAttributes {
		e.applySidecar(name, root)
	}
	return e, nil
}

func parseDocuments(docs []*object) (*Export, error) {
	format := detect(docs[0])
	if format == "" {
		return nil, &ParseError{Offset: docs[0].off,
			Err: fmt.Errorf("not an S3 metadata export (top-level keys %s)", keyList(docs[0]))}
	}
	for i, d := range docs[1:] {
		if f := detect(d); f != format {
			return nil, &ParseError{Offset: d.off,
				Err: fmt.Errorf("JSON document %d is %q but document 1 is %q", i+2, f, format)}
		}
	}
	e := &Export{Format: format, Documents: len(docs)}
	switch format {
	case FormatHeadObject, FormatManifest:
		if len(docs) > 1 {
			return nil, &ParseError{Offset: docs[1].off,
				Err: fmt.Errorf("%d JSON documents; a %s export holds one", len(docs), format)}
		}
		if format == FormatManifest {
			m, err := parseManifest(docs[0])
			if err != nil {
				return nil, err
			}
			e.Manifest = m
			return e, nil
		}
		m, err := parseHead(docs[0])
		if err != nil {
			return nil, err
		}
		e.Metas = []store.ObjectMeta{m}
	case FormatAttributes:
		if err := e.parseAttributes(docs); err != nil {
			return nil, err
		}
	case FormatListVersions:
		for _, d := range docs {
			if err := e.parseListing(d); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func keyList(o *object) string {
	const max = 8
	keys := o.keys
	more := ""
	if len(keys) > max {
		keys, more = keys[:max], ", ..."
	}
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ") + more
}

// applySidecar fills the row's local path and identity from the file name
// under the K.metadata.json / K.attributes.json convention.
func (e *Export) applySidecar(name, root string) {
	objectPath, kind, _, ok := Sidecar(name)
	if !ok {
		return
	}
	m := &e.Metas[0]
	m.ObjectPath = objectPath
	bucket, key, vid := ObjectKey(root, objectPath)
	m.Bucket, m.Key = bucket, key
	switch {
	case m.VersionID == "":
		m.VersionID = vid
	case vid != "" && vid != m.VersionID:
		e.Warnings = append(e.Warnings, Warning{Field: "name",
			Message: fmt.Sprintf("file name says version %q, export says VersionId %q; keeping the export's", vid, m.VersionID)})
	}
	if kind != e.Format {
		e.Warnings = append(e.Warnings, Warning{Field: "name",
			Message: fmt.Sprintf("file name says %s, content is %s", kind, e.Format)})
	}
}

// unquoteETag removes one pair of surrounding double quotes.
func unquoteETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// checksums reads the Checksum<ALG> members of o, values exactly as
// exported (a composite "-N" suffix is kept). Nil when there are none.
func checksums(o *object) (map[string]string, error) {
	var out map[string]string
	for _, alg := range ChecksumAlgorithms {
		v, ok, err := o.str("Checksum" + alg)
		if err != nil {
			return nil, err
		}
		if ok {
			if out == nil {
				out = map[string]string{}
			}
			out[alg] = v
		}
	}
	return out, nil
}

// intCount converts a count to int, refusing values no S3 count reaches.
func intCount(o *object, key string) (*int, error) {
	n, err := o.count(key)
	if err != nil || n == nil {
		return nil, err
	}
	if *n > math.MaxInt32 {
		return nil, fieldErr(o.field(key), o.vals[key].off, "value %d too large", *n)
	}
	i := int(*n)
	return &i, nil
}

// strFields reads string members into destinations, in order.
func strFields(o *object, fields ...any) error {
	for i := 0; i+1 < len(fields); i += 2 {
		v, _, err := o.str(fields[i].(string))
		if err != nil {
			return err
		}
		*fields[i+1].(*string) = v
	}
	return nil
}

func parseHead(o *object) (store.ObjectMeta, error) {
	m := store.ObjectMeta{Source: FormatHeadObject}
	var etag string
	if err := strFields(o, "ETag", &etag, "VersionId", &m.VersionID, "StorageClass", &m.StorageClass,
		"ChecksumType", &m.ChecksumType, "ServerSideEncryption", &m.SSE,
		"SSECustomerAlgorithm", &m.SSECustomer, "SSEKMSKeyId", &m.KMSKeyID); err != nil {
		return m, err
	}
	m.ETag = unquoteETag(etag)
	var err error
	if m.Size, err = o.count("ContentLength"); err != nil {
		return m, err
	}
	if m.LastModified, err = o.timestamp("LastModified"); err != nil {
		return m, err
	}
	dm, err := o.boolean("DeleteMarker")
	if err != nil {
		return m, err
	}
	m.DeleteMarker = dm != nil && *dm
	if m.Checksums, err = checksums(o); err != nil {
		return m, err
	}
	if m.PartsCount, err = intCount(o, "PartsCount"); err != nil {
		return m, err
	}
	if m.UserMetadata, err = userMetadata(o); err != nil {
		return m, err
	}
	return m, nil
}

// userMetadata reads Metadata (x-amz-meta-* headers, prefix stripped) with
// keys lower-cased, as S3 returns them. Two keys that differ only in case
// are an error: which one a verifier should use would be a guess.
func userMetadata(o *object) (map[string]string, error) {
	md, err := o.object("Metadata")
	if err != nil || md == nil {
		return nil, err
	}
	out := make(map[string]string, len(md.keys))
	orig := make(map[string]string, len(md.keys))
	for _, k := range md.keys {
		v, _, err := md.str(k)
		if err != nil {
			return nil, err
		}
		lk := strings.ToLower(k)
		if prev, dup := orig[lk]; dup {
			return nil, fieldErr(md.field(k), md.vals[k].off, "same key as %q once lower-cased", prev)
		}
		orig[lk] = k
		out[lk] = v
	}
	return out, nil
}

// attributesPage is one get-object-attributes document.
type attributesPage struct {
	meta      store.ObjectMeta
	truncated bool
	off       int64 // of ObjectParts.IsTruncated, for the warning
}

func parseAttributesPage(o *object) (attributesPage, error) {
	p := attributesPage{meta: store.ObjectMeta{Source: FormatAttributes}}
	m := &p.meta
	var etag string
	if err := strFields(o, "ETag", &etag, "VersionId", &m.VersionID, "StorageClass", &m.StorageClass); err != nil {
		return p, err
	}
	m.ETag = unquoteETag(etag)
	var err error
	if m.Size, err = o.count("ObjectSize"); err != nil {
		return p, err
	}
	if m.LastModified, err = o.timestamp("LastModified"); err != nil {
		return p, err
	}
	dm, err := o.boolean("DeleteMarker")
	if err != nil {
		return p, err
	}
	m.DeleteMarker = dm != nil && *dm
	ck, err := o.object("Checksum")
	if err != nil {
		return p, err
	}
	if ck != nil {
		if m.Checksums, err = checksums(ck); err != nil {
			return p, err
		}
		if m.ChecksumType, _, err = ck.str("ChecksumType"); err != nil {
			return p, err
		}
	}
	op, err := o.object("ObjectParts")
	if err != nil || op == nil {
		return p, err
	}
	if m.PartsCount, err = intCount(op, "TotalPartsCount"); err != nil {
		return p, err
	}
	// Older CLI/SDK output used the XML name.
	if m.PartsCount == nil {
		if m.PartsCount, err = intCount(op, "PartsCount"); err != nil {
			return p, err
		}
	}
	tr, err := op.boolean("IsTruncated")
	if err != nil {
		return p, err
	}
	p.truncated = tr != nil && *tr
	p.off = op.vals["IsTruncated"].off
	parts, err := op.objects("Parts")
	if err != nil {
		return p, err
	}
	for _, po := range parts {
		n, err := po.count("PartNumber")
		if err != nil {
			return p, err
		}
		if n == nil || *n < 1 || *n > math.MaxInt32 {
			return p, fieldErr(po.field("PartNumber"), po.off, "want a part number from 1, got %s", describe(po, "PartNumber"))
		}
		part := store.ObjectPart{PartNumber: int(*n)}
		if part.Size, err = po.count("Size"); err != nil {
			return p, err
		}
		if part.Checksums, err = checksums(po); err != nil {
			return p, err
		}
		m.Parts = append(m.Parts, part)
	}
	return p, nil
}

func describe(o *object, key string) string {
	v, ok := o.vals[key]
	if !ok {
		return "none"
	}
	return string(v.raw)
}

// parseAttributes reads one get-object-attributes export of one or more
// pages. Later pages contribute only ObjectParts; their other members must
// agree with the first page's. Parts are sorted by PartNumber (the order
// composite checksums use); a part number seen twice is an error.
func (e *Export) parseAttributes(docs []*object) error {
	first, err := parseAttributesPage(docs[0])
	if err != nil {
		return err
	}
	m := first.meta
	last := first
	for i, d := range docs[1:] {
		p, err := parseAttributesPage(d)
		if err != nil {
			return err
		}
		if diff := pageConflict(&m, &p.meta); diff != "" {
			return &ParseError{Offset: d.off, Field: diff,
				Err: fmt.Errorf("page %d describes a different object than page 1", i+2)}
		}
		m.Parts = append(m.Parts, p.meta.Parts...)
		last = p
	}
	slices.SortStableFunc(m.Parts, func(a, b store.ObjectPart) int { return a.PartNumber - b.PartNumber })
	for i := 1; i < len(m.Parts); i++ {
		if m.Parts[i].PartNumber == m.Parts[i-1].PartNumber {
			return &ParseError{Offset: docs[0].off, Field: "ObjectParts.Parts",
				Err: fmt.Errorf("part number %d listed twice", m.Parts[i].PartNumber)}
		}
	}
	total := "an unknown number of"
	if m.PartsCount != nil {
		total = fmt.Sprint(*m.PartsCount)
	}
	switch {
	case last.truncated:
		e.Truncated = true
		e.Warnings = append(e.Warnings, Warning{Offset: last.off, Field: "ObjectParts.IsTruncated",
			Message: fmt.Sprintf("parts list is incomplete: %d of %s parts exported", len(m.Parts), total)})
	case m.PartsCount != nil && len(m.Parts) > 0 && len(m.Parts) != *m.PartsCount:
		e.Warnings = append(e.Warnings, Warning{Offset: docs[0].off, Field: "ObjectParts.Parts",
			Message: fmt.Sprintf("%d parts exported but TotalPartsCount is %d and IsTruncated is not true", len(m.Parts), *m.PartsCount)})
	}
	e.Metas = []store.ObjectMeta{m}
	return nil
}

// pageConflict returns the field on which two pages of one
// get-object-attributes export disagree, or "". A member missing from
// either page is no conflict.
func pageConflict(a, b *store.ObjectMeta) string {
	str := func(x, y string) bool { return x != "" && y != "" && x != y }
	switch {
	case str(a.ETag, b.ETag):
		return "ETag"
	case str(a.VersionID, b.VersionID):
		return "VersionId"
	case str(a.StorageClass, b.StorageClass):
		return "StorageClass"
	case a.Size != nil && b.Size != nil && *a.Size != *b.Size:
		return "ObjectSize"
	case a.PartsCount != nil && b.PartsCount != nil && *a.PartsCount != *b.PartsCount:
		return "ObjectParts.TotalPartsCount"
	case str(a.ChecksumType, b.ChecksumType):
		return "Checksum.ChecksumType"
	case a.LastModified != nil && b.LastModified != nil && !a.LastModified.Equal(*b.LastModified):
		return "LastModified"
	}
	for alg, v := range a.Checksums {
		if w, ok := b.Checksums[alg]; ok && w != v {
			return "Checksum.Checksum" + alg
		}
	}
	return ""
}

// parseListing reads one page of list-object-versions (Versions[],
// DeleteMarkers[]) or list-objects(-v2) (Contents[]) output. Keys are kept
// as printed: the CLI already URL-decodes them when it asked for
// EncodingType=url.
func (e *Export) parseListing(o *object) error {
	var bucket string
	if err := strFields(o, "Name", &bucket); err != nil {
		return err
	}
	for _, member := range []string{"Versions", "DeleteMarkers", "Contents"} {
		entries, err := o.objects(member)
		if err != nil {
			return err
		}
		for _, v := range entries {
			m, err := listEntry(v, bucket, member == "DeleteMarkers")
			if err != nil {
				return err
			}
			e.Metas = append(e.Metas, m)
		}
	}
	tr, err := o.boolean("IsTruncated")
	if err != nil {
		return err
	}
	// Only the last page decides: earlier pages are truncated by nature.
	e.Truncated = tr != nil && *tr
	e.Warnings = slices.DeleteFunc(e.Warnings, func(w Warning) bool { return w.Field == "IsTruncated" })
	if e.Truncated {
		e.Warnings = append(e.Warnings, Warning{Offset: o.vals["IsTruncated"].off, Field: "IsTruncated",
			Message: "listing is incomplete: the last page says IsTruncated=true"})
	}
	return nil
}

func listEntry(v *object, bucket string, deleteMarker bool) (store.ObjectMeta, error) {
	m := store.ObjectMeta{Source: FormatListVersions, Bucket: bucket, DeleteMarker: deleteMarker}
	key, ok, err := v.str("Key")
	if err != nil {
		return m, err
	}
	if !ok {
		return m, fieldErr(v.field("Key"), v.off, "missing")
	}
	m.Key = key
	var etag string
	if err := strFields(v, "VersionId", &m.VersionID, "ETag", &etag, "StorageClass", &m.StorageClass,
		"ChecksumType", &m.ChecksumType); err != nil {
		return m, err
	}
	m.ETag = unquoteETag(etag)
	if m.IsLatest, err = v.boolean("IsLatest"); err != nil {
		return m, err
	}
	if m.LastModified, err = v.timestamp("LastModified"); err != nil {
		return m, err
	}
	if m.Size, err = v.count("Size"); err != nil {
		return m, err
	}
	if m.Algorithms, err = v.strings("ChecksumAlgorithm"); err != nil {
		return m, err
	}
	return m, nil
}
