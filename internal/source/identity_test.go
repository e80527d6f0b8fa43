package source

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemberIdentityIsUnambiguous: two members with one name get
// different positions, and a member literally named "inner.tar!/x" is
// told apart from member x of a nested inner.tar, though Member spells
// them alike.
func TestMemberIdentityIsUnambiguous(t *testing.T) {
	dir := t.TempDir()
	inner := tarBytes(t, member{name: "x", body: []byte("nested")})
	outer := tarBytes(t,
		member{name: "objects/K", body: []byte("tampered")},
		member{name: "objects/K", body: []byte("original")},
		member{name: "inner.tar!/x", body: []byte("literal")},
		member{name: "inner.tar", body: inner},
	)
	p := writeFile(t, filepath.Join(dir, "ev.tar"), outer)
	for _, format := range []string{"tar", "zip"} {
		t.Run(format, func(t *testing.T) {
			arg := p
			if format == "zip" {
				arg = writeFile(t, filepath.Join(dir, "ev.zip"), zipBytes(t,
					member{name: "objects/K", body: []byte("tampered")},
					member{name: "objects/K", body: []byte("original")},
					member{name: "inner.tar!/x", body: []byte("literal")},
					member{name: "inner.tar", body: inner}))
			}
			type id struct {
				member string
				path   []string
				index  []int
				body   string
			}
			var ids []id
			for _, g := range walkAll(t, arg, Options{}) {
				if g.Container && g.Member == "" {
					continue
				}
				ids = append(ids, id{g.Member, g.MemberPath, g.MemberIndex, string(g.Body)})
			}
			require.Len(t, ids, 5)
			ids[4].body = ""
			assert.Equal(t, []id{
				{"objects/K", []string{"objects/K"}, []int{0}, "tampered"},
				{"objects/K", []string{"objects/K"}, []int{1}, "original"},
				{"inner.tar!/x", []string{"inner.tar!/x"}, []int{2}, "literal"},
				{"inner.tar!/x", []string{"inner.tar", "x"}, []int{3, 0}, "nested"},
				{"inner.tar", []string{"inner.tar"}, []int{3}, ""}, // the nested archive's container entry
			}, ids)
		})
	}
}
