package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
)

// forensicWithin runs the built command and, should it not have ended
// after a minute, kills it and fails the test: a command that opens a
// named pipe or reads a device hangs for ever (and Ctrl-C alone did not
// stop it), which must fail the suite rather than hang it.
func forensicWithin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(forensicBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("forensic %s: still running after a minute (killed)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), o.String(), e.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{o.String(), e.String(), code}
}

// reportSet writes a small evidence set with its keys outside it, a case
// of it (ingested and verified), an analyst key and a signed report of
// it, with the built command. Everything is valid.
type reportSet struct {
	dir, ev, keys, casePath, key, pub, report string
}

func newReportSet(t *testing.T) reportSet {
	t.Helper()
	dir := t.TempDir()
	s := reportSet{dir: dir, ev: filepath.Join(dir, "evidence"), keys: filepath.Join(dir, "keys"),
		casePath: filepath.Join(dir, "case.db"), key: filepath.Join(dir, "analyst.key"),
		pub: filepath.Join(dir, "analyst.pub.pem"), report: filepath.Join(dir, "report")}
	m, err := fixtures.Generate(s.ev, fixtures.Options{Seed: 11, Hours: 2, FilesPerHour: 1, EventsPerFile: 2})
	require.NoError(t, err)
	require.NoError(t, fixtures.KeysOutside(m, s.keys))
	for _, args := range [][]string{
		{"keygen", "--out", filepath.Join(dir, "analyst"), "--identity", "ana@lab.example"},
		{"analyze", s.ev, "--public-keys", s.keys, "--key", s.key, "--out", s.report, "--case", s.casePath},
	} {
		r := forensicWithin(t, args...)
		require.Equal(t, 0, r.code, "%v\n%s%s", args, r.stdout, r.stderr)
	}
	return s
}

// copyReport copies the report folder to a new one and returns it.
func copyReport(t *testing.T, s reportSet, name string) string {
	t.Helper()
	out := filepath.Join(s.dir, name)
	require.NoError(t, os.Mkdir(out, 0o755))
	ents, err := os.ReadDir(s.report)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(s.report, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, e.Name()), b, 0o644))
	}
	return out
}

func mkfifo(t *testing.T, p string) string {
	t.Helper()
	require.NoError(t, syscall.Mkfifo(p, 0o644))
	return p
}

func symlink(t *testing.T, target, p string) string {
	t.Helper()
	require.NoError(t, os.Symlink(target, p))
	return p
}

