package verify

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/ingest/cloudtrail"
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
// not a key file, or holding a key whose listed fingerprint disagrees with
// MD5 of its bytes.
type KeyFileError struct {
	Path string
	Err  error
}

func (e *KeyFileError) Error() string { return fmt.Sprintf("public keys %s: %v", e.Path, e.Err) }
func (e *KeyFileError) Unwrap() error { return e.Err }

// LoadTrustAnchors reads every path (a file, or a folder walked
// recursively in lexical order) as list-public-keys output (PublicKeyList
// or publicKeyList), PEM ("RSA PUBLIC KEY" = PKCS#1, "PUBLIC KEY" = SPKI)
// or DER, with cloudtrail.ParsePublicKeys: each key's fingerprint is the
// hex MD5 of its DER bytes and a listed Fingerprint that differs is an
// error. A file named explicitly must hold keys; a file inside a folder
// that does not look like keys is skipped (TrustAnchors.Skipped). Each
// file's SHA-256 is recorded.
func LoadTrustAnchors(paths []string) (*TrustAnchors, error) {
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
			if err := t.loadFile(abs, true); err != nil {
				return nil, err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(abs, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, q)
			}
			return nil
		})
		if err != nil {
			return nil, &KeyFileError{p, err}
		}
		sort.Strings(files)
		n := len(t.Keys)
		for _, f := range files {
			if err := t.loadFile(f, false); err != nil {
				return nil, err
			}
		}
		if len(t.Keys) == n {
			return nil, &KeyFileError{p, fmt.Errorf("folder holds no public key file")}
		}
	}
	return t, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func (t *TrustAnchors) loadFile(path string, named bool) error {
	f, err := os.Open(path)
	if err != nil {
		return &KeyFileError{path, unwrapPath(err)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	f.Close()
	if err != nil {
		return &KeyFileError{path, err}
	}
	if len(data) > maxKeyFile {
		return &KeyFileError{path, fmt.Errorf("larger than %d bytes: not a public key file", maxKeyFile)}
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
		a := &Anchor{PublicKey: k, Pub: pub, File: path}
		t.Keys = append(t.Keys, a)
		fp := strings.ToLower(k.Fingerprint)
		t.byFP[fp] = append(t.byFP[fp], a)
	}
	return nil
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

func (a *Anchor) window() map[string]any {
	w := map[string]any{"fingerprint": a.Fingerprint, "file": a.File, "region": a.Region}
	if a.ValidityStart != nil {
		w["validity_start"] = a.ValidityStart.UTC().Format(time.RFC3339)
	}
	if a.ValidityEnd != nil {
		w["validity_end"] = a.ValidityEnd.UTC().Format(time.RFC3339)
	}
	return w
}

// keyChoice is the outcome of looking a digest's key up.
type keyChoice struct {
	anchor  *Anchor
	status  string // "" when a key was found and is valid at the time
	reason  string
	regionM string // "same", "other", "unnamed"
	windows []map[string]any
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
	var kc keyChoice
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
