package cloudtrail

import (
	"bytes"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	gojson "github.com/goccy/go-json/v2"

	"github.com/forensic-dev/forensic/internal/awstime"
	"github.com/forensic-dev/forensic/store"
)

// Public-key encodings recorded in store.PublicKey.Encoding.
const (
	EncodingPKCS1 = "pkcs1" // RSAPublicKey (RFC 8017 A.1.1), what ListPublicKeys documents
	EncodingSPKI  = "spki"  // X.509 SubjectPublicKeyInfo holding an RSA key
)

// PEM block types ParsePublicKeys accepts.
const (
	pemPKCS1 = "RSA PUBLIC KEY"
	pemSPKI  = "PUBLIC KEY"
)

// keyEntry is one element of list-public-keys' PublicKeyList.
type keyEntry struct {
	Value             *string         `json:"Value"`
	ValidityStartTime json.RawMessage `json:"ValidityStartTime"`
	ValidityEndTime   json.RawMessage `json:"ValidityEndTime"`
	Fingerprint       *string         `json:"Fingerprint"`
}

// ParsePublicKeys reads CloudTrail digest-signing public keys (FORMATS.md
// D.5) from one file named name (used only to find a Region):
//
//   - `aws cloudtrail list-public-keys` JSON: an object with "PublicKeyList"
//     or "publicKeyList" (both is an error), each entry with Value (base64
//     DER), ValidityStartTime/ValidityEndTime (epoch number, epoch string or
//     a date accepted by awstime.Parse) and Fingerprint;
//   - PEM: one or more "RSA PUBLIC KEY" (PKCS#1) or "PUBLIC KEY" (SPKI)
//     blocks; text around the blocks is ignored, other block types are an
//     error;
//   - a raw DER key.
//
// For every key: DER exactly as supplied, Fingerprint = lower-case hex
// MD5(DER), Encoding from what parses (x509.ParsePKCS1PublicKey first, then
// x509.ParsePKIXPublicKey, RSA only), Bits = modulus length. A key that
// does not parse, has a bad Value or validity time, or whose listed
// Fingerprint disagrees with the computed one is still returned, with
// PublicKey.Error saying why; callers must not trust such a key. Region is
// the last component of name's path (extension removed) that looks like an
// AWS Region, e.g. keys/us-east-1/list-public-keys.json or us-east-1.pem.
//
// err is non-nil when the file as a whole cannot be read; keys parsed
// before the problem are returned with it.
func ParsePublicKeys(name string, data []byte) ([]store.PublicKey, error) {
	region := regionFromPath(name)
	keys, err := parsePublicKeys(data)
	for i := range keys {
		keys[i].Region = region
	}
	if err != nil {
		return keys, fmt.Errorf("parse public keys %s: %w", name, err)
	}
	return keys, nil
}

func parsePublicKeys(data []byte) ([]store.PublicKey, error) {
	i := skipWS(data, skipBOM(data))
	switch {
	case i < len(data) && data[i] == '{':
		return parseKeyList(data)
	case bytes.Contains(data, []byte("-----BEGIN ")):
		return parsePEMKeys(data)
	case len(data) > 0 && data[0] == 0x30:
		k := newKey(data, "")
		return []store.PublicKey{k}, nil
	default:
		return nil, fmt.Errorf("not list-public-keys JSON, PEM or a DER key")
	}
}

func parseKeyList(data []byte) ([]store.PublicKey, error) {
	s := splitter{b: data}
	i := skipWS(data, skipBOM(data))
	var list []byte
	listKey := ""
	end, err := s.walkObject(i, func(key string, v int) (int, error) {
		end, err := s.skip(v)
		if err != nil {
			return end, err
		}
		if key == "PublicKeyList" || key == "publicKeyList" {
			if listKey != "" {
				return v, fmt.Errorf("both %q and %q present", listKey, key)
			}
			listKey, list = key, data[v:end]
		}
		return end, nil
	})
	if err == nil {
		err = s.trailing(end)
	}
	if err != nil {
		return nil, err
	}
	if listKey == "" {
		return nil, fmt.Errorf("no PublicKeyList in JSON object")
	}
	// encoding/json/v2 semantics: names match exactly as the CLI prints
	// them, and an entry naming a field twice is an error.
	var entries []keyEntry
	if err := gojson.Unmarshal(list, &entries, recordOptions); err != nil {
		return nil, fmt.Errorf("%s: %w", listKey, err)
	}
	keys := make([]store.PublicKey, 0, len(entries))
	for n, e := range entries {
		var errs []string
		var k store.PublicKey
		listed := ""
		if e.Fingerprint != nil {
			listed = *e.Fingerprint
		}
		switch {
		case e.Value == nil:
			k = store.PublicKey{ListedFingerprint: listed}
			errs = append(errs, "no Value")
		default:
			der, err := base64.StdEncoding.Strict().DecodeString(*e.Value)
			if err != nil {
				k = store.PublicKey{ListedFingerprint: listed}
				errs = append(errs, fmt.Sprintf("Value is not base64: %v", err))
				break
			}
			k = newKey(der, listed)
			if k.Error != "" {
				errs = append(errs, k.Error)
			}
		}
		var err error
		if k.ValidityStart, err = validityTime(e.ValidityStartTime); err != nil {
			errs = append(errs, "ValidityStartTime: "+err.Error())
		}
		if k.ValidityEnd, err = validityTime(e.ValidityEndTime); err != nil {
			errs = append(errs, "ValidityEndTime: "+err.Error())
		}
		if len(errs) > 0 {
			k.Error = fmt.Sprintf("%s[%d]: %s", listKey, n, strings.Join(errs, "; "))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// validityTime reads a JSON number, string or null as a time.
func validityTime(raw json.RawMessage) (*time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, err
		}
	} else if raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' {
		return nil, fmt.Errorf("want a number or string, got %s", kindOf(raw[0]))
	}
	t, err := awstime.Parse(text)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func parsePEMKeys(data []byte) ([]store.PublicKey, error) {
	var keys []store.PublicKey
	rest := data
	for n := 0; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemPKCS1 && block.Type != pemSPKI {
			return keys, fmt.Errorf("PEM block %d: unsupported type %q", n, block.Type)
		}
		k := newKey(block.Bytes, "")
		want := EncodingPKCS1
		if block.Type == pemSPKI {
			want = EncodingSPKI
		}
		if k.Error == "" && k.Encoding != want {
			k.Error = fmt.Sprintf("PEM block %q holds a %s key", block.Type, k.Encoding)
		}
		keys = append(keys, k)
	}
	if bytes.Contains(rest, []byte("-----BEGIN ")) {
		return keys, fmt.Errorf("PEM block %d is malformed", len(keys))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no PEM block")
	}
	return keys, nil
}

