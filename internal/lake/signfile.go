package lake

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxSignFileSize bounds a sign file read into memory. A real one lists a
// few result files in about a kilobyte; the evidence is attacker-controlled,
// so anything larger than this is refused rather than parsed.
const MaxSignFileSize = 16 << 20

// The only algorithms a sign file may name (aws-cli v2 verifies with
// exactly these, whatever the file says).
const (
	HashAlgorithm      = "SHA-256"
	SignatureAlgorithm = "SHA256withRSA"
)

// FileEntry is one element of a sign file's files list.
type FileEntry struct {
	Name   string `json:"file_name"`   // fileName, a base name
	SHA256 string `json:"file_sha256"` // fileHashValue as written: the string to sign uses it verbatim
}

// SignFile is a parsed result_sign.json. When Problems is not empty the
// file is format_invalid and the fields hold what could be read: a member
// that is missing or ill-typed is zero, and Files holds only the entries
// that are well formed (the first of a duplicated fileName).
type SignFile struct {
	Version              string      `json:"version,omitempty"` // "" when absent
	Region               string      `json:"region"`
	Files                []FileEntry `json:"files"`
	HashAlgorithm        string      `json:"hash_algorithm"`
	SignatureAlgorithm   string      `json:"signature_algorithm"`
	QueryCompleteTime    time.Time   `json:"query_complete_time"`
	HashSignature        string      `json:"hash_signature"` // hex as written
	Signature            []byte      `json:"-"`              // HashSignature decoded
	PublicKeyFingerprint string      `json:"public_key_fingerprint"`
	// Problems says what is wrong with the file, one item per problem,
	// naming the member and what was found.
	Problems []string `json:"problems,omitempty"`
}

// FormatError is a sign file that is not a well-formed result_sign.json.
type FormatError struct {
	Problems []string
}

// Error lists the problems.
func (e *FormatError) Error() string {
	return "sign file format invalid: " + strings.Join(e.Problems, "; ")
}

// Err returns a *FormatError listing s.Problems, or nil when there are
// none.
func (s *SignFile) Err() error {
	if len(s.Problems) == 0 {
		return nil
	}
	return &FormatError{Problems: append([]string(nil), s.Problems...)}
}

// StringToSign returns what CloudTrail signs: the fileHashValues exactly
// as written, in files order, joined by single spaces (no trailing space).
// It is the only place this string is built.
func (s *SignFile) StringToSign() []byte {
	var b bytes.Buffer
	for i, f := range s.Files {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.SHA256)
	}
	return b.Bytes()
}

// ReadSignFile reads at most MaxSignFileSize bytes from r and parses them
// with ParseSignFile. A longer input is a *FormatError; a read failure is
// returned as is, with a nil SignFile.
func ReadSignFile(r io.Reader) (*SignFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSignFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read sign file: %w", err)
	}
	return ParseSignFile(data)
}

// ParseSignFile parses a result_sign.json (see the package doc for the
// rules). It always returns a SignFile; the error is s.Err(), a
// *FormatError, when anything is malformed.
func ParseSignFile(data []byte) (*SignFile, error) {
	s := &SignFile{}
	s.parse(data)
	return s, s.Err()
}

func (s *SignFile) problem(format string, args ...any) {
	s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
}

func (s *SignFile) parse(data []byte) {
	switch {
	case len(data) > MaxSignFileSize:
		s.problem("larger than %d bytes, the most a sign file may be", MaxSignFileSize)
		return
	case len(bytes.TrimSpace(data)) == 0:
		s.problem("empty")
		return
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		s.problem("starts with a UTF-8 byte-order mark")
		return
	case !utf8.Valid(data):
		s.problem("not valid UTF-8 (first bad byte at offset %d)", badUTF8(data))
		return
	}
	members, err := objectMembers(data, "")
	if err != nil {
		s.problem("%v", err)
		return
	}
	seen := map[string]json.RawMessage{}
	for _, m := range members {
		if _, dup := seen[m.name]; dup {
			s.problem("member %q appears more than once", m.name)
			continue
		}
		seen[m.name] = m.value
	}
	str := func(name string, required bool) (string, bool) {
		raw, ok := seen[name]
		if !ok {
			if required {
				s.problem("no %q", name)
			}
			return "", false
		}
		var v string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
			s.problem("%q is %s, not a string", name, kindOf(raw))
			return "", false
		}
		return v, true
	}

	s.Version, _ = str("version", false)
	if v, ok := str("region", true); ok {
		if v == "" {
			s.problem(`"region" is empty`)
		}
		s.Region = v
	}
	if v, ok := str("hashAlgorithm", true); ok {
		s.HashAlgorithm = v
		if v != HashAlgorithm {
			s.problem(`"hashAlgorithm" is %q, want %q`, v, HashAlgorithm)
		}
	}
	if v, ok := str("signatureAlgorithm", true); ok {
		s.SignatureAlgorithm = v
		if v != SignatureAlgorithm {
			s.problem(`"signatureAlgorithm" is %q, want %q`, v, SignatureAlgorithm)
		}
	}
	if v, ok := str("queryCompleteTime", true); ok {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.problem(`"queryCompleteTime" %q is not an RFC 3339 time`, v)
		} else {
			s.QueryCompleteTime = t.UTC()
		}
	}
	if v, ok := str("hashSignature", true); ok {
		s.HashSignature = v
		sig, err := hex.DecodeString(v)
		switch {
		case v == "":
			s.problem(`"hashSignature" is empty`)
		case err != nil:
			s.problem(`"hashSignature" is not hex: %v`, err)
		default:
			s.Signature = sig
		}
	}
	if v, ok := str("publicKeyFingerprint", true); ok {
		s.PublicKeyFingerprint = v
		if !isHex(v, 32) {
			s.problem(`"publicKeyFingerprint" %q is not 32 hex digits`, clip(v))
		}
	}
	s.parseFiles(seen)
}

