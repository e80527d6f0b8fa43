package verify

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/regfile"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// maxKeyFile bounds a trust-anchor file read into memory: list-public-keys
// output for years of rotations is a few tens of KiB.
const maxKeyFile = 4 << 20

// Anchor is one public key the analyst supplied.
type Anchor struct {
	store.PublicKey
	Pub  *rsa.PublicKey
	File string // the file it came from
}

// TrustAnchors are the supplied keys and the files they came from.
type TrustAnchors struct {
	Files []store.AnchorFile
	Keys  []*Anchor
	// Skipped lists files inside a named folder that hold no public key
	// (a README, say); they are not trust anchors.
	Skipped []string
	byFP    map[string][]*Anchor
}

// KeyFileError is a --public-keys input that cannot be used: unreadable,
// not a regular file, not a key file, holding a key whose listed
// fingerprint disagrees with MD5 of its bytes, or holding a key too weak
// to trust (*WeakKeyError).
type KeyFileError struct {
	Path string
	Err  error
}

func (e *KeyFileError) Error() string { return fmt.Sprintf("public keys %s: %v", e.Path, e.Err) }
func (e *KeyFileError) Unwrap() error { return e.Err }

// Key sizes. CloudTrail signs digests with 2048-bit RSA keys; a smaller
// trust anchor is refused unless AnchorOptions.AllowWeakKeys, and one
// under MinWeakKeyBits always (no PKCS#1 v1.5 SHA-256 signature fits in
// fewer than 496 bits, and 512 is the smallest size anyone issued).
const (
	MinKeyBits     = 2048
	MinWeakKeyBits = 512
)

// WeakKeyError is an RSA trust anchor smaller than the size it needs.
type WeakKeyError struct {
	Fingerprint string
	Bits        int
	Min         int    // the size it would need
	Reason      string // why it cannot be used at all, when AllowWeakKeys did not help
}

func (e *WeakKeyError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("key %s is a %d-bit RSA key: %s", e.Fingerprint, e.Bits, e.Reason)
	}
	return fmt.Sprintf("key %s is a %d-bit RSA key, under the %d bits a trust anchor needs", e.Fingerprint, e.Bits, e.Min)
}

// AnchorOptions tune LoadTrustAnchorsWith.
type AnchorOptions struct {
	// AllowWeakKeys trusts RSA keys of MinWeakKeyBits to MinKeyBits-1
	// bits; the report of every run that used one says so
	// (Summary.Notes, and trust_anchors.bits in the case).
	AllowWeakKeys bool
}

// LoadTrustAnchors is LoadTrustAnchorsWith with the default options:
// keys under MinKeyBits are refused.
func LoadTrustAnchors(paths []string) (*TrustAnchors, error) {
	return LoadTrustAnchorsWith(paths, AnchorOptions{})
}

// LoadTrustAnchorsWith reads every path (a file, or a folder walked
// recursively in lexical order) as list-public-keys output (PublicKeyList
// or publicKeyList), PEM ("RSA PUBLIC KEY" = PKCS#1, "PUBLIC KEY" = SPKI)
// or DER, with cloudtrail.ParsePublicKeys: each key's fingerprint is the
// hex MD5 of its DER bytes and a listed Fingerprint that differs is an
// error. A file named explicitly must hold keys (a symbolic link to one is
// followed); a file inside a folder that does not look like keys is
// skipped (TrustAnchors.Skipped); anything inside a folder that is not a
// regular file or folder (a symbolic link, named pipe, device) is an
// error, as is a named path that is not a regular file or folder. An RSA
// key under MinKeyBits is a *WeakKeyError unless opt.AllowWeakKeys, and
// under MinWeakKeyBits, or one this build's crypto/rsa refuses to verify
// with (GODEBUG rsa1024min, fips140), always. Each file's SHA-256 is
// recorded.
func LoadTrustAnchorsWith(paths []string, opt AnchorOptions) (*TrustAnchors, error) {
	t := &TrustAnchors{byFP: map[string][]*Anchor{}}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, &KeyFileError{p, err}
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, &KeyFileError{p, unwrapPath(err)}
		}
		if !fi.IsDir() {
			if err := t.loadFile(abs, true, opt); err != nil {
				return nil, err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(abs, func(q string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.Type().IsRegular():
				files = append(files, q)
			case !d.IsDir():
				// Never opened or followed: a named pipe blocks, a
				// device never ends, a link may point anywhere.
				info, err := d.Info()
				if err != nil {
					return err
				}
				return &KeyFileError{q, fmt.Errorf("a %s inside a --public-keys folder, not a regular file; name the key file itself", describe(q, info.Mode()))}
			}
			return nil
		})
		if err != nil {
			var ke *KeyFileError
			if errors.As(err, &ke) {
				return nil, ke
			}
			return nil, &KeyFileError{p, err}
		}
		sort.Strings(files)
		n := len(t.Keys)
		for _, f := range files {
			if err := t.loadFile(f, false, opt); err != nil {
				return nil, err
			}
		}
		if len(t.Keys) == n {
			return nil, &KeyFileError{p, fmt.Errorf("folder holds no public key file")}
		}
	}
	return t, nil
}