// newKey describes DER as supplied. listed is the Fingerprint a listing
// gave ("" when none).
func newKey(der []byte, listed string) store.PublicKey {
	sum := md5.Sum(der)
	k := store.PublicKey{
		Fingerprint:       hex.EncodeToString(sum[:]),
		ListedFingerprint: listed,
		DER:               der,
	}
	var errs []string
	if pub, err := x509.ParsePKCS1PublicKey(der); err == nil {
		k.Encoding, k.Bits = EncodingPKCS1, pub.N.BitLen()
	} else if pub, err2 := x509.ParsePKIXPublicKey(der); err2 == nil {
		k.Encoding = EncodingSPKI
		if rsaPub, ok := pub.(*rsa.PublicKey); ok {
			k.Bits = rsaPub.N.BitLen()
		} else {
			errs = append(errs, fmt.Sprintf("SPKI key is %T, not RSA", pub))
		}
	} else {
		errs = append(errs, fmt.Sprintf("not a PKCS#1 or SPKI RSA public key: %v", err))
	}
	if listed != "" && !strings.EqualFold(listed, k.Fingerprint) {
		errs = append(errs, fmt.Sprintf("listed fingerprint %s differs from MD5 of the key %s", listed, k.Fingerprint))
	}
	k.Error = strings.Join(errs, "; ")
	return k
}

// regionRE matches AWS Region names: us-east-1, eu-central-2,
// us-gov-west-1, cn-northwest-1, us-isob-east-1, ap-southeast-5.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]{1,2}$`)

// IsRegion reports whether s looks like an AWS Region name.
func IsRegion(s string) bool { return regionRE.MatchString(s) }

func regionFromPath(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	parts := strings.Split(name, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if i == len(parts)-1 {
			for ext := path.Ext(p); ext != "" && ext != p; ext = path.Ext(p) {
				p = strings.TrimSuffix(p, ext)
			}
		}
		if IsRegion(p) {
			return p
		}
	}
	return ""
}

// LooksLikePublicKeys reports whether head looks like public keys: a JSON
// object naming "PublicKeyList" or "publicKeyList", a PEM "RSA PUBLIC KEY"
// or "PUBLIC KEY" block, or (when head holds the whole file) a DER RSA key.
func LooksLikePublicKeys(head []byte) bool {
	i := skipWS(head, skipBOM(head))
	if i < len(head) && head[i] == '{' {
		return hasKey(head, "PublicKeyList") || hasKey(head, "publicKeyList")
	}
	if bytes.Contains(head, []byte("-----BEGIN "+pemPKCS1+"-----")) ||
		bytes.Contains(head, []byte("-----BEGIN "+pemSPKI+"-----")) {
		return true
	}
	if len(head) > 0 && head[0] == 0x30 {
		k := newKey(head, "")
		return k.Error == ""
	}
	return false
}

// RSAPublicKey parses k.DER as k.Encoding says. It refuses a key whose
// Error is set, so a key with a disagreeing fingerprint cannot be used by
// mistake.
func RSAPublicKey(k store.PublicKey) (*rsa.PublicKey, error) {
	if k.Error != "" {
		return nil, fmt.Errorf("public key %s: %s", k.Fingerprint, k.Error)
	}
	switch k.Encoding {
	case EncodingPKCS1:
		return x509.ParsePKCS1PublicKey(k.DER)
	case EncodingSPKI:
		pub, err := x509.ParsePKIXPublicKey(k.DER)
		if err != nil {
			return nil, err
		}
		if r, ok := pub.(*rsa.PublicKey); ok {
			return r, nil
		}
		return nil, fmt.Errorf("public key %s is %T, not RSA", k.Fingerprint, pub)
	default:
		return nil, fmt.Errorf("public key %s: unknown encoding %q", k.Fingerprint, k.Encoding)
	}
}
