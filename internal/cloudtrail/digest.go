package cloudtrail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// RequiredDigestKeys are the top-level keys awscli's validator requires to
// be present in a digest file (their values may be null), in awscli's
// order (FORMATS.md D.3).
var RequiredDigestKeys = []string{
	"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
	"previousDigestSignature", "digestEndTime", "digestStartTime",
}

// digestKeys are the top-level keys of FORMATS.md D.3.
var digestKeys = []string{
	"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket",
	"digestS3Object", "digestPublicKeyFingerprint", "digestSignatureAlgorithm",
	"newestEventTime", "oldestEventTime", "previousDigestS3Bucket",
	"previousDigestS3Object", "previousDigestHashValue",
	"previousDigestHashAlgorithm", "previousDigestSignature", "logFiles",
}

// DigestInfo is what store.Digest cannot hold about a digest file's keys:
// which were present, which were null, which were absent though awscli
// requires them, and which are not in FORMATS.md D.3.
type DigestInfo struct {
	Keys    []string // top-level keys in file order
	Null    []string // top-level keys whose value is JSON null
	Missing []string // RequiredDigestKeys that are absent, in that order
	Unknown []string // top-level keys not in D.3, in file order
}

// Has reports whether the top-level key was present (null included).
func (d DigestInfo) Has(key string) bool { return slices.Contains(d.Keys, key) }

// MissingKeysError lists required digest keys that are absent.
type MissingKeysError struct {
	Keys []string
}

func (e *MissingKeysError) Error() string {
	return "digest lacks required keys: " + strings.Join(e.Keys, ", ")
}

// ParseDigest parses a digest file's exact decompressed bytes (FORMATS.md
// D.3); d.Raw = content. See ParseDigestInfo.
func ParseDigest(content []byte) (*store.Digest, error) {
	d, _, err := ParseDigestInfo(content)
	return d, err
}

// ParseDigestInfo parses a digest file's exact decompressed bytes and
// reports its keys. Values are kept as written (a 63-hex hash is not
// "fixed"); nil pointers mean JSON null or absent, which Info.Keys tells
// apart. Unknown keys are validated and ignored.
//
// Errors: malformed JSON (a *SyntaxError), a top-level value that is not
// an object, a key given twice in one object, a value of the wrong JSON
// type (naming the key), or trailing data give (nil, info, err). Absent
// RequiredDigestKeys give the parsed digest and a *MissingKeysError.
func ParseDigestInfo(content []byte) (*store.Digest, DigestInfo, error) {
	var info DigestInfo
	s := splitter{b: content}
	i := skipWS(content, skipBOM(content))
	if i >= len(content) || content[i] != '{' {
		_, err := expectAt(content, i, "'{' to start the digest object")
		return nil, info, fmt.Errorf("parse digest: %w", err)
	}
	d := &store.Digest{Raw: content}
	strs := map[string]*string{
		"awsAccountId":               &d.AWSAccountID,
		"digestStartTime":            &d.DigestStartTime,
		"digestEndTime":              &d.DigestEndTime,
		"digestS3Bucket":             &d.DigestS3Bucket,
		"digestS3Object":             &d.DigestS3Object,
		"digestPublicKeyFingerprint": &d.DigestPublicKeyFingerprint,
		"digestSignatureAlgorithm":   &d.DigestSignatureAlgorithm,
	}
	ptrs := map[string]**string{
		"newestEventTime":             &d.NewestEventTime,
		"oldestEventTime":             &d.OldestEventTime,
		"previousDigestS3Bucket":      &d.PreviousDigestS3Bucket,
		"previousDigestS3Object":      &d.PreviousDigestS3Object,
		"previousDigestHashValue":     &d.PreviousDigestHashValue,
		"previousDigestHashAlgorithm": &d.PreviousDigestHashAlgorithm,
		"previousDigestSignature":     &d.PreviousDigestSignature,
	}
	end, err := s.walkObject(i, func(key string, v int) (int, error) {
		if info.Has(key) {
			return v, fmt.Errorf("duplicate key %q at byte offset %d", key, v)
		}
		info.Keys = append(info.Keys, key)
		if bytes.HasPrefix(content[v:], []byte("null")) {
			info.Null = append(info.Null, key)
		}
		if !slices.Contains(digestKeys, key) {
			info.Unknown = append(info.Unknown, key)
		}
		switch {
		case strs[key] != nil:
			return s.stringValue(key, v, strs[key], nil)
		case ptrs[key] != nil:
			return s.stringValue(key, v, nil, ptrs[key])
		case key == "logFiles":
			return s.logFiles(v, d)
		default:
			return s.skip(v)
		}
	})
	if err == nil {
		err = s.trailing(end)
	}
	if err != nil {
		return nil, info, fmt.Errorf("parse digest: %w", err)
	}
	for _, k := range RequiredDigestKeys {
		if !info.Has(k) {
			info.Missing = append(info.Missing, k)
		}
	}
	if len(info.Missing) > 0 {
		return d, info, &MissingKeysError{Keys: info.Missing}
	}
	return d, info, nil
}

