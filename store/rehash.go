package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
)

// verify's working tables for re-reading evidence: the archive members
// to read, found again by position as a walk meets them (v_members: the
// log files for --rehash, then the object copies), what re-reading each
// log file found (v_fresh) and which could not be re-read (v_refail).
// Nothing of it is held in memory, whatever the number of items.
const rehashTables = `
CREATE TEMP TABLE v_fresh (
	evidence_id INTEGER PRIMARY KEY,
	sha         TEXT NOT NULL,
	content_sha TEXT NOT NULL,
	compression TEXT NOT NULL,
	trailing    INTEGER NOT NULL,
	err         TEXT NOT NULL
);
CREATE TEMP TABLE v_refail (
	evidence_id INTEGER PRIMARY KEY,
	msg         TEXT NOT NULL
);
`

const memberTables = `
CREATE TEMP TABLE IF NOT EXISTS v_members (
	evidence_id  INTEGER PRIMARY KEY,
	path         TEXT NOT NULL,
	member       TEXT NOT NULL,
	member_index TEXT,            -- EncodeMemberIndex form; NULL: recorded before positions were kept
	sort_key     BLOB,            -- MemberSortKey of the positions; NULL: recorded before positions were kept
	seen         INTEGER NOT NULL DEFAULT 0, -- handled: read, or failed
	met          INTEGER NOT NULL DEFAULT 0  -- rows without positions: how often a walk met the name
);
CREATE INDEX IF NOT EXISTS temp.v_members_pos ON v_members(path, sort_key, evidence_id) WHERE sort_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS temp.v_members_name ON v_members(path, member) WHERE sort_key IS NULL;
CREATE INDEX IF NOT EXISTS temp.v_members_unseen ON v_members(path, seen, evidence_id);
DELETE FROM v_members;
`

// MemberSortKey is the order of a walk's entries as bytes: each position
// as 8 big-endian bytes (offset so that the order of the bytes is that
// of the numbers), so that a walk, which meets an archive's members in
// position order and a nested archive's members after the archive,
// meets them in key order.
func MemberSortKey(idx []int) []byte {
	b := make([]byte, 0, 8*len(idx))
	for _, n := range idx {
		b = binary.BigEndian.AppendUint64(b, uint64(n)^(1<<63))
	}
	return b
}

// FreshHash is what re-reading a log file found.
type FreshHash struct {
	SHA256, ContentSHA256, Compression string
	Trailing                           bool
	Err                                string // the content could not be decompressed
}

