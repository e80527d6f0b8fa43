package lake

import (
	"crypto/rsa"
	"strings"
	"time"
)

// KeySearchWindow is how far after queryCompleteTime a signing key may
// become valid: aws-cli v2 asks ListPublicKeys for the keys of
// [queryCompleteTime, queryCompleteTime + 20 days]
// (awscli/customizations/cloudtrail/utils.py, get_public_key).
const KeySearchWindow = 20 * 24 * time.Hour

// Key is one public key the analyst supplied, as the lead's key store
// describes it (verify.TrustAnchors adapts to Keys).
type Key struct {
	// Fingerprint is the lower-case hex MD5 of the key's DER exactly as
	// list-public-keys delivered it (PKCS#1 RSAPublicKey or SPKI).
	Fingerprint string
	Region      string    // the Region the key was published for; "" when unknown
	ValidFrom   time.Time // ValidityStartTime; zero: no lower bound
	ValidTo     time.Time // ValidityEndTime; zero: no upper bound
	Public      *rsa.PublicKey
	Source      string // where the analyst's copy came from (a file path), for the report
}

// Overlaps reports whether k's validity overlaps [from, to], bounds
// inclusive, as ListPublicKeys(StartTime=from, EndTime=to) selects keys.
func (k Key) Overlaps(from, to time.Time) bool {
	if !k.ValidTo.IsZero() && k.ValidTo.Before(from) {
		return false
	}
	if !k.ValidFrom.IsZero() && k.ValidFrom.After(to) {
		return false
	}
	return true
}

// Keys finds supplied public keys by fingerprint.
type Keys interface {
	// ByFingerprint returns every supplied key whose Fingerprint is fp
	// (lower-case hex), whatever its validity, in a stable order; nil when
	// there is none. Keys that failed to load must not be returned.
	ByFingerprint(fp string) []Key
}

// KeySet is an in-memory Keys.
type KeySet struct {
	byFP map[string][]Key
}

// NewKeySet returns a KeySet holding keys, found by their Fingerprint
// (compared case-insensitively).
func NewKeySet(keys ...Key) *KeySet {
	s := &KeySet{byFP: make(map[string][]Key, len(keys))}
	for _, k := range keys {
		fp := strings.ToLower(k.Fingerprint)
		s.byFP[fp] = append(s.byFP[fp], k)
	}
	return s
}

// ByFingerprint implements Keys.
func (s *KeySet) ByFingerprint(fp string) []Key {
	if s == nil {
		return nil
	}
	return s.byFP[strings.ToLower(fp)]
}
