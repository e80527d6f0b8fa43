package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// rawSpoof are the characters no human-readable output may carry raw.
var rawSpoof = []string{"\r", "\x1b", "\u202e", "\u2066", "\u2069", "\u2215"}

// Escaped forms of fixtures.SpoofName and fixtures.SpoofPrincipal, as
// display.Quote writes them (spelled out here, not computed).
const (
	spoofNameEscaped      = `x\r  OBJECT valid\x1b[2Kinvoice\u202egpj.exe\u2066AWSLogs\u2215fake\x1b[8m.txt`
	spoofPrincipalEscaped = `"arn:aws:iam::111122223333:user/\x1b[2K\rroot\u202enimda\u2069\u2215ok\x1b[8m"`
)

func assertNoRawSpoof(t *testing.T, what, out string) {
	t.Helper()
	for _, c := range rawSpoof {
		assert.NotContains(t, out, c, "%s carries %q raw:\n%s", what, c, out)
	}
}

// spoofCase is a fixture set with an object copy and a log copy whose
// names (and the log's principal) are built to deceive a terminal, plus
// an ordinary hash_mismatch; ingested, not yet verified.
type spoofCase struct {
	db, keys              string
	objKey, objPath       string
	logKey, logPath       string
	cleanLogKey, cleanLog string // the hash_mismatch log file
	m                     *fixtures.Manifest
}

func newSpoofCase(t *testing.T) *spoofCase {
	t.Helper()
	dir := t.TempDir()
	m, err := fixtures.Generate(filepath.Join(dir, "evidence"), fixtures.Options{Seed: 3, Hours: 2, FilesPerHour: 2,
		EventsPerFile: 3, Objects: true})
	require.NoError(t, err)
	ti, err := fixtures.Tamper(m, fixtures.LogHashMismatch)
	require.NoError(t, err)
	sc := &spoofCase{db: filepath.Join(dir, "case.db"), keys: filepath.Join(m.Root, "keys"), m: m, cleanLogKey: ti.LogKeys[0]}
	for _, l := range m.Logs {
		if l.Key == sc.cleanLogKey {
			sc.cleanLog = l.Path
		}
	}
	sc.objKey, sc.objPath, err = fixtures.SpoofObject(m, fixtures.SpoofName)
	require.NoError(t, err)
	sc.logKey, sc.logPath, err = fixtures.SpoofLog(m, fixtures.SpoofName, fixtures.SpoofPrincipal)
	require.NoError(t, err)
	r := forensic(t, "ingest", "--case", sc.db, "--operator", "jane", m.Root)
	require.Equal(t, 0, r.code, r.stderr)
	assertNoRawSpoof(t, "ingest", r.stdout+r.stderr)
	return sc
}

