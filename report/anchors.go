package report

import (
	"fmt"
	"strings"

	"github.com/forensic-dev/forensic/verify"
)

// anchorCautions are what the report says about the trust anchors the
// verification used: keys under verify.MinKeyBits (trusted only with
// --allow-weak-keys; the case keeps each key's size in trust_anchors.bits)
// and trust-anchor files that were part of the evidence (the
// trust_anchor_in_evidence findings). It returns the limitations to add
// and a sentence for the verdict ("" when there is nothing to say).
func anchorCautions(a *anchors, findings []Finding) (limits []string, verdict string) {
	var weak []string
	seen := map[string]bool{}
	for _, k := range a.keys {
		if k.Bits <= 0 || k.Bits >= verify.MinKeyBits || seen[k.Fingerprint] {
			continue
		}
		seen[k.Fingerprint] = true
		weak = append(weak, fmt.Sprintf("%s (%d-bit RSA, from %s)", k.Fingerprint, k.Bits, k.File))
	}
	var planted []string
	for _, f := range findings {
		if f.Type == verify.FindingTrustAnchorInEvidence {
			planted = append(planted, f.Summary)
		}
	}
	var says []string
	if len(weak) > 0 {
		limits = append(limits, fmt.Sprintf("Weak trust anchors: %s %s under the %d bits CloudTrail signs with, and %s trusted only because the verification was run with --allow-weak-keys. "+
			"A signature such a key verifies is weaker proof: 512- and 768-bit RSA keys have been factored publicly, and 1024 bits is within reach of a well-funded attacker.",
			strings.Join(weak, ", "), plural(len(weak), "is", "are"), verify.MinKeyBits, plural(len(weak), "was", "were")))
		says = append(says, "weak trust anchors")
	}
	if len(planted) > 0 {
		limits = append(limits, fmt.Sprintf("Trust anchors taken from the evidence: %d trust-anchor %s also part of the evidence (findings %s). "+
			"A key from the evidence is only as trustworthy as the evidence: whoever could alter the evidence could have planted a key and signed forged digests with it. "+
			"Re-check with keys fetched from AWS independently (forensic report verify --rerun --public-keys).",
			len(planted), plural(len(planted), "file was", "files were"), verify.FindingTrustAnchorInEvidence))
		says = append(says, "trust anchors taken from the evidence")
	}
	if len(says) > 0 {
		verdict = "Caution: the verification used " + strings.Join(says, " and ") + " (see the limitations)."
	}
	return limits, verdict
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
