package verify

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/forensic-dev/forensic/store"
)

// The signatures verified ahead give what CheckSignature gives, for the
// true signature, for one with a byte changed, and for the true one in
// upper case with white space (the same bytes once decoded); a digest
// whose bytes differ is not answered from another digest's result.
func TestSigChecksAgreeWithCheckSignature(t *testing.T) {
	der, err := base64.StdEncoding.DecodeString(vecKey)
	require.NoError(t, err)
	a := &Anchor{PublicKey: store.PublicKey{DER: der, Fingerprint: "6d16b0ec7d6852afcea389b7e770030c"}, Pub: vecPub(t)}
	ta := &TrustAnchors{Keys: []*Anchor{a}, byFP: map[string][]*Anchor{a.Fingerprint: {a}}}

	bad := []byte(vecSig1)
	bad[10] ^= 1 // still hex: '7' <-> '6'
	good := &digestItem{d: vecParse(t, vecDigest1), metaSig: vecSig1}
	forged := &digestItem{d: vecParse(t, vecDigest1), metaSig: string(bad)}
	changed := &digestItem{d: vecParse(t, strings.Replace(vecDigest1, `"awsAccountId":"111122223333"`, `"awsAccountId":"111122223334"`, 1)),
		metaSig: vecSig1}
	spaced := "  " + strings.ToUpper(vecSig1) + "\n"

	var c sigChecks
	c.prefetch(ta, []*digestItem{good, forged, changed})
	require.Len(t, c.done, 3, "one check per digest and signature")
	for _, tc := range []struct {
		name string
		d    *digestItem
		sig  string
	}{{"true signature", good, vecSig1}, {"changed byte", forged, string(bad)}, {"changed digest", changed, vecSig1},
		{"upper case, spaced", good, spaced}, {"true signature, not fetched ahead", good, vecSig2}} {
		want := CheckSignature(a.Pub, tc.d.d, tc.sig) == nil
		assert.Equal(t, want, c.check(a, tc.d, tc.sig), tc.name)
	}
	assert.True(t, c.check(a, good, vecSig1))
	assert.False(t, c.check(a, forged, string(bad)))
	assert.False(t, c.check(a, changed, vecSig1))
	c.reset()
	assert.Empty(t, c.done)
}
