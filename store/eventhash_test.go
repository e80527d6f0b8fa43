package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awkwardEvents have every kind of byte the hash must carry exactly:
// quotes, backslashes, every control character, invalid UTF-8, newlines
// in raw, absent values.
func awkwardEvents() []Event {
	var ctl strings.Builder
	for c := 0; c < 0x20; c++ {
		ctl.WriteByte(byte(c))
	}
	yes, no := true, false
	return []Event{
		{RecordIndex: 0, EventID: "e\"0\\", EventTime: "2024-03-04T00:00:00Z", EventName: "GetObject", Principal: "p" + ctl.String(),
			UserAgent: "bad \xff\xfe utf8 \x7f", ErrorMessage: "line\nbreak\ttab", ReadOnly: &yes, ManagementEvent: &no, Verifiable: true,
			Raw: []byte("{\"eventName\":\"GetObject\",\n \"x\":\"\\u0000\"}")},
		{RecordIndex: 1, EventName: "PutObject", SourceIP: "198.51.100.7", Raw: []byte(`{}`)},
		{RecordIndex: 2, Raw: []byte("{\"a\":\"\xff\"}\r\n")},
	}
}

func writeEvents(t *testing.T, c *Case, path string, events []Event) int64 {
	t.Helper()
	w := c.NewWriter(WriterOptions{})
	w.Add(&Item{Evidence: Evidence{Path: path, SHA256: strings.Repeat("a", 64), Kind: KindCloudTrailLog}, Events: events})
	_, err := w.Close()
	require.NoError(t, err)
	var id int64
	require.NoError(t, c.db.QueryRow("SELECT id FROM evidence WHERE path = ?", path).Scan(&id))
	return id
}

// TestEventsHashIsTheDocumentedSQL: the hash ingest computes from the
// parsed events, the hash of the stored rows, and the documented sqlite3
// recipe agree, byte for byte, on awkward values.
func TestEventsHashIsTheDocumentedSQL(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	events := awkwardEvents()
	want := HashEvents(events)
	id := writeEvents(t, c, "/e/log.json", events)

	var stored string
	var n int64
	require.NoError(t, c.db.QueryRow("SELECT event_count, events_sha256 FROM evidence WHERE id = ?", id).Scan(&n, &stored))
	assert.Equal(t, int64(3), n)
	assert.Equal(t, want, stored)

	// EventsSQL through the driver.
	rows, err := c.db.Query(EventsSQL, id)
	require.NoError(t, err)
	h := sha256.New()
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		b, err := hex.DecodeString(line)
		require.NoError(t, err)
		h.Write(b)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, want, hex.EncodeToString(h.Sum(nil)))

	sums, err := c.eventSums(ctx)
	require.NoError(t, err)
	assert.Equal(t, EventsSum{Count: 3, SHA256: want}, sums[id])
	check, err := c.CheckEvents(ctx)
	require.NoError(t, err)
	assert.Empty(t, check.Problems)

	// The recipe in the README, with the sqlite3 shell.
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 not installed")
	}
	if _, err := exec.LookPath("xxd"); err != nil {
		t.Skip("xxd not installed")
	}
	require.NoError(t, c.Close())
	sql := strings.Replace(EventsSQL, "?", "1", 1)
	out, err := exec.Command("sh", "-c", `sqlite3 "$1" "$2" | tr -d '\n' | xxd -r -p | sha256sum`, "sh", c.Path, sql).Output()
	require.NoError(t, err)
	assert.Equal(t, want+"  -\n", string(out))
}

