package verify

import (
	"strings"

	"github.com/forensic-dev/forensic/store"
)

// place is where an item sits, unambiguously: its scope — "" for files on
// disk, else the outermost archive and the chain of archives inside it
// that hold the item — and its name within that scope: the slash path of
// a file on disk, or the innermost member name cleaned and rooted at "/".
// A sidecar and the object it describes share a scope; items in two
// archives, or in two nested archives (even of one name), never do. A member literally named
// "inner.tar!/x" has the scope of its archive and the name
// "/inner.tar!/x"; member x of a nested inner.tar has a scope of its own.
type place struct{ scope, name string }

func (p place) key() string { return p.scope + "\x00" + p.name }

// placeAt is the place of the item at file p with member name chain names
// and positions index (both empty for a file on disk). The scope names
// each enclosing archive by name and position, so two nested archives of
// one name are two scopes; a row recorded before positions were kept
// (index nil) is scoped by names alone.
func placeAt(p string, names []string, index []int) place {
	if len(names) == 0 {
		return place{"", toSlash(p)}
	}
	clean := make([]string, len(names))
	for i, n := range names {
		clean[i] = store.CleanName(n)
	}
	scope := p + "\x00" + store.EncodeMemberPath(clean[:len(clean)-1])
	if len(index) == len(names) {
		scope += "\x00" + store.EncodeMemberIndex(index[:len(index)-1])
	}
	return place{scope, "/" + clean[len(clean)-1]}
}

func placeOf(e *store.Evidence) place { return placeAt(e.Path, e.Names(), e.MemberIndex) }

// sidecarSuffixes are the names of the metadata exports beside an object.
var sidecarSuffixes = []string{".metadata.json", ".attributes.json"}

// described is the place of the object a sidecar at sc describes (the
// sidecar's name without its suffix), and whether sc is a sidecar's name.
func described(sc place) (place, bool) {
	for _, suf := range sidecarSuffixes {
		if strings.HasSuffix(sc.name, suf) && len(sc.name) > len(suf) && !strings.HasSuffix(strings.TrimSuffix(sc.name, suf), "/") {
			return place{sc.scope, strings.TrimSuffix(sc.name, suf)}, true
		}
	}
	return place{}, false
}

// sidecarPlace is the place of the object the metadata row describes: for
// a sidecar in an archive, from the sidecar's own member names; for one on
// disk, from its object_path (the object's path on disk).
func sidecarPlace(path string, names []string, index []int, objectPath string) place {
	if len(names) == 0 {
		return place{"", toSlash(objectPath)}
	}
	if o, ok := described(placeAt(path, names, index)); ok {
		return o
	}
	// Not named like a sidecar (ingest recorded object_path from its
	// name, so this does not happen): fall back to object_path, in the
	// sidecar's scope.
	return place{placeAt(path, names, index).scope, cleanSlash("/" + objectPath)}
}
