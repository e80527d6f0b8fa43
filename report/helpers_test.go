package report

import (
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/ingest"
	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
	"github.com/stretchr/testify/require"
)

// testKey is a fixed Ed25519 key (seed 0x01 0x02 ...) so reports are
// reproducible.
func testKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return ed25519.NewKeyFromSeed(seed)
}

var testSignedAt = time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)

func testBuildOptions(out string) BuildOptions {
	return BuildOptions{Out: out, Key: testKey(), Identity: "analyst@lab.example", Operator: "analyst", Host: "lab-host",
		SignedAt: testSignedAt, Tool: Tool{Name: "forensic", Version: "test", Revision: "0000000"},
		Command: []string{"report", "--case", "case.db"}}
}

// verifyCase verifies the case at casePath with keys, as forensic verify
// does; it is the re-run function the tests give Verify.
func verifyCase(ctx context.Context, casePath string, keys []string) error {
	_, err := verify.RunCase(ctx, casePath, keys)
	return err
}

// fixtureCase generates evidence with opt, applies tamperings, moves the
// fixture's keys out of the evidence (trust anchors are fetched apart from
// the export), ingests it and verifies it with those keys. It returns the
// open case, the evidence root and the key folder.
func fixtureCase(t *testing.T, opt fixtures.Options, tamper ...fixtures.Tampering) (*store.Case, string, string) {
	t.Helper()
	return fixtureCaseChanged(t, opt, func(m *fixtures.Manifest) {
		for _, tp := range tamper {
			_, err := fixtures.Tamper(m, tp)
			require.NoError(t, err)
		}
	})
}

// fixtureCaseWith is fixtureCase with a change of the test's own.
func fixtureCaseWith(t *testing.T, opt fixtures.Options, change func(m *fixtures.Manifest)) *store.Case {
	t.Helper()
	c, _, _ := fixtureCaseChanged(t, opt, change)
	return c
}

func fixtureCaseChanged(t *testing.T, opt fixtures.Options, change func(m *fixtures.Manifest)) (*store.Case, string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	m, err := fixtures.Generate(ev, opt)
	require.NoError(t, err)
	change(m)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, fixtures.KeysOutside(m, keys))
	casePath := filepath.Join(dir, "case.db")
	c, err := store.Open(ctx, casePath)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.Now = func() time.Time { return testSignedAt.Add(-time.Hour) }
	sum, err := ingest.Run(ctx, c, []string{ev}, ingest.Options{Workers: 1})
	require.NoError(t, err)
	require.Empty(t, sum.Errors)
	recordIngest(t, c, sum.Added)
	a, err := verify.LoadTrustAnchors([]string{keys})
	require.NoError(t, err)
	rep, err := verify.Run(ctx, c, verify.Options{Anchors: a})
	require.NoError(t, err)
	recordVerify(t, c, rep)
	return c, ev, keys
}

// needTool skips when an external tool is missing (CI installs them).
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// verifyCaseIngest ingests ev into c and verifies it with ev/keys.
func verifyCaseIngest(ctx context.Context, c *store.Case, ev string) error {
	sum, err := ingest.Run(ctx, c, []string{ev}, ingest.Options{Workers: 1})
	if err != nil {
		return err
	}
	_ = sum
	a, err := verify.LoadTrustAnchors([]string{filepath.Join(ev, "keys")})
	if err != nil {
		return err
	}
	_, err = verify.Run(ctx, c, verify.Options{Anchors: a})
	return err
}