// describe names a file type for a message, with a link's target.
func describe(path string, m fs.FileMode) string {
	t := regfile.TypeName(m)
	if m&fs.ModeSymlink != 0 {
		if target, err := os.Readlink(path); err == nil {
			t += " to " + target
		}
	}
	return t
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// checkKeySize applies the key-size policy to one parsed key.
func checkKeySize(k store.PublicKey, pub *rsa.PublicKey, opt AnchorOptions) error {
	bits := pub.N.BitLen()
	switch {
	case bits < MinWeakKeyBits:
		return &WeakKeyError{Fingerprint: k.Fingerprint, Bits: bits, Min: MinKeyBits,
			Reason: fmt.Sprintf("under %d bits no RSA key is trusted, even with weak keys allowed", MinWeakKeyBits)}
	case bits < MinKeyBits && !opt.AllowWeakKeys:
		return &WeakKeyError{Fingerprint: k.Fingerprint, Bits: bits, Min: MinKeyBits}
	}
	// Go's crypto/rsa refuses keys under 1024 bits unless GODEBUG
	// rsa1024min=0 (set in go.mod), and under 2048 in FIPS 140-only mode.
	// A key it refuses would make every digest it signed look forged:
	// find out now, with a signature that cannot verify, whether it
	// refuses the key or only the signature.
	zero := make([]byte, sha256.Size)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, zero, make([]byte, pub.Size())); !errors.Is(err, rsa.ErrVerification) {
		return &WeakKeyError{Fingerprint: k.Fingerprint, Bits: bits, Min: MinKeyBits,
			Reason: fmt.Sprintf("this build's crypto/rsa cannot verify with it (%v)", err)}
	}
	return nil
}

func (t *TrustAnchors) loadFile(path string, named bool, opt AnchorOptions) error {
	data, err := regfile.ReadFile(path, maxKeyFile)
	var nr *regfile.NotRegularError
	var tl *regfile.TooLargeError
	switch {
	case errors.As(err, &nr):
		return &KeyFileError{path, fmt.Errorf("a %s, not a regular file", nr.Type)}
	case errors.As(err, &tl):
		return &KeyFileError{path, fmt.Errorf("larger than %d bytes: not a public key file", maxKeyFile)}
	case err != nil:
		return &KeyFileError{path, unwrapPath(err)}
	}
	if !named && !cloudtrail.LooksLikePublicKeys(data) {
		t.Skipped = append(t.Skipped, path)
		return nil
	}
	keys, err := cloudtrail.ParsePublicKeys(filepath.ToSlash(path), data)
	if err != nil {
		return &KeyFileError{path, err}
	}
	if len(keys) == 0 {
		return &KeyFileError{path, fmt.Errorf("no public key in the file")}
	}
	for _, k := range keys {
		if k.Error != "" {
			return &KeyFileError{path, fmt.Errorf("key %s: %s", k.Fingerprint, k.Error)}
		}
	}
	sum := sha256.Sum256(data)
	af := store.AnchorFile{Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Keys: keys}
	t.Files = append(t.Files, af)
	for _, k := range keys {
		pub, err := cloudtrail.RSAPublicKey(k)
		if err != nil {
			return &KeyFileError{path, err}
		}
		if err := checkKeySize(k, pub, opt); err != nil {
			return &KeyFileError{path, err}
		}
		t.add(&Anchor{PublicKey: k, Pub: pub, File: path})
	}
	return nil
}