// Every file forensic reads that is not evidence — key files, signer
// keys, the case, every file of a report folder — is refused promptly
// when it is a named pipe, a device or (in a report folder) a symbolic
// link, with an error naming it; it is never opened for reading.
func TestNonRegularFilesAreRefused(t *testing.T) {
	s := newReportSet(t)
	dir := s.dir
	fifo := mkfifo(t, filepath.Join(dir, "pipe"))
	zero := symlink(t, "/dev/zero", filepath.Join(dir, "zero"))
	keysWithFifo := filepath.Join(dir, "keys-with-fifo")
	require.NoError(t, os.MkdirAll(keysWithFifo, 0o755))
	mkfifo(t, filepath.Join(keysWithFifo, "us-east-1.json"))
	keysWithLink := filepath.Join(dir, "keys-with-link")
	require.NoError(t, os.MkdirAll(keysWithLink, 0o755))
	symlink(t, "/dev/zero", filepath.Join(keysWithLink, "us-east-1.json"))
	// A case whose rollback journal is a named pipe.
	journalCase := filepath.Join(dir, "journal.db")
	b, err := os.ReadFile(s.casePath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(journalCase, b, 0o644))
	mkfifo(t, journalCase+"-journal")
	out := func(n string) string { return filepath.Join(dir, n) }

	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string // all in stderr
	}{
		{"verify --public-keys pipe", []string{"verify", "--case", s.casePath, "--public-keys", fifo}, 2, []string{fifo, "named pipe", "not a regular file"}},
		{"verify --public-keys link to /dev/zero", []string{"verify", "--case", s.casePath, "--public-keys", zero}, 2, []string{zero, "character device"}},
		{"verify --public-keys /dev/zero", []string{"verify", "--case", s.casePath, "--public-keys", "/dev/zero"}, 2, []string{"/dev/zero", "character device"}},
		{"verify --public-keys folder with a pipe", []string{"verify", "--case", s.casePath, "--public-keys", keysWithFifo}, 2, []string{filepath.Join(keysWithFifo, "us-east-1.json"), "named pipe"}},
		{"verify --public-keys folder with a link", []string{"verify", "--case", s.casePath, "--public-keys", keysWithLink}, 2, []string{filepath.Join(keysWithLink, "us-east-1.json"), "symbolic link to /dev/zero"}},
		{"analyze --public-keys pipe", []string{"analyze", s.ev, "--public-keys", fifo, "--key", s.key, "--out", out("a1")}, 2, []string{fifo, "named pipe"}},
		{"analyze --key pipe", []string{"analyze", s.ev, "--public-keys", s.keys, "--key", fifo, "--out", out("a2")}, 2, []string{fifo, "named pipe"}},
		{"report --key link to /dev/zero", []string{"report", "--case", s.casePath, "--key", zero, "--out", out("r1")}, 2, []string{zero, "character device"}},
		{"report --key pipe", []string{"report", "--case", s.casePath, "--key", fifo, "--out", out("r2")}, 2, []string{fifo, "named pipe"}},
		{"report verify --signer pipe", []string{"report", "verify", s.report, "--signer", fifo}, 2, []string{fifo, "named pipe"}},
		{"report verify --signer link to /dev/zero", []string{"report", "verify", s.report, "--signer", zero}, 2, []string{zero, "character device"}},
		{"report verify --rerun --public-keys pipe", []string{"report", "verify", s.report, "--signer", s.pub, "--evidence", s.ev, "--rerun", "--public-keys", fifo}, 2, []string{fifo, "named pipe"}},
		{"verify --case pipe", []string{"verify", "--case", fifo, "--public-keys", s.keys}, 2, []string{fifo, "named pipe"}},
		{"verify --case link to /dev/zero", []string{"verify", "--case", zero, "--public-keys", s.keys}, 2, []string{zero, "character device"}},
		{"report --case pipe", []string{"report", "--case", fifo, "--key", s.key, "--out", out("r3")}, 2, []string{fifo, "named pipe"}},
		{"ingest --case pipe", []string{"ingest", "--case", fifo, s.ev}, 1, []string{fifo, "named pipe"}},
		{"query --case pipe", []string{"query", "--case", fifo, "SELECT 1"}, 2, []string{fifo, "named pipe"}},
		{"timeline --case link to /dev/zero", []string{"timeline", "--case", zero, "--from", "2024-03-04T00:00Z", "--to", "2024-03-05T00:00Z"}, 2, []string{zero, "character device"}},
		{"custody verify --case pipe", []string{"custody", "verify", "--case", fifo}, 2, []string{fifo, "named pipe"}},
		{"verify, journal is a pipe", []string{"verify", "--case", journalCase, "--public-keys", s.keys}, 1, []string{journalCase + "-journal", "named pipe"}},
		{"query, journal is a pipe", []string{"query", "--case", journalCase, "SELECT 1"}, 2, []string{journalCase + "-journal", "named pipe"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := forensicWithin(t, tt.args...)
			assert.Equal(t, tt.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}

	// Inside a report folder: a named pipe, a device, a symbolic link is a
	// failed check naming the file; the rest of the folder is still
	// checked.
	for i, tt := range []struct {
		name   string
		file   string
		make   func(p string)
		signer bool
		want   []string // all in stdout
	}{
		{"report.html a link to /dev/zero", "report.html", func(p string) { symlink(t, "/dev/zero", p) }, true,
			[]string{"FAIL sha256 report.html", "report.html is a symbolic link to /dev/zero, not a regular file", "FAIL regular files only", "report.html (symbolic link)"}},
		{"VERIFY.txt a named pipe", "VERIFY.txt", func(p string) { mkfifo(t, p) }, true,
			[]string{"FAIL sha256 VERIFY.txt", "VERIFY.txt is a named pipe", "VERIFY.txt (named pipe)"}},
		{"SHA256SUMS a named pipe", "SHA256SUMS", func(p string) { mkfifo(t, p) }, true,
			[]string{"FAIL sha256sums", "SHA256SUMS is a named pipe"}},
		{"SHA256SUMS.sig a named pipe", "SHA256SUMS.sig", func(p string) { mkfifo(t, p) }, true,
			[]string{"FAIL signature SHA256SUMS.sig", "SHA256SUMS.sig is a named pipe", "PASS signature SHA256SUMS.sshsig"}},
		{"SHA256SUMS.sshsig a link to a copy", "SHA256SUMS.sshsig", func(p string) {
			b, err := os.ReadFile(filepath.Join(s.report, "SHA256SUMS.sshsig"))
			require.NoError(t, err)
			q := p + ".copy-outside"
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(q)), b, 0o644))
			symlink(t, filepath.Join(dir, filepath.Base(q)), p)
		}, true, []string{"FAIL signature SHA256SUMS.sshsig", "SHA256SUMS.sshsig is a symbolic link to"}},
		{"report.json a named pipe", "report.json", func(p string) { mkfifo(t, p) }, true,
			[]string{"FAIL sha256 report.json", "FAIL report.json", "report.json is a named pipe"}},
		{"signer.pub.pem a link to /dev/zero, not pinned", "signer.pub.pem", func(p string) { symlink(t, "/dev/zero", p) }, false,
			[]string{"FAIL signer key", "signer.pub.pem is a symbolic link to /dev/zero"}},
		{"an extra named pipe", "extra", func(p string) { mkfifo(t, p) }, true,
			[]string{"FAIL sha256sums complete", "FAIL regular files only", "extra (named pipe)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := copyReport(t, s, fmt.Sprintf("report-%d", i))
			p := filepath.Join(rd, tt.file)
			if _, err := os.Lstat(p); err == nil {
				require.NoError(t, os.Remove(p))
			}
			tt.make(p)
			args := []string{"report", "verify", rd}
			if tt.signer {
				args = append(args, "--signer", s.pub)
			}
			r := forensicWithin(t, args...)
			assert.Equal(t, 1, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stdout, w)
			}
			assert.Contains(t, r.stdout, "Result: the report does NOT verify.")
		})
	}

	// The untouched inputs still work.
	r := forensicWithin(t, "report", "verify", s.report, "--signer", s.pub, "--evidence", s.ev, "--rerun", "--public-keys", s.keys)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "PASS regular files only")
	assert.Contains(t, r.stdout, "Result: the report verifies: it is authentic and unchanged.")
	r = forensicWithin(t, "verify", "--case", s.casePath, "--public-keys", s.keys)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = forensicWithin(t, "query", "--case", s.casePath, "SELECT count(*) FROM evidence")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
}