// stringValue decodes the string or null at v into dst (null leaves it
// empty) or into *ptr (null leaves it nil).
func (s *splitter) stringValue(key string, v int, dst *string, ptr **string) (int, error) {
	end, err := s.skip(v)
	if err != nil {
		return end, err
	}
	switch s.b[v] {
	case 'n':
		return end, nil
	case '"':
		var str string
		if err := json.Unmarshal(s.b[v:end], &str); err != nil {
			return v, fmt.Errorf("key %q: %w", key, err)
		}
		if ptr != nil {
			*ptr = &str
		} else {
			*dst = str
		}
		return end, nil
	default:
		return v, fmt.Errorf("key %q at byte offset %d: want a string or null, got %s", key, v, kindOf(s.b[v]))
	}
}

// logFiles decodes the logFiles array (or null) at v.
func (s *splitter) logFiles(v int, d *store.Digest) (int, error) {
	switch s.b[v] {
	case 'n':
		return s.skip(v)
	case '[':
	default:
		return v, fmt.Errorf("key \"logFiles\" at byte offset %d: want an array or null, got %s", v, kindOf(s.b[v]))
	}
	d.LogFiles = []store.DigestLog{}
	b := s.b
	j := skipWS(b, v+1)
	if j < len(b) && b[j] == ']' {
		return j + 1, nil
	}
	for n := 0; ; n++ {
		if j >= len(b) {
			return expectAt(b, j, "a logFiles entry")
		}
		if b[j] != '{' {
			return j, fmt.Errorf("logFiles[%d] at byte offset %d: want an object, got %s", n, j, kindOf(b[j]))
		}
		var l store.DigestLog
		strs := map[string]*string{
			"s3Bucket": &l.S3Bucket, "s3Object": &l.S3Object,
			"hashValue": &l.HashValue, "hashAlgorithm": &l.HashAlgorithm,
		}
		ptrs := map[string]**string{
			"newestEventTime": &l.NewestEventTime, "oldestEventTime": &l.OldestEventTime,
		}
		var seen []string
		end, err := s.walkObject(j, func(key string, v int) (int, error) {
			if slices.Contains(seen, key) {
				return v, fmt.Errorf("logFiles[%d]: duplicate key %q at byte offset %d", n, key, v)
			}
			seen = append(seen, key)
			switch {
			case strs[key] != nil:
				return s.stringValue("logFiles["+fmt.Sprint(n)+"]."+key, v, strs[key], nil)
			case ptrs[key] != nil:
				return s.stringValue("logFiles["+fmt.Sprint(n)+"]."+key, v, nil, ptrs[key])
			default:
				return s.skip(v)
			}
		})
		if err != nil {
			return end, err
		}
		d.LogFiles = append(d.LogFiles, l)
		j = skipWS(b, end)
		if j >= len(b) {
			return expectAt(b, j, "',' or ']' after a logFiles entry")
		}
		switch b[j] {
		case ',':
			j = skipWS(b, j+1)
		case ']':
			return j + 1, nil
		default:
			return expectAt(b, j, "',' or ']' after a logFiles entry")
		}
	}
}

// kindOf names the JSON kind of the value starting with c.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// LooksLikeDigest reports whether head (the first KiB or more of
// decompressed content) looks like a digest file: a JSON object naming
// "digestStartTime", "digestEndTime" or "digestS3Object", or one that
// names "awsAccountId" and "logFiles", and no "Records".
func LooksLikeDigest(head []byte) bool {
	i := skipWS(head, skipBOM(head))
	if i >= len(head) || head[i] != '{' {
		return false
	}
	h := head[i:]
	if hasKey(h, "Records") {
		return false
	}
	return hasKey(h, "digestStartTime") || hasKey(h, "digestEndTime") || hasKey(h, "digestS3Object") ||
		(hasKey(h, "awsAccountId") && hasKey(h, "logFiles"))
}

// hasKey reports whether "name" followed by optional whitespace and ':'
// occurs in b: a cheap test for an object key in a possibly truncated head.
func hasKey(b []byte, name string) bool {
	q := `"` + name + `"`
	for {
		k := bytes.Index(b, []byte(q))
		if k < 0 {
			return false
		}
		b = b[k+len(q):]
		j := skipWS(b, 0)
		if j < len(b) && b[j] == ':' {
			return true
		}
	}
}