// TestCheckEventsCatchesEdits: renaming, altering the raw record of,
// deleting, adding or reordering an event is caught; so is an event that
// names no evidence item; untouched events pass.
func TestCheckEventsCatchesEdits(t *testing.T) {
	for _, tc := range []struct{ name, sql, want string }{
		{"untouched", "", ""},
		{"renamed", "UPDATE ct_events SET event_name = 'ListBuckets' WHERE record_index = 1 AND evidence_id = 1", "not those ingest recorded"},
		{"empty string for NULL", "UPDATE ct_events SET event_id = '' WHERE record_index = 1 AND evidence_id = 1", "not those ingest recorded"},
		{"raw altered", "UPDATE ct_events SET raw = '{ }' WHERE record_index = 1 AND evidence_id = 1", "not those ingest recorded"},
		{"deleted", "DELETE FROM ct_events WHERE record_index = 2 AND evidence_id = 1", "2 with"},
		{"all deleted", "DELETE FROM ct_events WHERE evidence_id = 1", "0 with none now"},
		{"added", "INSERT INTO ct_events(evidence_id, record_index, verifiable, raw) SELECT evidence_id, 3, 1, '{}' FROM ct_events LIMIT 1", "4 with"},
		{"swapped", "UPDATE ct_events SET record_index = 5 - record_index WHERE record_index IN (1, 2) AND evidence_id = 1", "not those ingest recorded"},
		{"blob", "UPDATE ct_events SET event_name = x'00ff' WHERE record_index = 1 AND evidence_id = 1", "not those ingest recorded"},
		{"orphan", "INSERT INTO ct_events(evidence_id, record_index, verifiable, raw) VALUES (999, 0, 1, '{}')", "name evidence items that are not in the case"},
		{"hash edited", "UPDATE evidence SET events_sha256 = 'x' WHERE id = 1", "not those ingest recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openTemp(t)
			writeEvents(t, c, "/e/log.json", awkwardEvents())
			writeEvents(t, c, "/e/other.json", awkwardEvents()[1:])
			if tc.sql != "" {
				_, err := c.db.Exec("PRAGMA foreign_keys = OFF; " + tc.sql)
				require.NoError(t, err)
			}
			check, err := c.CheckEvents(context.Background())
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, check.Problems)
				return
			}
			require.Len(t, check.Problems, 1, "%q", check.Problems)
			assert.Contains(t, check.Problems[0], tc.want)
		})
	}
}

func TestSQLiteJSONString(t *testing.T) {
	c := openTemp(t)
	var all strings.Builder
	for b := 0; b < 256; b++ {
		all.WriteByte(byte(b))
	}
	cases := []string{"", "plain", `"\`, all.String(), "é ☃ \xc3", "0123456789abcdef\x1f", "01234567\"01234567"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		b := make([]byte, rng.Intn(40))
		for j := range b {
			b[j] = "a\x00\x1f !\"#\\]\x7f\x80\xff"[rng.Intn(12)]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		var want string
		require.NoError(t, c.db.QueryRow("SELECT json_quote(CAST(? AS TEXT))", []byte(s)).Scan(&want))
		assert.Equal(t, want, string(appendSQLiteJSONString(nil, s)), "%q", s)
	}
}

// TestEventSumsReadPaths: the scan through the library's own connections
// (in one part or split in two), and the case's own connection, give the
// same hashes, also when rows were moved (new row ids, same content) or
// hold values the writer never stores.
func TestEventSumsReadPaths(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	want := map[int64]EventsSum{}
	for i := 0; i < 4; i++ {
		events := awkwardEvents()[:1+i%3]
		id := writeEvents(t, c, fmt.Sprintf("/e/%d.json", i), events)
		want[id] = EventsSum{Count: int64(len(events)), SHA256: HashEvents(events)}
	}
	sums := func() []map[int64]EventsSum {
		var out []map[int64]EventsSum
		for _, split := range []int64{1 << 40, 1} {
			minSplitRows = split
			s, err := c.eventSums(ctx)
			minSplitRows = 100_000
			require.NoError(t, err)
			out = append(out, s)
		}
		s, err := (&Case{db: c.db}).eventSums(ctx)
		require.NoError(t, err)
		return append(out, s)
	}
	for _, got := range sums() {
		assert.Equal(t, want, got)
	}
	// Rows moved to the end, across the split: same content, same hashes.
	_, err := c.db.Exec("UPDATE ct_events SET id = id + 1000 WHERE id IN (1, 2)")
	require.NoError(t, err)
	for _, got := range sums() {
		assert.Equal(t, want, got)
	}
	// A REAL and a BLOB: every path hashes them as SQLite writes them.
	_, err = c.db.Exec("UPDATE ct_events SET read_only = 1.5 WHERE id = 3; UPDATE ct_events SET event_name = x'41ff' WHERE id = 4")
	require.NoError(t, err)
	all := sums()
	assert.NotEqual(t, want, all[0])
	for _, got := range all[1:] {
		assert.Equal(t, all[0], got)
	}
}

// FuzzSQLiteJSONString: the per-file event hash writes text values as
// SQLite's json_quote does, whatever the bytes.
func FuzzSQLiteJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\x00\x1f\x7f\xff", "01234567\"01234567", "é ☃ \xc3"} {
		f.Add([]byte(s))
	}
	c, err := Open(context.Background(), f.TempDir()+"/case.db")
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	f.Fuzz(func(t *testing.T, s []byte) {
		var want string
		require.NoError(t, c.db.QueryRow("SELECT json_quote(CAST(? AS TEXT))", s).Scan(&want))
		if got := string(appendSQLiteJSONString(nil, string(s))); got != want {
			t.Fatalf("appendSQLiteJSONString(%q) = %q, SQLite json_quote gives %q", s, got, want)
		}
	})
}