// TestSpoofVerifyText: the checksum_mismatch of an object whose key holds
// CR, ESC[2K, ESC[8m, U+202E, U+2066 and a division slash is printed
// quoted and escaped, so it cannot pose as a valid line or hide the rest;
// --json keeps the exact key; an ordinary key prints unchanged.
func TestSpoofVerifyText(t *testing.T) {
	sc := newSpoofCase(t)
	r := forensic(t, "verify", "--case", sc.db, "--public-keys", sc.keys)
	require.Equal(t, 1, r.code, r.stderr)
	assertNoRawSpoof(t, "verify", r.stdout+r.stderr)
	bucket := fixtures.DefaultObjectBucket
	assert.Contains(t, r.stdout, `OBJECT checksum_mismatch      "s3://`+bucket+"/"+path(sc.objKey)+spoofNameEscaped+`"`)
	assert.Contains(t, r.stdout, `path: "`+strings.ReplaceAll(filepath.Dir(sc.objPath), `\`, `\\`)+"/"+spoofNameEscaped+`"`)
	assert.Contains(t, r.stdout, "LOG    unreferenced           \""+fixtures.DefaultAccount+"_CloudTrail_"+fixtures.DefaultRegion+"_"+spoofNameEscaped+`.json.gz"`)
	// Untouched values print as they are.
	assert.Contains(t, r.stdout, "LOG    hash_mismatch          s3://"+fixtures.DefaultTrailBucket+"/"+sc.cleanLogKey+"\n")
	assert.Contains(t, r.stdout, "         path: "+sc.cleanLog+"\n")

	r = forensic(t, "verify", "--case", sc.db, "--public-keys", sc.keys, "--json")
	require.Equal(t, 1, r.code, r.stderr)
	var rep struct {
		Items []struct{ Kind, S3Key, Path, Status string } `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(r.stdout, `"s3_key"`, `"s3key"`)), &rep))
	found := false
	for _, it := range rep.Items {
		if it.S3Key == sc.objKey {
			found = true
			assert.Equal(t, "checksum_mismatch", it.Status)
			assert.Equal(t, sc.objPath, it.Path, "--json keeps the exact path")
		}
	}
	assert.True(t, found, "--json has the object under its exact key %q", sc.objKey)
}

// path is the folder part of an S3 key, with its slash.
func path(key string) string { return key[:strings.LastIndex(key, "/")+1] }

// TestSpoofQueryAndTimeline: query's table and timeline's text output
// escape the key and the principal; --csv and --json keep them exact;
// ordinary values print unchanged.
func TestSpoofQueryAndTimeline(t *testing.T) {
	sc := newSpoofCase(t)
	r := forensic(t, "verify", "--case", sc.db, "--public-keys", sc.keys)
	require.Equal(t, 1, r.code, r.stderr)

	q := "SELECT s3_key, path FROM evidence WHERE kind = 's3_object' ORDER BY s3_key"
	r = forensic(t, "query", "--case", sc.db, q)
	require.Equal(t, 0, r.code, r.stderr)
	assertNoRawSpoof(t, "query", r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"`+path(sc.objKey)+spoofNameEscaped+`"`)
	assert.Contains(t, r.stdout, "\nhello/crc32.txt ", "an ordinary key is printed as it is")
	r = forensic(t, "query", "--case", sc.db, "--csv", q)
	require.Equal(t, 0, r.code, r.stderr)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err)
	var keys []string
	for _, rec := range recs[1:] {
		keys = append(keys, rec[0])
	}
	assert.Contains(t, keys, sc.objKey, "--csv keeps the exact key")

	r = forensic(t, "query", "--case", sc.db, "SELECT DISTINCT principal FROM ct_events ORDER BY 1")
	require.Equal(t, 0, r.code, r.stderr)
	assertNoRawSpoof(t, "query", r.stdout)
	assert.Contains(t, r.stdout, spoofPrincipalEscaped)

	from, to := "2024-03-03T00:00Z", "2024-03-05T00:00Z"
	r = forensic(t, "timeline", "--case", sc.db, "--from", from, "--to", to)
	require.Equal(t, 0, r.code, r.stderr)
	assertNoRawSpoof(t, "timeline", r.stdout+r.stderr)
	assert.Contains(t, r.stdout, spoofPrincipalEscaped)
	assert.Contains(t, r.stdout, "unreferenced")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	spoofed := 0
	for _, l := range lines[1:] {
		if strings.Contains(l, spoofPrincipalEscaped) {
			spoofed++
			assert.Contains(t, l, `"`+sc.logPath[:strings.LastIndex(sc.logPath, "/")+1], "the evidence path of the spoofed log is quoted")
		}
	}
	assert.Positive(t, spoofed)
	assert.Less(t, spoofed, len(lines)-1, "other rows exist")
	for _, l := range lines[1:] {
		if !strings.Contains(l, spoofPrincipalEscaped) {
			assert.NotContains(t, l, `"`, "an ordinary row is printed as it is: %s", l)
		}
	}
	r = forensic(t, "timeline", "--case", sc.db, "--from", from, "--to", to, "--principal", fixtures.SpoofPrincipal, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var row timelineRow
	require.NoError(t, json.Unmarshal([]byte(strings.Split(r.stdout, "\n")[0]), &row))
	assert.Equal(t, fixtures.SpoofPrincipal, row.Principal, "--json keeps the exact principal")
}

// TestSpoofIngestCustodyReport: ingest's errors name a spoofed file
// quoted; custody verify and the report commands' text output escape the
// operator, the report folder and what report verify lists.
func TestSpoofIngestCustodyReport(t *testing.T) {
	sc := newSpoofCase(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad", fixtures.SpoofName+".json.gz")
	require.NoError(t, os.MkdirAll(filepath.Dir(bad), 0o755))
	require.NoError(t, os.WriteFile(bad, []byte("\x1f\x8b\x08\x00 not gzip \x1b[8m"), 0o644))
	r := forensic(t, "ingest", "--case", sc.db, filepath.Dir(bad))
	require.Equal(t, 1, r.code, r.stderr)
	assertNoRawSpoof(t, "ingest", r.stdout+r.stderr)
	assert.Contains(t, r.stderr, `forensic: error: "`+filepath.Dir(bad)+"/"+spoofNameEscaped+`.json.gz": `)

	r = forensic(t, "custody", "verify", "--case", sc.db)
	require.Equal(t, 0, r.code, r.stderr)
	assertNoRawSpoof(t, "custody verify", r.stdout)
	assert.Contains(t, r.stdout, " jane@")

	r = forensic(t, "verify", "--case", sc.db, "--public-keys", sc.keys)
	require.Equal(t, 1, r.code, r.stderr)
	prefix := filepath.Join(dir, "analyst")
	require.Equal(t, 0, forensic(t, "keygen", "--out", prefix, "--identity", "jane@lab.example").code)
	out := filepath.Join(dir, "report\u202e\x1b[8m")
	var o, e bytes.Buffer
	_, err := runReport(context.Background(), reportOptions{casePath: sc.db, keyPath: prefix + ".key", out: out, operator: "jane"}, &o)
	require.NoError(t, err, e.String())
	assertNoRawSpoof(t, "report", o.String())
	assert.Contains(t, o.String(), `report written to "`+dir+`/report\u202e\x1b[8m"`)

	// A forged report folder names a file with a spoofed name.
	require.NoError(t, os.WriteFile(filepath.Join(out, fixtures.SpoofName), []byte("x"), 0o644))
	r = forensic(t, "report", "verify", out, "--signer", prefix+".pub.pem")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	assertNoRawSpoof(t, "report verify", r.stdout+r.stderr)
	assert.Contains(t, r.stdout, spoofNameEscaped)
}
