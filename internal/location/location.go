// Package location tells whether one path lies inside another on this
// machine, with symbolic links resolved: the one test behind "evidence is
// never written to" (a case, report or output inside a source is refused)
// and "a trust anchor taken from the evidence" (a key file inside a
// source is warned about).
package location

import (
	"path/filepath"
	"strings"
)

// Resolve makes p absolute with every symbolic link of its longest
// existing prefix resolved, so that a link cannot hide where a path lands,
// whether or not p itself exists yet.
func Resolve(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// Within reports whether p is dir or lies below it, both resolved.
func Within(p, dir string) bool {
	p, dir = Resolve(p), Resolve(dir)
	if p == dir {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}
