package store

import (
	"context"
	"fmt"
	"maps"
	"strings"
)

// Object verification's working tables (on the scratch connection), so
// that pairing copies with their metadata costs disk, not memory,
// whatever the number of objects:
//
//   - v_oplace: where each candidate item sits (verify's place: scope and
//     name, as blobs since a scope holds NUL separators) and what it is:
//     an s3_object, an unknown file, or a metadata file that could not be
//     read (kind meta_error);
//   - v_oside: the metadata rows exported beside a copy, at the place of
//     the copy they describe;
//   - v_ofolder: the bucket folders (a folder "<...>/<bucket>" of a scope);
//   - v_ogroup: every place with an s3_object or a sidecar, in place
//     order, so that they can be paired a range at a time;
//   - v_ocopy and v_orow: the copies verify decided on, and the sidecar
//     rows of each.
const objectTables = `
CREATE TEMP TABLE v_oplace (
	evidence_id INTEGER PRIMARY KEY,
	scope       BLOB NOT NULL,
	name        BLOB NOT NULL,
	kind        TEXT NOT NULL,
	bucket      TEXT NOT NULL, -- of an s3_object, as ingest paired it
	key         TEXT NOT NULL
);
CREATE TEMP TABLE v_oside (
	meta_id  INTEGER PRIMARY KEY,
	scope    BLOB NOT NULL,
	name     BLOB NOT NULL,
	bucket   TEXT NOT NULL,
	key      TEXT NOT NULL,
	version  TEXT NOT NULL,
	expected TEXT NOT NULL
);
CREATE TEMP TABLE v_ofolder (
	scope  BLOB NOT NULL,
	folder BLOB NOT NULL,
	PRIMARY KEY (scope, folder)
);
CREATE TEMP TABLE v_ocopy (
	id          INTEGER PRIMARY KEY,
	evidence_id INTEGER,
	bucket      TEXT NOT NULL,
	key         TEXT NOT NULL,
	version     TEXT NOT NULL,
	at_key      INTEGER NOT NULL,
	expected    TEXT NOT NULL
);
CREATE TEMP TABLE v_orow (
	copy_id INTEGER NOT NULL,
	meta_id INTEGER NOT NULL,
	PRIMARY KEY (copy_id, meta_id)
);
CREATE INDEX temp.v_ocopy_ev ON v_ocopy(evidence_id);
`

const objectIndexes = `
CREATE INDEX temp.v_oplace_at ON v_oplace(scope, name, evidence_id);
CREATE INDEX temp.v_oside_at ON v_oside(scope, name, meta_id);
CREATE TEMP TABLE v_ogroup (id INTEGER PRIMARY KEY, scope BLOB NOT NULL, name BLOB NOT NULL);
INSERT INTO v_ogroup(scope, name) SELECT scope, name FROM (
	SELECT scope, name FROM v_oplace WHERE kind = 's3_object' UNION SELECT scope, name FROM v_oside)
	ORDER BY scope, name;
`

// Object place kinds (v_oplace.kind).
const (
	PlaceObject    = "s3_object"
	PlaceUnknown   = "unknown"
	PlaceMetaError = "meta_error"
)

// objectChunk is how many items, places or copies one chunk of the
// object pass holds, unless the caller says (limit > 0).
const objectChunk = 256

func chunkOr(limit int) int {
	if limit > 0 {
		return limit
	}
	return objectChunk
}

// ObjectIndexer fills the object working tables; Close makes their
// indexes and the place groups.
type ObjectIndexer struct {
	x                          *Scratch
	places, sides, folders, cs *batch
	rows                       *batch
}

// ObjectIndexer makes the object working tables and returns their writer.
func (x *Scratch) ObjectIndexer(ctx context.Context) (*ObjectIndexer, error) {
	if _, err := x.exec(ctx, objectTables); err != nil {
		return nil, fmt.Errorf("verify's working tables: %w", err)
	}
	return &ObjectIndexer{x: x,
		places:  x.batch("INSERT INTO v_oplace VALUES (?, ?, ?, ?, ?, ?)"),
		sides:   x.batch("INSERT INTO v_oside VALUES (?, ?, ?, ?, ?, ?, ?)"),
		folders: x.batch("INSERT OR IGNORE INTO v_ofolder VALUES (?, ?)"),
		cs:      x.batch("INSERT INTO v_ocopy VALUES (?, ?, ?, ?, ?, ?, ?)"),
		rows:    x.batch("INSERT OR IGNORE INTO v_orow VALUES (?, ?)"),
	}, nil
}

