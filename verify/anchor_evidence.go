package verify

import (
	"fmt"
	"strings"

	"github.com/forensic-dev/forensic/internal/location"
	"github.com/forensic-dev/forensic/store"
)

// FindingTrustAnchorInEvidence is a trust-anchor file that is also part of
// the evidence: byte-identical to an ingested item, or lying inside a
// folder that was ingested. Whoever can alter the evidence can then plant
// a key of their own and sign forged digests with it, and they verify.
const FindingTrustAnchorInEvidence = "trust_anchor_in_evidence"

// maxAnchorMatches bounds the evidence items one finding lists.
const maxAnchorMatches = 10

// anchorsInEvidence adds a FindingTrustAnchorInEvidence (severity
// warning) for every trust-anchor file whose SHA-256 is that of an
// evidence item (as received, or its decompressed content), or whose path
// lies inside an ingested folder or is an ingested file (symbolic links
// resolved on both sides), and returns one summary note per such file.
func (r *run) anchorsInEvidence() ([]string, error) {
	if r.anchors == nil || len(r.anchors.Files) == 0 {
		return nil, nil
	}
	var shas []string
	for _, f := range r.anchors.Files {
		shas = append(shas, strings.ToLower(f.SHA256))
	}
	same, err := r.c.EvidenceWithSHA256(r.ctx, shas)
	if err != nil {
		return nil, err
	}
	sources, err := r.c.EvidenceOfKinds(r.ctx, store.KindSource)
	if err != nil {
		return nil, err
	}
	var notes []string
	for _, f := range r.anchors.Files {
		sha := strings.ToLower(f.SHA256)
		var items []map[string]any
		n := 0
		for i := range same {
			e := &same[i]
			if e.SHA256 != sha && e.ContentSHA256 != sha {
				continue
			}
			n++
			if len(items) < maxAnchorMatches {
				items = append(items, map[string]any{"evidence_id": e.ID, "path": displayPath(e), "kind": e.Kind,
					"sha256": e.SHA256})
			}
		}
		inside := ""
		for i := range sources {
			if location.Within(f.Path, sources[i].Path) {
				inside = sources[i].Path
				break
			}
		}
		if n == 0 && inside == "" {
			continue
		}
		var fps []string
		for _, k := range f.Keys {
			fps = append(fps, k.Fingerprint)
		}
		det := map[string]any{"anchor_file": f.Path, "anchor_sha256": f.SHA256, "anchor_fingerprints": fps,
			"expected": "trust anchors obtained independently of the evidence (aws cloudtrail list-public-keys, kept outside the evidence export)"}
		var why []string
		if n > 0 {
			det["same_sha256_evidence"] = items
			det["same_sha256_count"] = n
			why = append(why, fmt.Sprintf("it is byte-identical to evidence item %s", items[0]["path"]))
			if n > 1 {
				why[0] += fmt.Sprintf(" (and %d more)", n-1)
			}
		}
		if inside != "" {
			det["inside_source"] = inside
			why = append(why, "it lies inside the ingested evidence "+inside)
		}
		det["found"] = strings.Join(why, "; ")
		summary := fmt.Sprintf("trust anchor %s is part of the evidence: %s. A key taken from the evidence is only as trustworthy as the evidence: "+
			"whoever could alter the evidence could have planted their own key and signed forged digests with it. "+
			"Verify against keys fetched from AWS independently (if this file was, being identical to the exported copy is expected)",
			f.Path, strings.Join(why, "; "))
		r.addFinding(Finding{Type: FindingTrustAnchorInEvidence, Severity: SeverityWarning,
			Summary: summary, Detail: det})
		notes = append(notes, fmt.Sprintf("WARNING: trust anchor %s is part of the evidence (finding %s): "+
			"its keys prove nothing against whoever could alter the evidence", f.Path, FindingTrustAnchorInEvidence))
	}
	return notes, nil
}