// IndexLogMembers makes the rehash working tables and records every log
// file that is an archive member as the members to read.
func (x *Scratch) IndexLogMembers(ctx context.Context) error {
	if _, err := x.exec(ctx, rehashTables); err != nil {
		return fmt.Errorf("verify's working tables: %w", err)
	}
	l, err := x.NewMemberList(ctx)
	if err != nil {
		return err
	}
	err = x.evidenceChunks(ctx, "e.kind = ? AND e.member <> ''", []any{KindCloudTrailLog}, 2000, func(chunk []Evidence) error {
		for i := range chunk {
			if err := l.Add(ctx, &chunk[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return l.Close(ctx)
}

// MemberList records archive members to read: replacing the list of
// members to read, Add one at a time, then Close.
type MemberList struct{ b *batch }

// NewMemberList empties the members to read and returns their writer.
func (x *Scratch) NewMemberList(ctx context.Context) (*MemberList, error) {
	if _, err := x.exec(ctx, memberTables); err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	return &MemberList{x.batch("INSERT INTO v_members(evidence_id, path, member, member_index, sort_key) VALUES (?, ?, ?, ?, ?)")}, nil
}

// Add records archive member e as one to read.
func (l *MemberList) Add(ctx context.Context, e *Evidence) error {
	var idx, key any
	if e.MemberIndex != nil {
		idx, key = EncodeMemberIndex(e.MemberIndex), MemberSortKey(e.MemberIndex)
	}
	return l.b.add(ctx, e.ID, e.Path, e.Member, idx, key)
}

// Close writes what is buffered.
func (l *MemberList) Close(ctx context.Context) error { return l.b.flush(ctx) }

// MemberArchives returns the archives that hold members to read, in path
// order, and for each whether some of its rows were recorded before
// positions were kept.
func (x *Scratch) MemberArchives(ctx context.Context) (paths []string, legacy map[string]bool, err error) {
	rows, err := x.query(ctx, "SELECT path, max(sort_key IS NULL) FROM v_members GROUP BY path ORDER BY path")
	if err != nil {
		return nil, nil, fmt.Errorf("verify's working tables: %w", err)
	}
	defer rows.Close()
	legacy = map[string]bool{}
	for rows.Next() {
		var p string
		var l bool
		if err := rows.Scan(&p, &l); err != nil {
			return nil, nil, err
		}
		paths = append(paths, p)
		if l {
			legacy[p] = true
		}
	}
	return paths, legacy, rows.Err()
}

// PositionedMember is a member to read, found again by its position.
type PositionedMember struct {
	ID  int64
	Key []byte // MemberSortKey
}

// MembersAfter returns up to limit members to read of archive path that
// were recorded with positions, after (key, id) in (sort key, id) order.
func (x *Scratch) MembersAfter(ctx context.Context, path string, key []byte, id int64, limit int) ([]PositionedMember, error) {
	if key == nil {
		key = []byte{}
	}
	rows, err := x.query(ctx, `SELECT evidence_id, sort_key FROM v_members WHERE path = ? AND sort_key IS NOT NULL
		AND (sort_key, evidence_id) > (?, ?) ORDER BY sort_key, evidence_id LIMIT ?`, path, key, id, limit)
	if err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	defer rows.Close()
	var out []PositionedMember
	for rows.Next() {
		var m PositionedMember
		if err := rows.Scan(&m.ID, &m.Key); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MeetLegacyName counts a walk's meeting of name member in archive path
// for the rows recorded under that name before positions were kept.
func (x *Scratch) MeetLegacyName(ctx context.Context, path, member string) error {
	_, err := x.exec(ctx, "UPDATE v_members SET met = met + 1 WHERE path = ? AND member = ? AND sort_key IS NULL", path, member)
	return err
}

// LegacyMember is a member to read recorded before positions were kept,
// with how often a walk of its archive met its name.
type LegacyMember struct {
	ID     int64
	Member string
	Met    int
}

// LegacyMembers returns the members to read not yet handled of archive
// path recorded under name member before positions were kept whose name
// a walk met once, in id order.
func (x *Scratch) LegacyMembers(ctx context.Context, path, member string) ([]LegacyMember, error) {
	return x.legacyMembers(ctx, "member = ? AND met = 1", path, member)
}

// RepeatedLegacyMembers returns the members to read not yet handled of
// archive path recorded before positions were kept whose name a walk met
// more than once, in id order.
func (x *Scratch) RepeatedLegacyMembers(ctx context.Context, path string) ([]LegacyMember, error) {
	return x.legacyMembers(ctx, "met > 1", path)
}

func (x *Scratch) legacyMembers(ctx context.Context, where, path string, args ...any) ([]LegacyMember, error) {
	rows, err := x.query(ctx, `SELECT evidence_id, member, met FROM v_members WHERE path = ? AND sort_key IS NULL AND seen = 0
		AND `+where+` ORDER BY evidence_id`, append([]any{path}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	defer rows.Close()
	var out []LegacyMember
	for rows.Next() {
		var m LegacyMember
		if err := rows.Scan(&m.ID, &m.Member, &m.Met); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MemberSeen records, a batch at a time, that members were handled;
// Flush before asking which were not (UnseenMembers).
type MemberSeen struct{ b *batch }

// MemberSeen returns a writer of handled members.
func (x *Scratch) MemberSeen() *MemberSeen {
	return &MemberSeen{x.batch("UPDATE v_members SET seen = 1 WHERE evidence_id = ?")}
}

// Add records that the member of row id was handled.
func (s *MemberSeen) Add(ctx context.Context, id int64) error { return s.b.add(ctx, id) }

// Flush writes what is buffered.
func (s *MemberSeen) Flush(ctx context.Context) error { return s.b.flush(ctx) }

// UnseenMember is a member to read the walk of its archive did not meet.
type UnseenMember struct {
	ID          int64
	Member      string
	MemberIndex sql.NullString
}

// unseenMembersQuery is UnseenMembers' page (on v_members_unseen).
const unseenMembersQuery = "SELECT evidence_id, member, member_index FROM v_members WHERE path = ? AND seen = 0 ORDER BY evidence_id LIMIT 512"

// UnseenMembers calls fn for each member to read of archive path the walk
// did not handle, in id order, and marks it handled.
func (x *Scratch) UnseenMembers(ctx context.Context, path string, fn func(UnseenMember) error) error {
	// fn may write (a failure per row): the rows are read a page at a
	// time, marked seen once handled, and the query asked again.
	for {
		rows, err := x.query(ctx, unseenMembersQuery, path)
		if err != nil {
			return fmt.Errorf("verify's working tables: %w", err)
		}
		var page []UnseenMember
		for rows.Next() {
			var u UnseenMember
			if err := rows.Scan(&u.ID, &u.Member, &u.MemberIndex); err != nil {
				rows.Close()
				return err
			}
			page = append(page, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
			if _, err := x.exec(ctx, "UPDATE v_members SET seen = 1 WHERE evidence_id = ?", u.ID); err != nil {
				return err
			}
		}
	}
}

// OnDiskLogChunks calls fn with the log files that are files on disk (not
// archive members), in id order, a chunk at a time.
func (x *Scratch) OnDiskLogChunks(ctx context.Context, fn func([]Evidence) error) error {
	return x.evidenceChunks(ctx, "e.kind = ? AND e.member = ''", []any{KindCloudTrailLog}, logChunk, fn)
}

// PutFresh records what re-reading log file id found.
func (x *Scratch) PutFresh(ctx context.Context, id int64, f FreshHash) error {
	_, err := x.exec(ctx, "INSERT OR REPLACE INTO v_fresh VALUES (?, ?, ?, ?, ?, ?)", id, f.SHA256, f.ContentSHA256, f.Compression, f.Trailing, f.Err)
	return err
}

// PutRehashFailure records that log file id could not be re-read exactly
// (the last reason found is kept), and forgets what was found of it.
func (x *Scratch) PutRehashFailure(ctx context.Context, id int64, msg string) error {
	if _, err := x.exec(ctx, "INSERT OR REPLACE INTO v_refail VALUES (?, ?)", id, msg); err != nil {
		return err
	}
	_, err := x.exec(ctx, "DELETE FROM v_fresh WHERE evidence_id = ?", id)
	return err
}

// FreshBetween returns what re-reading found for the log files with ids
// from lo to hi.
func (x *Scratch) FreshBetween(ctx context.Context, lo, hi int64) (map[int64]FreshHash, error) {
	rows, err := x.query(ctx, `SELECT evidence_id, sha, content_sha, compression, trailing, err FROM v_fresh
		WHERE evidence_id BETWEEN ? AND ?`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	defer rows.Close()
	out := map[int64]FreshHash{}
	for rows.Next() {
		var id int64
		var f FreshHash
		if err := rows.Scan(&id, &f.SHA256, &f.ContentSHA256, &f.Compression, &f.Trailing, &f.Err); err != nil {
			return nil, err
		}
		out[id] = f
	}
	return out, rows.Err()
}

// RehashOutcome calls fn, in id order, for every log file that could not
// be re-read (msg set) or whose bytes differ from the ingested ones
// (fresh set), with its evidence row; it returns how many were re-read.
func (x *Scratch) RehashOutcome(ctx context.Context, fn func(e *Evidence, msg string, fresh *FreshHash) error) (int, error) {
	// What could not be read exactly is not judged on a guess.
	if _, err := x.exec(ctx, "DELETE FROM v_fresh WHERE evidence_id IN (SELECT evidence_id FROM v_refail)"); err != nil {
		return 0, err
	}
	var n int
	if err := x.queryRow(ctx, "SELECT count(*) FROM v_fresh").Scan(&n); err != nil {
		return 0, err
	}
	last := int64(0)
	for {
		type hit struct {
			id    int64
			msg   string
			fresh *FreshHash
		}
		var hits []hit
		rows, err := x.query(ctx, `SELECT id, msg, sha FROM (
				SELECT f.evidence_id AS id, f.msg AS msg, NULL AS sha FROM v_refail f
				UNION ALL
				SELECT v.evidence_id, NULL, v.sha FROM v_fresh v JOIN evidence e ON e.id = v.evidence_id WHERE v.sha <> e.sha256)
			WHERE id > ? ORDER BY id LIMIT 512`, last)
		if err != nil {
			return 0, fmt.Errorf("verify's working tables: %w", err)
		}
		for rows.Next() {
			var h hit
			var msg, sha sql.NullString
			if err := rows.Scan(&h.id, &msg, &sha); err != nil {
				rows.Close()
				return 0, err
			}
			h.msg = msg.String
			if sha.Valid {
				h.fresh = &FreshHash{SHA256: sha.String}
			}
			hits = append(hits, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if len(hits) == 0 {
			return n, nil
		}
		for _, h := range hits {
			last = h.id
			var e *Evidence
			err := x.eachEvidenceLimit(ctx, "e.id = ?", []any{h.id}, 1, func(ev *Evidence) error {
				e = ev
				return nil
			})
			if err != nil {
				return 0, err
			}
			if e == nil {
				return 0, fmt.Errorf("rehash: evidence %d is gone from the case", h.id)
			}
			if err := fn(e, h.msg, h.fresh); err != nil {
				return 0, err
			}
		}
	}
}