// add trusts a, found by its fingerprint.
func (t *TrustAnchors) add(a *Anchor) {
	t.Keys = append(t.Keys, a)
	fp := strings.ToLower(a.Fingerprint)
	t.byFP[fp] = append(t.byFP[fp], a)
}

// weakNotes says, for every trust anchor under MinKeyBits (loaded with
// AllowWeakKeys), that it was trusted anyway.
func (t *TrustAnchors) weakNotes() []string {
	var out []string
	for _, a := range t.Keys {
		if a.Bits < MinKeyBits {
			out = append(out, fmt.Sprintf("weak trust anchor: key %s in %s is a %d-bit RSA key, under the %d bits CloudTrail uses; "+
				"it was trusted only because --allow-weak-keys was given, and a signature it verifies is weaker proof "+
				"(RSA keys of 512 and 768 bits have been factored publicly, 1024 bits is within reach of a well-funded attacker)",
				a.Fingerprint, a.File, a.Bits, MinKeyBits))
		}
	}
	return out
}

// covers reports whether the key's validity window includes at (bounds
// inclusive; a missing bound is open, as for PEM and DER keys).
func (a *Anchor) covers(at time.Time) bool {
	if a.ValidityStart != nil && at.Before(*a.ValidityStart) {
		return false
	}
	if a.ValidityEnd != nil && at.After(*a.ValidityEnd) {
		return false
	}
	return true
}

func (a *Anchor) window() verdict.KeyWindow {
	w := verdict.KeyWindow{Fingerprint: a.Fingerprint, File: a.File, Region: a.Region}
	if a.ValidityStart != nil {
		w.ValidityStart = a.ValidityStart.UTC().Format(time.RFC3339)
	}
	if a.ValidityEnd != nil {
		w.ValidityEnd = a.ValidityEnd.UTC().Format(time.RFC3339)
	}
	return w
}

// validity says in words when a's key is valid, and where it came from.
func (a *Anchor) validity() string {
	from, to := "any time", "no end"
	if a.ValidityStart != nil {
		from = a.ValidityStart.UTC().Format(time.RFC3339)
	}
	if a.ValidityEnd != nil {
		to = a.ValidityEnd.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("valid from %s to %s (%s)", from, to, a.File)
}

// keyChoice is the outcome of looking a digest's key up.
type keyChoice struct {
	cands   []*Anchor // the supplied keys with the fingerprint, best first
	anchor  *Anchor
	status  string // "" when a key was found and is valid at the time
	reason  string
	regionM string // "same", "other", "unnamed"
	windows []verdict.KeyWindow
}

// pick finds the key with fingerprint fp for a digest delivered in region
// and signed at at. Keys from a file naming the region are preferred, then
// keys from files naming no region, then keys of other regions (accepted
// with a note: CloudTrail keys are per region).
func (t *TrustAnchors) pick(fp, region string, at time.Time) keyChoice {
	var cands []*Anchor
	if t != nil {
		cands = t.byFP[strings.ToLower(fp)]
	}
	if len(cands) == 0 {
		return keyChoice{status: StatusKeyUnknown,
			reason: fmt.Sprintf("no supplied public key has fingerprint %s", fp)}
	}
	rank := func(a *Anchor) int {
		switch {
		case a.Region == region:
			return 0
		case a.Region == "":
			return 1
		}
		return 2
	}
	sorted := append([]*Anchor(nil), cands...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i]) < rank(sorted[j]) })
	kc := keyChoice{cands: sorted}
	for _, a := range sorted {
		kc.windows = append(kc.windows, a.window())
		if kc.anchor == nil && a.covers(at) {
			kc.anchor = a
		}
	}
	if kc.anchor == nil {
		kc.status = StatusKeyNotValidAtTime
		kc.reason = fmt.Sprintf("key %s is not valid at %s", fp, at.UTC().Format(time.RFC3339))
		return kc
	}
	kc.regionM = [...]string{"same", "unnamed", "other"}[rank(kc.anchor)]
	return kc
}
