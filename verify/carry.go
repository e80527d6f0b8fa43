package verify

// A case merged from several (store.MergeCase, forensic report --case A
// --case B) is verified again as a whole, so that what spans the cases —
// unreferenced log files, access-log correlation, tail coverage, gap
// explanations from another region's events — is found over their union.
// Two things of the cases' own verifications are carried instead of
// recomputed:
//
//   - the trust anchors (AnchorsFromCase): the keys each case's last
//     verification trusted, as it recorded them, which every case must
//     share;
//   - the verdicts of object copies (Options.CarryObjects): they need the
//     objects' bytes, which the machine merging the cases need not have,
//     and nothing outside the objects and their metadata decides them.

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/cloudtrail"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// AnchorsFromCase rebuilds the trust anchors the case's last verification
// trusted from what it recorded (trust_anchor_files, trust_anchors). Each
// key is checked again: its fingerprint is the MD5 of its DER, and it is a
// usable RSA key; a key under MinKeyBits is trusted only when it is at
// least MinWeakKeyBits (the verification that recorded it had
// --allow-weak-keys), and the run's notes say so. nil when the case
// records no trust anchor.
func AnchorsFromCase(ctx context.Context, c *store.Case) (*TrustAnchors, error) {
	files, keys, err := c.TrustAnchors(ctx)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, nil
	}
	t := &TrustAnchors{byFP: map[string][]*Anchor{}}
	at := map[string]int{}
	for _, f := range files {
		at[f.Path+"\x00"+f.SHA256] = len(t.Files)
		t.Files = append(t.Files, store.AnchorFile{Path: f.Path, SHA256: f.SHA256, Size: f.Size})
	}
	for _, k := range keys {
		sum := md5.Sum(k.DER)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, k.Fingerprint) {
			return nil, fmt.Errorf("case %s: trust anchor %s: the MD5 of its DER is %s: the case's record of its trust anchors was edited", c.Path, k.Fingerprint, got)
		}
		pk := store.PublicKey{Fingerprint: k.Fingerprint, ListedFingerprint: k.ListedFingerprint, DER: k.DER,
			Encoding: k.Encoding, Bits: int(k.Bits), Region: k.Region}
		for _, v := range []struct {
			s string
			p **time.Time
		}{{k.ValidityStart, &pk.ValidityStart}, {k.ValidityEnd, &pk.ValidityEnd}} {
			if v.s == "" {
				continue
			}
			tm, err := time.Parse(time.RFC3339, v.s)
			if err != nil {
				return nil, fmt.Errorf("case %s: trust anchor %s: validity %q: %w", c.Path, k.Fingerprint, v.s, err)
			}
			*v.p = &tm
		}
		pub, err := cloudtrail.RSAPublicKey(pk)
		if err != nil {
			return nil, fmt.Errorf("case %s: trust anchor %s: %w", c.Path, k.Fingerprint, err)
		}
		if pub.N.BitLen() != int(k.Bits) {
			return nil, fmt.Errorf("case %s: trust anchor %s: recorded as %d bits, the key has %d", c.Path, k.Fingerprint, k.Bits, pub.N.BitLen())
		}
		if err := checkKeySize(pk, pub, AnchorOptions{AllowWeakKeys: true}); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Path, err)
		}
		i, ok := at[k.File+"\x00"+k.FileSHA256]
		if !ok {
			return nil, fmt.Errorf("case %s: trust anchor %s names a file the case does not record", c.Path, k.Fingerprint)
		}
		t.Files[i].Keys = append(t.Files[i].Keys, pk)
		t.add(&Anchor{PublicKey: pk, Pub: pub, File: k.File})
	}
	for _, f := range t.Files {
		if len(f.Keys) == 0 {
			return nil, fmt.Errorf("case %s: trust anchor file %s records no key", c.Path, f.Path)
		}
	}
	return t, nil
}

// carryObjects records, for every object copy, the verdict the case's
// last verification gave it (item_status rows of kind object, read as
// last committed through the scratch connection), and the findings that
// verification made of objects: conflicting metadata (conflict findings
// whose detail kind is object) and copies that could not be read or had
// changed (rehash findings naming an object copy's evidence).
func (r *run) carryObjects() error {
	err := r.x.EachCarriedItem(r.ctx, KindObject, func(it store.ItemStatus) error {
		if err := r.s.AddItem(r.ctx, it); err != nil {
			return err
		}
		r.sum.item(&Item{Kind: it.Kind, Status: it.Status})
		if r.opt.KeepItems {
			return r.keepCarried(it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.x.EachCarriedObjectFinding(r.ctx, func(f store.Finding) error {
		r.sum.finding(Finding{Type: f.Type, Severity: f.Severity})
		if err := r.s.QueueFinding(r.ctx, f, findingPhase[f.Type]); err != nil {
			return err
		}
		return nil
	})
}

// keepCarried adds a carried object verdict to the report's items
// (Options.KeepItems), decoded as the run made it.
func (r *run) keepCarried(it store.ItemStatus) error {
	d := &verdict.ObjectDetail{}
	if err := json.Unmarshal(it.Detail, d); err != nil {
		return fmt.Errorf("carried status of object %s: detail: %w", it.S3Key, err)
	}
	var checks []Check
	if len(it.Checks) > 0 {
		if err := json.Unmarshal(it.Checks, &checks); err != nil {
			return fmt.Errorf("carried status of object %s: checks: %w", it.S3Key, err)
		}
	}
	item := Item{Kind: it.Kind, S3Bucket: it.S3Bucket, S3Key: it.S3Key, Status: it.Status, Detail: d,
		EvidenceID: it.EvidenceID, Checks: checks}
	if it.EvidenceID != 0 {
		evs, err := r.x.EvidenceByIDs(r.ctx, []int64{it.EvidenceID})
		if err != nil {
			return err
		}
		if e := evs[it.EvidenceID]; e != nil {
			item.Path = displayPath(e)
		}
	}
	r.items = append(r.items, item)
	return nil
}