// AddPlace records the place of evidence item id (kind: PlaceObject,
// with the bucket and key ingest paired it with, PlaceUnknown or
// PlaceMetaError).
func (o *ObjectIndexer) AddPlace(ctx context.Context, id int64, scope, name, kind, bucket, key string) error {
	return o.places.add(ctx, id, []byte(scope), []byte(name), kind, bucket, key)
}

// ObjectSide is a metadata row exported beside a copy, at the place of
// the copy it describes.
type ObjectSide struct {
	MetaID                         int64
	Scope, Name                    string
	Bucket, Key, Version, Expected string
}

// AddSide records a sidecar row.
func (o *ObjectIndexer) AddSide(ctx context.Context, s ObjectSide) error {
	return o.sides.add(ctx, s.MetaID, []byte(s.Scope), []byte(s.Name), s.Bucket, s.Key, s.Version, s.Expected)
}

// AddFolder records a bucket folder of a scope.
func (o *ObjectIndexer) AddFolder(ctx context.Context, scope, folder string) error {
	return o.folders.add(ctx, []byte(scope), []byte(folder))
}

// ObjectCopyRow is a copy verify decided on: present (EvidenceID set) or
// missing (Expected names where the metadata put it).
type ObjectCopyRow struct {
	ID         int64
	EvidenceID int64 // 0 when missing
	// Read back only: the evidence's path, member name ("" for a file on
	// disk) and positions.
	Path, Member         string
	MemberIndex          []int
	Bucket, Key, Version string
	AtKey                bool
	Expected             string
}