func (s *SignFile) parseFiles(seen map[string]json.RawMessage) {
	raw, ok := seen["files"]
	if !ok {
		s.problem(`no "files"`)
		return
	}
	if len(raw) == 0 || raw[0] != '[' {
		s.problem(`"files" is %s, not an array`, kindOf(raw))
		return
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		s.problem(`"files": %v`, err)
		return
	}
	if len(elems) == 0 {
		s.problem(`"files" is empty: the sign file lists no result file`)
		return
	}
	names := make(map[string]int, len(elems))
	for i, e := range elems {
		where := fmt.Sprintf("files[%d]", i)
		members, err := objectMembers(e, where)
		if err != nil {
			s.problem("%v", err)
			continue
		}
		var name, sum *string
		bad := map[string]bool{}
		for _, m := range members {
			var dst **string
			switch m.name {
			case "fileName":
				dst = &name
			case "fileHashValue":
				dst = &sum
			default:
				continue
			}
			if *dst != nil || bad[m.name] {
				s.problem("%s: member %q appears more than once", where, m.name)
				bad[m.name] = true
				continue
			}
			var v string
			if len(m.value) == 0 || m.value[0] != '"' || json.Unmarshal(m.value, &v) != nil {
				s.problem("%s: %q is %s, not a string", where, m.name, kindOf(m.value))
				bad[m.name] = true
				continue
			}
			*dst = &v
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"fileName", name}, {"fileHashValue", sum}} {
			if f.v == nil && !bad[f.name] {
				s.problem("%s: no %q", where, f.name)
				bad[f.name] = true
			}
		}
		if len(bad) > 0 {
			continue
		}
		if why := badFileName(*name); why != "" {
			s.problem("%s: fileName %q %s", where, clip(*name), why)
			continue
		}
		if !isHex(*sum, 64) {
			s.problem("%s: fileHashValue %q of %q is not 64 hex digits (a SHA-256)", where, clip(*sum), *name)
			continue
		}
		if j, dup := names[*name]; dup {
			s.problem("%s: fileName %q is also files[%d]", where, *name, j)
			continue
		}
		names[*name] = i
		s.Files = append(s.Files, FileEntry{Name: *name, SHA256: *sum})
	}
}

// badFileName says why a fileName cannot name a file in the sign file's
// folder ("" when it can).
func badFileName(n string) string {
	switch {
	case n == "":
		return "is empty"
	case strings.ContainsAny(n, `/\`):
		return "contains a path separator"
	case strings.Contains(n, ".."):
		return `contains ".."`
	case n == ".":
		return "is not a file name"
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers splits data, which must be exactly one JSON object, into
// its members, keeping duplicates (encoding/json would silently keep the
// last one, and match names case-insensitively). where prefixes errors.
func objectMembers(data []byte, where string) ([]member, error) {
	prefix := ""
	if where != "" {
		prefix = where + ": "
	}
	// Unmarshal's syntax errors say what was expected and where.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%snot JSON at offset %d: %v", prefix, se.Offset, err)
		}
		return nil, fmt.Errorf("%snot JSON: %v", prefix, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%snot JSON: %v", prefix, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%sis %s, not a JSON object", prefix, kindOf(bytes.TrimSpace(data)))
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out, fmt.Errorf("%snot JSON: %v", prefix, err)
		}
		name, ok := tok.(string)
		if !ok {
			return out, fmt.Errorf("%snot JSON: object key is not a string", prefix)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out, fmt.Errorf("%snot JSON: member %q: %v", prefix, name, err)
		}
		out = append(out, member{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return out, fmt.Errorf("%snot JSON: %v", prefix, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return out, fmt.Errorf("%sdata after the JSON object at offset %d", prefix, dec.InputOffset())
	}
	return out, nil
}

// kindOf names the JSON type of raw for a message.
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// clip shortens an attacker-chosen value quoted in a message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func badUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}
