package lake

import (
	"cmp"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Statuses. The names are verify's (a public contract: add, never rename).
const (
	StatusValid = "valid" // sign file: signature verifies; result file: hash equals a validly signed entry

	// Sign files only.
	StatusSignatureInvalid  = "signature_invalid"     // the named key is supplied and valid in the window, the signature does not verify
	StatusKeyUnknown        = "key_unknown"           // no supplied key has publicKeyFingerprint
	StatusKeyNotValidAtTime = "key_not_valid_at_time" // keys with that fingerprint exist, none overlaps the key window
	StatusFormatInvalid     = "format_invalid"        // not a well-formed sign file (SignFile.Problems)

	// Result files only.
	StatusHashMismatch = "hash_mismatch" // SHA-256 differs from the entry it was judged against
	StatusMissing      = "missing"       // listed by a sign file, absent from the evidence
	StatusUnreferenced = "unreferenced"  // listed by no sign file, by name or by hash
	StatusUnverified   = "unverified"    // hash equals an entry, but no sign file listing it has a valid signature
)

// How a result file was matched to a sign-file entry.
const (
	MatchFolder = "folder" // it is in the sign file's folder under the listed fileName
	MatchHash   = "hash"   // elsewhere or renamed, its SHA-256 equals the listed fileHashValue
)

// SignInput is one sign file found in the evidence.
type SignInput struct {
	Path string // slash-separated evidence path, as stored
	Data []byte // the file's bytes, parsed with ParseSignFile when Sign is nil
	// Sign is the file already parsed with ParseSignFile (Problems
	// included), when the caller has it; Data is then not looked at.
	Sign *SignFile
}

// ResultInput is one result file found in the evidence.
type ResultInput struct {
	Path   string // slash-separated evidence path, as stored
	SHA256 string // hex SHA-256 of the stored (compressed) bytes
	Size   int64
}

// KeyCheck is what became of one supplied key whose fingerprint a sign
// file names.
type KeyCheck struct {
	Fingerprint string    `json:"fingerprint"`
	Region      string    `json:"region,omitempty"`
	Source      string    `json:"source,omitempty"`
	ValidFrom   time.Time `json:"valid_from,omitzero"`
	ValidTo     time.Time `json:"valid_to,omitzero"`
	InWindow    bool      `json:"in_window"` // its validity overlaps the key window
	Tried       bool      `json:"tried"`     // the signature was checked with it
	Verified    bool      `json:"verified"`
	Error       string    `json:"error,omitempty"` // why the signature did not verify with it
}

// SignVerdict is the outcome for one sign file.
type SignVerdict struct {
	Input   int    `json:"-"` // index into the signs given to Classify
	Path    string `json:"path"`
	QueryID string `json:"query_id,omitempty"` // the query-id folder, or the folder's name
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"` // why it is not valid, in words
	// Notes are remarks on a valid sign file (a key of another Region).
	Notes []string  `json:"notes,omitempty"`
	Sign  *SignFile `json:"sign,omitempty"` // what was parsed (partial when format_invalid)
	Files int       `json:"files"`          // well-formed entries in files
	// Fingerprint is the publicKeyFingerprint the file names (wanted);
	// KeyFingerprint is the supplied key that verified it (found), ""
	// when none did.
	Fingerprint    string `json:"fingerprint,omitempty"`
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	KeyRegion      string `json:"key_region,omitempty"`
	KeySource      string `json:"key_source,omitempty"`
	// StringToSignSHA256 is hex SHA-256 of SignFile.StringToSign, the
	// digest the signature covers.
	StringToSignSHA256 string `json:"string_to_sign_sha256,omitempty"`
	// The key window: [queryCompleteTime, queryCompleteTime + KeySearchWindow].
	WindowStart time.Time  `json:"window_start,omitzero"`
	WindowEnd   time.Time  `json:"window_end,omitzero"`
	Keys        []KeyCheck `json:"keys,omitempty"` // every supplied key with Fingerprint
}

// ResultVerdict is the outcome for one result file, or for one listed
// file that is absent (Status missing, Input -1).
type ResultVerdict struct {
	Input int `json:"-"` // index into the results given to Classify; -1 for a missing file
	// Path is the file's evidence path; for a missing file, the path
	// the sign file implies (its folder + fileName).
	Path   string `json:"path"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"` // why it is not valid, in words
	Note   string `json:"note,omitempty"`   // how a valid file was matched, when by hash
	Size   int64  `json:"size"`             // -1 for a missing file
	// The sign-file entry the file was judged against ("" and -1 when
	// unreferenced).
	SignPath   string `json:"sign_path,omitempty"`
	SignStatus string `json:"sign_status,omitempty"`
	Entry      int    `json:"entry"` // index into the sign file's files
	FileName   string `json:"file_name,omitempty"`
	MatchedBy  string `json:"matched_by,omitempty"` // MatchFolder, MatchHash; "" when unreferenced or missing
	// KeyFingerprint is the key the sign file names; it verified the
	// signature only when SignStatus is valid.
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	WantSHA256     string `json:"want_sha256,omitempty"` // the entry's fileHashValue (lower case)
	GotSHA256      string `json:"got_sha256,omitempty"`  // the file's; "" when missing
}

// signState is one sign file during Classify.
type signState struct {
	input     int
	path, dir string
	sf        *SignFile
	v         SignVerdict
}

func (s *signState) valid() bool { return s.v.Status == StatusValid }

// ref names one entry: states[s].sf.Files[e].
type ref struct{ s, e int }

type pathHash struct{ p, h string }

// Classify verifies the sign files and result files of a case and gives
// every input exactly one verdict, plus a missing verdict for every listed
// file that is absent. Output is sorted by path (then input order).
//
// A sign file is checked as the package doc says. A result file is judged
// against one entry of one sign file, chosen in this order:
//
//  1. an entry listing it by name in its own folder with an equal hash
//     (MatchFolder), unless only invalid sign files list it there and a
//     valid one lists its hash elsewhere (then that, MatchHash);
//  2. the only entry listing its name in its folder, with another hash
//     (hash_mismatch: the file at the expected place is not what was
//     signed, even if it equals some other entry);
//  3. an entry anywhere whose hash equals its SHA-256 (MatchHash),
//     preferring validly signed sign files, then its own folder;
//  4. with several sign files in its folder listing its name, none with
//     its hash: the first of them (hash_mismatch).
//
// Otherwise it is unreferenced. An equal hash is valid when the sign file
// is valid, else unverified. Ties go to the validly signed sign file, then
// to the smaller sign path and entry index. An entry is missing when no
// result file was judged against it and no valid or unverified result
// file has its hash (a byte-identical copy elsewhere counts as present).
//
// The error reports unusable input (an empty path, a SHA-256 that is not
// 64 hex digits), not evidence problems. keys may be nil (no key
// supplied). Time and memory are linear in the entries and files.
func Classify(signs []SignInput, results []ResultInput, keys Keys) ([]SignVerdict, []ResultVerdict, error) {
	for i, s := range signs {
		if s.Path == "" {
			return nil, nil, fmt.Errorf("classify lake: sign input %d has no path", i)
		}
	}
	for i, r := range results {
		if r.Path == "" {
			return nil, nil, fmt.Errorf("classify lake: result input %d has no path", i)
		}
		if !isHex(r.SHA256, 64) {
			return nil, nil, fmt.Errorf("classify lake: result %s: SHA-256 %q is not 64 hex digits", r.Path, clip(r.SHA256))
		}
	}

	states := make([]*signState, len(signs))
	signDirs := map[string]bool{}
	for i, in := range signs {
		sf := in.Sign
		if sf == nil {
			sf, _ = ParseSignFile(in.Data)
		}
		p := path.Clean(in.Path)
		st := &signState{input: i, path: in.Path, dir: path.Dir(p), sf: sf}
		st.v = checkSign(st, keys)
		states[i] = st
		signDirs[st.dir] = true
	}

	less := func(a, b ref) bool {
		sa, sb := states[a.s], states[b.s]
		if sa.valid() != sb.valid() {
			return sa.valid()
		}
		if c := cmp.Or(strings.Compare(sa.path, sb.path), cmp.Compare(sa.input, sb.input), cmp.Compare(a.e, b.e)); c != 0 {
			return c < 0
		}
		return false
	}
	better := func(m map[pathHash]ref, k pathHash, r ref) {
		if old, ok := m[k]; !ok || less(r, old) {
			m[k] = r
		}
	}
	var (
		atPathHash = map[pathHash]ref{} // (expected path, hash) -> best entry
		atPath     = map[pathHash]ref{} // (expected path, "") -> best entry
		pathCount  = map[string]int{}   // expected path -> entries naming it
		withHash   = map[pathHash]ref{} // ("", hash) -> best entry anywhere
		dirHash    = map[pathHash]ref{} // (dir, hash) -> best entry of a sign file in dir
	)
	for si, st := range states {
		for ei, f := range st.sf.Files {
			r := ref{si, ei}
			p, h := joinDir(st.dir, f.Name), strings.ToLower(f.SHA256)
			better(atPathHash, pathHash{p, h}, r)
			better(atPath, pathHash{p, ""}, r)
			pathCount[p]++
			better(withHash, pathHash{"", h}, r)
			better(dirHash, pathHash{st.dir, h}, r)
		}
	}
	byHash := func(dir, h string) (ref, bool) {
		global, ok := withHash[pathHash{"", h}]
		if !ok {
			return ref{}, false
		}
		if local, ok := dirHash[pathHash{dir, h}]; ok && (states[local.s].valid() || !states[global.s].valid()) {
			return local, true
		}
		return global, true
	}

	rvs := make([]ResultVerdict, 0, len(results))
	assigned := map[ref]bool{}
	accepted := map[string]bool{} // hashes of valid or unverified result files
	misplaced := map[string]int{} // hash -> a hash_mismatch verdict holding that content
	atInput := map[string]int{}   // clean path -> a verdict of a result file there
	for i, in := range results {
		p, h := path.Clean(in.Path), strings.ToLower(in.SHA256)
		dir := path.Dir(p)
		rv := ResultVerdict{Input: i, Path: in.Path, Size: in.Size, GotSHA256: h, Entry: -1}
		var e ref
		found := true
		if c, ok := atPathHash[pathHash{p, h}]; ok {
			e, rv.MatchedBy = c, MatchFolder
			if g, ok := withHash[pathHash{"", h}]; ok && !states[c.s].valid() && states[g.s].valid() {
				e, rv.MatchedBy = g, MatchHash
			}
		} else if pathCount[p] == 1 {
			e, rv.MatchedBy = atPath[pathHash{p, ""}], MatchFolder
		} else if c, ok := byHash(dir, h); ok {
			e, rv.MatchedBy = c, MatchHash
		} else if pathCount[p] > 1 {
			e, rv.MatchedBy = atPath[pathHash{p, ""}], MatchFolder
		} else {
			found = false
		}
		if !found {
			rv.Status = StatusUnreferenced
			if signDirs[dir] {
				rv.Reason = fmt.Sprintf("no sign file in its folder lists %s, and no sign file lists its SHA-256 %s", path.Base(p), h)
			} else {
				rv.Reason = fmt.Sprintf("its folder holds no sign file, and no sign file lists its SHA-256 %s", h)
			}
		} else {
			st := states[e.s]
			f := st.sf.Files[e.e]
			rv.SignPath, rv.SignStatus, rv.Entry, rv.FileName = st.path, st.v.Status, e.e, f.Name
			rv.KeyFingerprint, rv.WantSHA256 = st.sf.PublicKeyFingerprint, strings.ToLower(f.SHA256)
			assigned[e] = true
			switch {
			case rv.WantSHA256 != h:
				rv.Status = StatusHashMismatch
				rv.Reason = fmt.Sprintf("SHA-256 is %s, but sign file %s lists %s for files[%d] %s", h, st.path, rv.WantSHA256, e.e, f.Name)
				if n := pathCount[p]; n > 1 {
					rv.Reason += fmt.Sprintf(" (%d sign files in this folder list %s, none with this SHA-256)", n, f.Name)
				}
				if o, ok := withHash[pathHash{"", h}]; ok {
					other := states[o.s]
					rv.Reason += fmt.Sprintf("; its content is files[%d] %s of sign file %s", o.e, other.sf.Files[o.e].Name, other.path)
				}
				if _, ok := misplaced[h]; !ok {
					misplaced[h] = len(rvs)
				}
			case st.valid():
				rv.Status = StatusValid
				accepted[h] = true
				if rv.MatchedBy == MatchHash {
					rv.Note = fmt.Sprintf("matched by hash: its SHA-256 is files[%d] %s of sign file %s, which is not at this path", e.e, f.Name, st.path)
				}
			default:
				rv.Status = StatusUnverified
				accepted[h] = true
				rv.Reason = fmt.Sprintf("its SHA-256 is files[%d] %s of sign file %s (matched by %s), but that sign file is %s, so the hash is not trusted: %s",
					e.e, f.Name, st.path, rv.MatchedBy, st.v.Status, st.v.Reason)
			}
		}
		if _, ok := atInput[p]; !ok {
			atInput[p] = len(rvs)
		}
		rvs = append(rvs, rv)
	}

	for si, st := range states {
		for ei, f := range st.sf.Files {
			h := strings.ToLower(f.SHA256)
			if assigned[ref{si, ei}] || accepted[h] {
				continue
			}
			p := joinDir(st.dir, f.Name)
			rv := ResultVerdict{Input: -1, Path: p, Status: StatusMissing, Size: -1,
				SignPath: st.path, SignStatus: st.v.Status, Entry: ei, FileName: f.Name,
				KeyFingerprint: st.sf.PublicKeyFingerprint, WantSHA256: h}
			rv.Reason = fmt.Sprintf("listed by sign file %s as files[%d] with SHA-256 %s, but no result file is at %s and none has that SHA-256", st.path, ei, h, p)
			if j, ok := atInput[path.Clean(p)]; ok {
				o := rvs[j]
				rv.Reason += fmt.Sprintf("; the file at that path (SHA-256 %s) is %s", o.GotSHA256, o.Status)
				if o.SignPath != "" {
					rv.Reason += fmt.Sprintf(", judged against files[%d] of %s", o.Entry, o.SignPath)
				}
			}
			if j, ok := misplaced[h]; ok {
				rv.Reason += fmt.Sprintf("; its content is in %s, which is judged against another entry", rvs[j].Path)
			}
			rvs = append(rvs, rv)
		}
	}

	svs := make([]SignVerdict, len(states))
	for i, st := range states {
		svs[i] = st.v
	}
	slices.SortStableFunc(svs, func(a, b SignVerdict) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Input, b.Input))
	})
	slices.SortStableFunc(rvs, func(a, b ResultVerdict) int {
		am, bm := a.Input < 0, b.Input < 0
		c := strings.Compare(a.Path, b.Path)
		if c == 0 && am != bm {
			if am {
				return 1
			}
			return -1
		}
		return cmp.Or(c, cmp.Compare(a.Input, b.Input), strings.Compare(a.SignPath, b.SignPath), cmp.Compare(a.Entry, b.Entry))
	})
	return svs, rvs, nil
}