// AddCopy records a copy and the sidecar rows that describe it.
func (o *ObjectIndexer) AddCopy(ctx context.Context, c ObjectCopyRow, metas []int64) error {
	var ev any
	if c.EvidenceID != 0 {
		ev = c.EvidenceID
	}
	if err := o.cs.add(ctx, c.ID, ev, c.Bucket, c.Key, c.Version, c.AtKey, c.Expected); err != nil {
		return err
	}
	for _, m := range metas {
		if err := o.rows.add(ctx, c.ID, m); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes what is buffered.
func (o *ObjectIndexer) Flush(ctx context.Context) error {
	for _, b := range []*batch{o.places, o.sides, o.folders, o.cs, o.rows} {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// EndPlaces writes what is buffered and makes the indexes and place
// groups the pairing reads (call it once places and sides are in).
func (o *ObjectIndexer) EndPlaces(ctx context.Context) error {
	if err := o.Flush(ctx); err != nil {
		return err
	}
	if _, err := o.x.exec(ctx, objectIndexes); err != nil {
		return fmt.Errorf("verify's working tables: %w", err)
	}
	return nil
}

// ObjectCandidateChunks calls fn with the evidence rows object
// verification considers — kinds s3_object and unknown, and metadata
// files that could not be read — a kind at a time, each in id order, a
// chunk at a time (each query walks the kind's index from the last id
// met); between chunks the connection is free.
func (x *Scratch) ObjectCandidateChunks(ctx context.Context, limit int, fn func([]Evidence) error) error {
	for _, q := range []struct {
		where string
		args  []any
	}{
		{"e.kind = ?", []any{KindObject}},
		{"e.kind = ?", []any{KindUnknown}},
		{"e.kind = ? AND e.error IS NOT NULL AND e.error <> ''", []any{KindObjectMetadata}},
	} {
		if err := x.evidenceChunks(ctx, q.where, q.args, chunkOr(limit), fn); err != nil {
			return err
		}
	}
	return nil
}

// eachPage calls fn with each page that next returns, asking next for
// the page after the last key of the one before (from 0), until a page
// is empty. Between pages no statement is open, so fn may use the
// connection.
func eachPage[T any](next func(after int64) ([]T, error), key func(T) int64, fn func([]T) error) error {
	last := int64(0)
	for {
		page, err := next(last)
		if err != nil || len(page) == 0 {
			return err
		}
		last = key(page[len(page)-1])
		if err := fn(page); err != nil {
			return err
		}
	}
}

// evidenceChunks calls fn with the evidence rows matching where, in id
// order, limit at a time; between chunks the connection is free.
func (x *Scratch) evidenceChunks(ctx context.Context, where string, args []any, limit int, fn func([]Evidence) error) error {
	return eachPage(func(after int64) ([]Evidence, error) {
		var chunk []Evidence
		err := x.eachEvidenceLimit(ctx, where+" AND e.id > ?", append(args[:len(args):len(args)], after), limit, func(e *Evidence) error {
			chunk = append(chunk, *e)
			return nil
		})
		return chunk, err
	}, func(e Evidence) int64 { return e.ID }, fn)
}

// MetaHead is what pairing needs of a metadata row exported beside a copy.
type MetaHead struct {
	MetaID                   int64
	Path, Member, ObjectPath string
	Names                    []string
	Index                    []int
	Bucket, Key, VersionID   string
}

// BesideObjectChunks calls fn with the rows of besideObjects, in
// row order, a chunk at a time (identity fields only; MetaRowsByID reads
// the rest); between chunks the connection is free.
func (x *Scratch) BesideObjectChunks(ctx context.Context, limit int, fn func([]MetaHead) error) error {
	return eachPage(func(after int64) ([]MetaHead, error) {
		rows, err := x.query(ctx, `SELECT m.id, e.path, e.member, coalesce(m.object_path, ''), coalesce(e.member_path, ''),
			coalesce(e.member_index, ''), coalesce(m.bucket, ''), coalesce(m.key, ''), coalesce(m.version_id, '')
			FROM s3_object_meta m JOIN evidence e ON e.id = m.evidence_id WHERE `+besideObjects+` AND m.id > ?
			ORDER BY m.id LIMIT ?`, after, chunkOr(limit))
		if err != nil {
			return nil, fmt.Errorf("read object metadata: %w", err)
		}
		defer rows.Close()
		var chunk []MetaHead
		for rows.Next() {
			var m MetaHead
			var mp, mi string
			if err := rows.Scan(&m.MetaID, &m.Path, &m.Member, &m.ObjectPath, &mp, &mi, &m.Bucket, &m.Key, &m.VersionID); err != nil {
				return nil, fmt.Errorf("read object metadata: %w", err)
			}
			if m.Names, err = names(mp, m.Member); err != nil {
				return nil, fmt.Errorf("object metadata %d: %w", m.MetaID, err)
			}
			if m.Index, err = DecodeMemberIndex(mi); err != nil {
				return nil, fmt.Errorf("object metadata %d: %w", m.MetaID, err)
			}
			chunk = append(chunk, m)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read object metadata: %w", err)
		}
		return chunk, nil
	}, func(m MetaHead) int64 { return m.MetaID }, fn)
}

// PlaceGroup is one place with an s3_object or a sidecar: the items there
// and the sidecar rows that describe a copy there, each in id order.
type PlaceGroup struct {
	Scope, Name string
	Objects     []ObjectCopyRow // s3_object items: EvidenceID, Bucket and Key set
	Unknown     []int64         // unknown items
	Sides       []ObjectSide
}

// PlaceGroupChunks calls fn with every place group, in place order, a
// chunk at a time; between chunks the connection is free.
func (x *Scratch) PlaceGroupChunks(ctx context.Context, limit int, fn func([]PlaceGroup) error) error {
	n := int64(chunkOr(limit))
	for lo := int64(1); ; lo += n {
		hi := lo + n - 1
		rows, err := x.query(ctx, "SELECT id, scope, name FROM v_ogroup WHERE id BETWEEN ? AND ? ORDER BY id", lo, hi)
		if err != nil {
			return fmt.Errorf("verify's working tables: %w", err)
		}
		var groups []PlaceGroup
		byID := map[int64]int{}
		for rows.Next() {
			var id int64
			var scope, name []byte
			if err := rows.Scan(&id, &scope, &name); err != nil {
				rows.Close()
				return err
			}
			byID[id] = len(groups)
			groups = append(groups, PlaceGroup{Scope: string(scope), Name: string(name)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(groups) == 0 {
			return nil
		}
		rows, err = x.query(ctx, `SELECT g.id, p.evidence_id, p.kind, p.bucket, p.key FROM v_ogroup g JOIN v_oplace p ON p.scope = g.scope AND p.name = g.name
			WHERE g.id BETWEEN ? AND ? AND p.kind IN (?, ?) ORDER BY g.id, p.evidence_id`, lo, hi, PlaceObject, PlaceUnknown)
		if err != nil {
			return fmt.Errorf("verify's working tables: %w", err)
		}
		for rows.Next() {
			var g, ev int64
			var kind, bucket, key string
			if err := rows.Scan(&g, &ev, &kind, &bucket, &key); err != nil {
				rows.Close()
				return err
			}
			pg := &groups[byID[g]]
			if kind == PlaceObject {
				pg.Objects = append(pg.Objects, ObjectCopyRow{EvidenceID: ev, Bucket: bucket, Key: key})
			} else {
				pg.Unknown = append(pg.Unknown, ev)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = x.query(ctx, `SELECT g.id, s.meta_id, s.bucket, s.key, s.version, s.expected FROM v_ogroup g
			JOIN v_oside s ON s.scope = g.scope AND s.name = g.name WHERE g.id BETWEEN ? AND ? ORDER BY g.id, s.meta_id`, lo, hi)
		if err != nil {
			return fmt.Errorf("verify's working tables: %w", err)
		}
		for rows.Next() {
			var g int64
			var s ObjectSide
			if err := rows.Scan(&g, &s.MetaID, &s.Bucket, &s.Key, &s.Version, &s.Expected); err != nil {
				rows.Close()
				return err
			}
			pg := &groups[byID[g]]
			s.Scope, s.Name = pg.Scope, pg.Name
			pg.Sides = append(pg.Sides, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := fn(groups); err != nil {
			return err
		}
	}
}

// PlacedItem is an item's place.
type PlacedItem struct {
	ID          int64
	Scope, Name string
}

// UnpairedUnknownChunks calls fn with the unknown items that are no copy
// yet, in id order, a chunk at a time; between chunks the connection is
// free.
func (x *Scratch) UnpairedUnknownChunks(ctx context.Context, limit int, fn func([]PlacedItem) error) error {
	return eachPage(func(after int64) ([]PlacedItem, error) {
		rows, err := x.query(ctx, `SELECT p.evidence_id, p.scope, p.name FROM v_oplace p WHERE p.kind = ? AND p.evidence_id > ?
			AND NOT EXISTS (SELECT 1 FROM v_ocopy c WHERE c.evidence_id = p.evidence_id) ORDER BY p.evidence_id LIMIT ?`,
			PlaceUnknown, after, chunkOr(limit))
		if err != nil {
			return nil, fmt.Errorf("verify's working tables: %w", err)
		}
		defer rows.Close()
		var chunk []PlacedItem
		for rows.Next() {
			var p PlacedItem
			var scope, name []byte
			if err := rows.Scan(&p.ID, &scope, &name); err != nil {
				return nil, err
			}
			p.Scope, p.Name = string(scope), string(name)
			chunk = append(chunk, p)
		}
		return chunk, rows.Err()
	}, func(p PlacedItem) int64 { return p.ID }, fn)
}

// DeepestFolder returns the longest of dirs that is a recorded bucket
// folder of scope.
func (x *Scratch) DeepestFolder(ctx context.Context, scope string, dirs []string) (string, bool, error) {
	best, found := "", false
	const per = 256 // bound parameters per query
	for len(dirs) > 0 {
		n := min(len(dirs), per)
		args := []any{[]byte(scope)}
		for _, d := range dirs[:n] {
			args = append(args, []byte(d))
		}
		rows, err := x.query(ctx, "SELECT folder FROM v_ofolder WHERE scope = ? AND folder IN (?"+strings.Repeat(",?", n-1)+")", args...)
		if err != nil {
			return "", false, fmt.Errorf("verify's working tables: %w", err)
		}
		for rows.Next() {
			var f []byte
			if err := rows.Scan(&f); err != nil {
				rows.Close()
				return "", false, err
			}
			if !found || len(f) > len(best) {
				best, found = string(f), true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", false, err
		}
		dirs = dirs[n:]
	}
	return best, found, nil
}

// MetaErrorAt returns the metadata files that could not be read at a
// place, in id order.
func (x *Scratch) MetaErrorAt(ctx context.Context, scope, name string) ([]Evidence, error) {
	var out []Evidence
	err := x.eachEvidence(ctx, "e.id IN (SELECT evidence_id FROM v_oplace WHERE scope = ? AND name = ? AND kind = ?)",
		[]any{[]byte(scope), []byte(name), PlaceMetaError}, func(e *Evidence) error {
			out = append(out, *e)
			return nil
		})
	return out, err
}

// ObjectCopyChunks calls fn with the copies, in id order, a chunk at a
// time, each with the sidecar rows that describe it (meta ids in order);
// between chunks the connection is free.
func (x *Scratch) ObjectCopyChunks(ctx context.Context, limit int, fn func([]ObjectCopyRow, map[int64][]int64) error) error {
	var metas map[int64][]int64
	return eachPage(func(after int64) ([]ObjectCopyRow, error) {
		var chunk []ObjectCopyRow
		var err error
		chunk, metas, err = x.objectCopies(ctx, "c.id > ? ORDER BY c.id LIMIT ?", after, chunkOr(limit))
		return chunk, err
	}, func(c ObjectCopyRow) int64 { return c.ID }, func(chunk []ObjectCopyRow) error { return fn(chunk, metas) })
}

// ObjectCopiesOf returns the copies of the given evidence items and their
// sidecar rows.
func (x *Scratch) ObjectCopiesOf(ctx context.Context, ids []int64) ([]ObjectCopyRow, map[int64][]int64, error) {
	var out []ObjectCopyRow
	metas := map[int64][]int64{}
	err := inBatches(ids, func(in string, args []any) error {
		cs, ms, err := x.objectCopies(ctx, "c.evidence_id "+in+" ORDER BY c.id", args...)
		out = append(out, cs...)
		maps.Copy(metas, ms)
		return err
	})
	return out, metas, err
}

func (x *Scratch) objectCopies(ctx context.Context, where string, args ...any) ([]ObjectCopyRow, map[int64][]int64, error) {
	rows, err := x.query(ctx, `SELECT c.id, coalesce(c.evidence_id, 0), coalesce(e.path, ''), coalesce(e.member, ''),
		coalesce(e.member_index, ''), c.bucket, c.key, c.version, c.at_key, c.expected
		FROM v_ocopy c LEFT JOIN evidence e ON e.id = c.evidence_id WHERE `+where, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("verify's working tables: %w", err)
	}
	var out []ObjectCopyRow
	for rows.Next() {
		var c ObjectCopyRow
		var mi string
		if err := rows.Scan(&c.ID, &c.EvidenceID, &c.Path, &c.Member, &mi, &c.Bucket, &c.Key, &c.Version, &c.AtKey, &c.Expected); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if c.MemberIndex, err = DecodeMemberIndex(mi); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("object copy of evidence %d: %w", c.EvidenceID, err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return nil, nil, err
	}
	ids := make([]int64, len(out))
	for i, c := range out {
		ids[i] = c.ID
	}
	metas := map[int64][]int64{}
	err = inBatches(ids, func(in string, args []any) error {
		rows, err := x.query(ctx, "SELECT copy_id, meta_id FROM v_orow WHERE copy_id "+in+" ORDER BY copy_id, meta_id", args...)
		if err != nil {
			return fmt.Errorf("verify's working tables: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c, m int64
			if err := rows.Scan(&c, &m); err != nil {
				return err
			}
			metas[c] = append(metas[c], m)
		}
		return rows.Err()
	})
	return out, metas, err
}

// EvidenceByIDs returns the evidence rows with the given ids, by id.
func (x *Scratch) EvidenceByIDs(ctx context.Context, ids []int64) (map[int64]*Evidence, error) {
	out := make(map[int64]*Evidence, len(ids))
	err := inBatches(ids, func(in string, args []any) error {
		return x.eachEvidence(ctx, "e.id "+in, args, func(e *Evidence) error {
			ev := *e
			out[e.ID] = &ev
			return nil
		})
	})
	return out, err
}

// inBatches calls fn with ids a batch at a time, as an "IN (?,...)"
// condition and its arguments (a statement binds a bounded number of
// parameters).
func inBatches(ids []int64, fn func(in string, args []any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn("IN (?"+strings.Repeat(",?", n-1)+")", args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
