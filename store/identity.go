package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The identity columns of evidence (migration 004): member_path,
// member_index and name_key. They are written by the writer and read by
// verify (to re-read, pair and compare items exactly) and report.

// EncodeMemberPath is the member_path column: a JSON array of the names,
// each a JSON string, or {"hex": "..."} when the name is not valid UTF-8
// (JSON strings cannot hold those bytes, and replacing them would make
// two names one).
func EncodeMemberPath(names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		if utf8.ValidString(n) {
			q, _ := json.Marshal(n)
			b.Write(q)
		} else {
			b.WriteString(`{"hex":"` + hex.EncodeToString([]byte(n)) + `"}`)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// DecodeMemberPath reads a member_path value back; "" (a row recorded
// before the column existed) gives nil.
func DecodeMemberPath(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("member_path %q: %w", s, err)
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		if len(r) > 0 && r[0] == '{' {
			var h struct {
				Hex string `json:"hex"`
			}
			if err := json.Unmarshal(r, &h); err != nil {
				return nil, fmt.Errorf("member_path %q: %w", s, err)
			}
			b, err := hex.DecodeString(h.Hex)
			if err != nil {
				return nil, fmt.Errorf("member_path %q: %w", s, err)
			}
			out[i] = string(b)
			continue
		}
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("member_path %q: %w", s, err)
		}
	}
	return out, nil
}

// EncodeMemberIndex is the member_index column: a JSON array of integers.
func EncodeMemberIndex(idx []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range idx {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(n))
	}
	b.WriteByte(']')
	return b.String()
}

// DecodeMemberIndex reads a member_index value back; "" gives nil.
func DecodeMemberIndex(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("member_index %q: %w", s, err)
	}
	return out, nil
}

// CleanName is one member name as classification and pairing see it: a
// slash path with "." and ".." resolved and no leading "/", so that
// "./objects/K", "/objects/K" and "objects/K" are one name.
func CleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// NameKey is the name_key column: a JSON array of each level's
// CleanName for an archive member, or [the slash form of p] for a file
// on disk. Items of one source with equal name keys are one name seen
// twice.
func NameKey(p string, memberPath []string) string {
	if len(memberPath) == 0 {
		q, _ := json.Marshal(filepath.ToSlash(p))
		return "[" + string(q) + "]"
	}
	clean := make([]string, len(memberPath))
	for i, n := range memberPath {
		clean[i] = CleanName(n)
	}
	return EncodeMemberPath(clean)
}

// Names is the member's name chain: MemberPath when recorded, else (a row
// from before the case kept it) Member split at "!/".
func (e *Evidence) Names() []string {
	if e.MemberPath != nil || e.Member == "" {
		return e.MemberPath
	}
	return strings.Split(e.Member, "!/")
}

// NameKey is the item's name_key (see NameKey).
func (e *Evidence) NameKey() string { return NameKey(e.Path, e.Names()) }

// names is a name chain read from the member_path column, or from member
// for a row recorded before the column existed.
func names(memberPath, member string) ([]string, error) {
	if memberPath == "" {
		if member == "" {
			return nil, nil
		}
		return strings.Split(member, "!/"), nil
	}
	return DecodeMemberPath(memberPath)
}

// DuplicateName is a name that occurs more than once in one source: the
// same name_key (one name, maybe spelt "./x" and "x"), or the same member
// spelling for names the keys tell apart ("inner.tar!/x" as one member's
// name and as member x of a nested inner.tar).
type DuplicateName struct {
	Path  string // the file on disk (the archive, for members)
	Name  string // the member as spelt (the first row's), or the path
	Count int
	Items []DuplicateItem // at most maxDuplicateItems of them, in id order
}

// DuplicateItem is one evidence row that bears a duplicated name.
type DuplicateItem struct {
	EvidenceID  int64  `json:"evidence_id"`
	Kind        string `json:"kind"`
	Member      string `json:"member"`
	MemberPath  string `json:"member_path"`
	MemberIndex string `json:"member_index"`
	SHA256      string `json:"sha256"`
}

// maxDuplicateItems bounds the rows listed per duplicated name (a source
// built to repeat one name a million times is one finding, not a million
// lines).
const maxDuplicateItems = 20

// DuplicateNames returns every name that more than one evidence row of a
// source bears (sources themselves left out), through the name_key and
// identity indexes. Rows recorded before name_key existed are compared by
// member.
func (c *Case) DuplicateNames(ctx context.Context) ([]DuplicateName, error) {
	out, _, err := c.DuplicateNamesFirst(ctx, 0)
	return out, err
}

// DuplicateNamesFirst is DuplicateNames holding at most limit names (0:
// all) in memory: the first in (path, name) order, and the total count.
func (c *Case) DuplicateNamesFirst(ctx context.Context, limit int) ([]DuplicateName, int, error) {
	total := 0
	groups := []struct{ q, col string }{
		{`SELECT path, name_key, count(*) FROM evidence WHERE name_key IS NOT NULL AND kind <> 'source'
			GROUP BY path, name_key HAVING count(*) > 1 ORDER BY path, name_key`, "name_key"},
		{`SELECT path, member, count(*) FROM evidence WHERE member <> '' AND kind <> 'source'
			GROUP BY path, member HAVING count(*) > 1 AND (count(DISTINCT name_key) > 1 OR count(name_key) < count(*))
			ORDER BY path, member`, "member"},
	}
	var out []DuplicateName
	for _, g := range groups {
		rows, err := c.db.QueryContext(ctx, g.q)
		if err != nil {
			return nil, 0, fmt.Errorf("find duplicate names: %w", err)
		}
		type key struct{ path, v string }
		var keys []key
		var counts []int
		for rows.Next() {
			var k key
			var n int
			if err := rows.Scan(&k.path, &k.v, &n); err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("find duplicate names: %w", err)
			}
			total++
			if limit > 0 && len(out)+len(keys) >= limit {
				continue
			}
			keys, counts = append(keys, k), append(counts, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("find duplicate names: %w", err)
		}
		for i, k := range keys {
			d := DuplicateName{Path: k.path, Count: counts[i]}
			irows, err := c.db.QueryContext(ctx, `SELECT id, kind, member, coalesce(member_path, ''), coalesce(member_index, ''), sha256
				FROM evidence WHERE path = ? AND `+g.col+` = ? AND kind <> 'source' ORDER BY id LIMIT ?`, k.path, k.v, maxDuplicateItems)
			if err != nil {
				return nil, 0, fmt.Errorf("find duplicate names: %w", err)
			}
			for irows.Next() {
				var it DuplicateItem
				if err := irows.Scan(&it.EvidenceID, &it.Kind, &it.Member, &it.MemberPath, &it.MemberIndex, &it.SHA256); err != nil {
					irows.Close()
					return nil, 0, fmt.Errorf("find duplicate names: %w", err)
				}
				d.Items = append(d.Items, it)
			}
			irows.Close()
			if err := irows.Err(); err != nil {
				return nil, 0, fmt.Errorf("find duplicate names: %w", err)
			}
			d.Name = k.path
			if len(d.Items) > 0 && d.Items[0].Member != "" {
				d.Name = d.Items[0].Member
			}
			out = append(out, d)
		}
	}
	return out, total, nil
}

// Sources returns the distinct source paths (command-line arguments,
// made absolute) the case's evidence came from.
func (c *Case) Sources(ctx context.Context) ([]string, error) {
	return c.strings(ctx, "SELECT DISTINCT source FROM evidence ORDER BY source")
}