// joinDir is the evidence path of name in dir ("." is the top).
func joinDir(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// checkSign decides a sign file's status.
func checkSign(st *signState, keys Keys) SignVerdict {
	sf := st.sf
	v := SignVerdict{Input: st.input, Path: st.path, Sign: sf, Files: len(sf.Files), Fingerprint: sf.PublicKeyFingerprint}
	if id, ok := QueryFolder(st.path); ok {
		v.QueryID = id
	} else if st.dir != "." && st.dir != "/" {
		v.QueryID = path.Base(st.dir)
	}
	if len(sf.Problems) > 0 {
		v.Status, v.Reason = StatusFormatInvalid, strings.Join(sf.Problems, "; ")
		return v
	}
	sum := sha256.Sum256(sf.StringToSign())
	v.StringToSignSHA256 = hex.EncodeToString(sum[:])
	v.WindowStart = sf.QueryCompleteTime
	v.WindowEnd = sf.QueryCompleteTime.Add(KeySearchWindow)
	fp := strings.ToLower(sf.PublicKeyFingerprint)

	var cands []Key
	if keys != nil {
		for _, k := range keys.ByFingerprint(fp) {
			if k.Public != nil && strings.EqualFold(k.Fingerprint, fp) {
				cands = append(cands, k)
			}
		}
	}
	if len(cands) == 0 {
		v.Status = StatusKeyUnknown
		v.Reason = fmt.Sprintf("no supplied public key has fingerprint %s (hex MD5 of the key's DER as list-public-keys delivers it)", fp)
		return v
	}
	rank := func(k Key) int {
		switch k.Region {
		case sf.Region:
			return 0
		case "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(cands, func(a, b Key) int { return cmp.Compare(rank(a), rank(b)) })

	inWindow := 0
	var verified *Key
	for i, k := range cands {
		kc := KeyCheck{Fingerprint: k.Fingerprint, Region: k.Region, Source: k.Source, ValidFrom: k.ValidFrom, ValidTo: k.ValidTo,
			InWindow: k.Overlaps(v.WindowStart, v.WindowEnd)}
		if kc.InWindow {
			inWindow++
			if verified == nil {
				kc.Tried = true
				if err := verifySignature(k.Public, sum[:], sf.Signature); err != nil {
					kc.Error = err.Error()
				} else {
					kc.Verified = true
					verified = &cands[i]
				}
			}
		}
		v.Keys = append(v.Keys, kc)
	}
	window := fmt.Sprintf("[%s, %s]", v.WindowStart.Format(time.RFC3339), v.WindowEnd.Format(time.RFC3339))
	switch {
	case inWindow == 0:
		v.Status = StatusKeyNotValidAtTime
		var ws []string
		for _, kc := range v.Keys {
			ws = append(ws, validity(kc))
		}
		v.Reason = fmt.Sprintf("key %s is supplied but valid only %s, which does not overlap the key window %s (queryCompleteTime + %d days)",
			fp, strings.Join(ws, " and "), window, int(KeySearchWindow/(24*time.Hour)))
	case verified == nil:
		v.Status = StatusSignatureInvalid
		var errs []string
		for _, kc := range v.Keys {
			if kc.Tried {
				errs = append(errs, kc.Error)
			}
		}
		v.Reason = fmt.Sprintf("hashSignature does not verify with key %s (RSA PKCS#1 v1.5 over SHA-256 %s of the %d fileHashValues joined by spaces): %s",
			fp, v.StringToSignSHA256, len(sf.Files), strings.Join(errs, "; "))
	default:
		v.Status = StatusValid
		v.KeyFingerprint, v.KeyRegion, v.KeySource = verified.Fingerprint, verified.Region, verified.Source
		if verified.Region != "" && verified.Region != sf.Region {
			v.Notes = append(v.Notes, fmt.Sprintf("verified with a key published for %s, not the sign file's region %s (CloudTrail keys are per Region)",
				verified.Region, sf.Region))
		}
	}
	return v
}

// verifySignature checks an RSA PKCS#1 v1.5 SHA-256 signature over digest.
func verifySignature(pub *rsa.PublicKey, digest, sig []byte) error {
	if len(sig) != pub.Size() {
		return fmt.Errorf("the signature is %d bytes, a %d-bit key's are %d", len(sig), pub.N.BitLen(), pub.Size())
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
		if errors.Is(err, rsa.ErrVerification) {
			return errors.New("the signature does not match")
		}
		return err
	}
	return nil
}

func validity(kc KeyCheck) string {
	from, to := "any time", "no end"
	if !kc.ValidFrom.IsZero() {
		from = kc.ValidFrom.UTC().Format(time.RFC3339)
	}
	if !kc.ValidTo.IsZero() {
		to = kc.ValidTo.UTC().Format(time.RFC3339)
	}
	s := fmt.Sprintf("from %s to %s", from, to)
	if kc.Source != "" {
		s += " (" + kc.Source + ")"
	}
	return s
}
