package verify

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/fixtures"
	"github.com/forensic-dev/forensic/internal/casetest"
)

// setMetaAlgorithm rewrites the signature-algorithm of a digest's saved
// head-object metadata; absent deletes it.
func setMetaAlgorithm(t *testing.T, path, value string, absent bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	md := doc["Metadata"].(map[string]any)
	if absent {
		delete(md, "signature-algorithm")
	} else {
		md["signature-algorithm"] = value
	}
	b, err = json.MarshalIndent(doc, "", "    ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// TestSignatureAlgorithmMustBeExact: any spelling of the metadata's
// signature-algorithm other than SHA256withRSA makes the digest
// signature_invalid, and its log files are then unverified and their
// events not verified, even though the RSA signature itself verifies.
func TestSignatureAlgorithmMustBeExact(t *testing.T) {
	for _, tt := range []struct {
		name   string
		value  string
		absent bool
	}{
		{"sha1", "SHA1withRSA", false},
		{"lowercase", "sha256withrsa", false},
		{"trailing-space", "SHA256withRSA ", false},
		{"empty", "", false},
		{"missing", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var target fixtures.DigestInfo
			c, m := setWith(t, small(), func(m *fixtures.Manifest) {
				target = m.Digests[2]
				setMetaAlgorithm(t, target.MetadataPath, tt.value, tt.absent)
			})
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			assertOneVerdictPerItem(t, c)
			want := map[string]string{"digest " + target.Key: StatusSignatureInvalid}
			for _, l := range target.Logs {
				want["log "+l] = StatusUnverified
			}
			assert.Equal(t, want, notValid(rep))
			for _, it := range rep.Items {
				if it.Kind == KindDigest && it.S3Key == target.Key {
					assert.Equal(t, false, det(it.Detail)["authentic"])
					assert.Equal(t, SignatureAlgorithm, det(it.Detail)["expected_signature_algorithm"])
					assert.NotEmpty(t, det(it.Detail)["reason"])
				}
			}
			var unverified int
			require.NoError(t, casetest.DB(t, c).QueryRow(`SELECT count(*) FROM ct_events_status s JOIN evidence e ON e.id = s.evidence_id
				WHERE s.verified = 0`).Scan(&unverified))
			assert.Equal(t, 3*small().EventsPerFile, unverified, "the events of the digest's three log files are not verified")
		})
	}
}

// TestSignatureAlgorithmExactPasses: the exact spelling, rewritten the
// same way, leaves the set valid.
func TestSignatureAlgorithmExactPasses(t *testing.T) {
	c, m := setWith(t, small(), func(m *fixtures.Manifest) {
		setMetaAlgorithm(t, m.Digests[2].MetadataPath, "SHA256withRSA", false)
	})
	rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
	assertOneVerdictPerItem(t, c)
	assert.Empty(t, notValid(rep))
}

// TestDigestSignatureAlgorithmMustBeExact: the digest's own
// digestSignatureAlgorithm (the digest re-signed, so its RSA signature
// verifies) is held to the same rule.
func TestDigestSignatureAlgorithmMustBeExact(t *testing.T) {
	for _, algo := range []string{"SHA1withRSA", "sha256withrsa", "SHA256withRSA ", ""} {
		t.Run(algo, func(t *testing.T) {
			t.Parallel()
			var target fixtures.DigestInfo
			c, m := setWith(t, small(), func(m *fixtures.Manifest) {
				target = m.Digests[2]
				_, err := m.SetDigestSignatureAlgorithm(2, algo)
				require.NoError(t, err)
			})
			rep := runVerify(t, c, Options{Anchors: anchors(t, m)})
			want := map[string]string{"digest " + target.Key: StatusSignatureInvalid}
			for _, l := range target.Logs {
				want["log "+l] = StatusUnverified
			}
			assert.Equal(t, want, notValid(rep))
			for _, it := range rep.Items {
				if it.S3Key == target.Key {
					assert.Equal(t, algo, det(it.Detail)["digest_signature_algorithm"])
					assert.Equal(t, true, det(it.Detail)["signature_verified"], "the RSA check itself passes: only the algorithm is wrong")
				}
			}
		})
	}
	// The field set to its right value the same way: all valid.
	c, m := setWith(t, small(), func(m *fixtures.Manifest) {
		_, err := m.SetDigestSignatureAlgorithm(2, "SHA256withRSA")
		require.NoError(t, err)
	})
	assert.Empty(t, notValid(runVerify(t, c, Options{Anchors: anchors(t, m)})))
}
