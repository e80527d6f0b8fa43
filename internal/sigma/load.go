package sigma

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/forensic-dev/forensic/internal/regfile"
)

// RuleFile is one rule file read: where it came from, its SHA-256 and
// how many rules it holds (the rules used are part of the method, and a
// custody entry names them).
type RuleFile struct {
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Rules  int    `json:"rules"`
}

// Set is the rules of a run and the files they came from, with the files
// that could not be read or parsed (each a *ParseError naming it).
type Set struct {
	Rules  []*Rule
	Files  []RuleFile
	Errors []error
}

//go:embed builtin/*.yml
var builtinFS embed.FS

// BuiltinName is what --rules names the built-in pack by.
const BuiltinName = "builtin"

// Builtin reads the built-in pack (rules written for forensic, shipped in
// the binary: "builtin:FILE" sources).
func Builtin() (*Set, error) {
	s := &Set{}
	names, err := fs.Glob(builtinFS, "builtin/*.yml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		if err := s.add("builtin:"+path.Base(n), data); err != nil {
			return nil, err // the pack is ours: any error is a bug, caught by its tests
		}
	}
	return s, nil
}

// Load reads rules from each path: "builtin" for the built-in pack, a
// rule file, or a folder walked recursively (its .yml and .yaml files,
// in lexical order). A file that cannot be read or parsed is listed in
// Errors and the others are read; a path that does not exist, or what is
// not a regular file or folder, is an error of its own.
func Load(paths []string) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		if p == BuiltinName {
			b, err := Builtin()
			if err != nil {
				return nil, err
			}
			s.Rules, s.Files = append(s.Rules, b.Rules...), append(s.Files, b.Files...)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules %s: %w", p, err)
		}
		if !fi.IsDir() {
			s.readFile(p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir():
				return nil
			case !d.Type().IsRegular():
				s.Errors = append(s.Errors, &ParseError{q, fmt.Errorf("a %s inside a rules folder, not a regular file: not read", regfile.TypeName(d.Type()))})
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(q)); ext == ".yml" || ext == ".yaml" {
				files = append(files, q)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rules %s: %w", p, err)
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("rules %s: the folder holds no .yml or .yaml file", p)
		}
		for _, f := range files {
			s.readFile(f)
		}
	}
	return s, nil
}

func (s *Set) readFile(p string) {
	data, err := regfile.ReadFile(p, MaxRuleFile)
	if err != nil {
		s.Errors = append(s.Errors, &ParseError{p, err})
		return
	}
	if err := s.add(p, data); err != nil {
		s.Errors = append(s.Errors, err)
	}
}

func (s *Set) add(source string, data []byte) error {
	rs, err := Parse(source, data)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	s.Files = append(s.Files, RuleFile{Source: source, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Rules: len(rs)})
	s.Rules = append(s.Rules, rs...)
	return nil
}
