package verify

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/forensic-dev/forensic/internal/lake"
	"github.com/forensic-dev/forensic/internal/verdict"
	"github.com/forensic-dev/forensic/store"
)

// CloudTrail Lake query results (internal/lake): every sign file and
// result file gets one status, and every file a sign file lists that the
// evidence lacks is a missing result file.
const (
	KindLakeSign   = verdict.KindLakeSign
	KindLakeResult = verdict.KindLakeResult
)

// Lake checks. A sign file: present, format, key_known, key_valid_at_time,
// signature (CheckFormat, CheckKeyKnown, CheckKeyValidAtTime, CheckSig);
// a result file: present, listed, content_hash, listed_by_valid_sign_file.
const CheckListedByValidSign = "listed_by_valid_sign_file"

// LakeSignOrder is the severity order of a Lake sign file's checks.
var LakeSignOrder = verdict.Order{Valid: StatusValid, Rules: []verdict.Rule{
	{Check: CheckPresent, Status: StatusMissing}, // always passes: a sign file is never inferred
	{Check: CheckFormat, Status: StatusFormatInvalid},
	{Check: CheckKeyKnown, Status: StatusKeyUnknown},
	{Check: CheckKeyValidAtTime, Status: StatusKeyNotValidAtTime},
	{Check: CheckSig, Status: StatusSignatureInvalid},
}}

// LakeResultOrder is the severity order of a Lake result file's checks: a
// hash that differs from its listing outranks a listing that is not
// signed validly.
var LakeResultOrder = verdict.Order{Valid: StatusValid, Rules: []verdict.Rule{
	{Check: CheckPresent, Status: StatusMissing},
	{Check: CheckListed, Status: StatusUnreferenced},
	{Check: CheckContentHash, Status: StatusHashMismatch},
	{Check: CheckListedByValidSign, Status: StatusUnverified},
}}

// lakeKeys are the trust anchors as internal/lake looks keys up.
type lakeKeys struct{ t *TrustAnchors }

func (k lakeKeys) ByFingerprint(fp string) []lake.Key {
	if k.t == nil {
		return nil
	}
	var out []lake.Key
	for _, a := range k.t.byFP[strings.ToLower(fp)] {
		if a.Pub == nil {
			continue
		}
		lk := lake.Key{Fingerprint: a.Fingerprint, Region: a.Region, Public: a.Pub, Source: a.File}
		if a.ValidityStart != nil {
			lk.ValidFrom = *a.ValidityStart
		}
		if a.ValidityEnd != nil {
			lk.ValidTo = *a.ValidityEnd
		}
		out = append(out, lk)
	}
	return out
}

// lake verifies the case's CloudTrail Lake files. The sign files' entries
// and the result files' names and hashes are held in memory while they
// are matched (linear in the Lake files, which are a few per query).
func (r *run) lake() error {
	evs, err := r.c.EvidenceOfKinds(r.ctx, store.KindLakeSign, store.KindLakeResult)
	if err != nil || len(evs) == 0 {
		return err
	}
	raw, err := r.c.LakeSigns(r.ctx)
	if err != nil {
		return err
	}
	var signs []lake.SignInput
	var results []lake.ResultInput
	var signEv, resultEv []*store.Evidence
	for i := range evs {
		e := &evs[i]
		p := displayPath(e)
		if e.Kind == store.KindLakeSign {
			data, ok := raw[e.ID]
			if !ok {
				data = []byte{} // not read at ingest (its error says why): format_invalid
			}
			signs = append(signs, lake.SignInput{Path: p, Data: data})
			signEv = append(signEv, e)
			continue
		}
		results = append(results, lake.ResultInput{Path: p, SHA256: e.SHA256, Size: e.Size})
		resultEv = append(resultEv, e)
	}
	svs, rvs, err := lake.Classify(signs, results, lakeKeys{r.anchors})
	if err != nil {
		return err
	}
	signKey := map[string]string{} // sign file path -> its S3 key
	for _, v := range svs {
		e := signEv[v.Input]
		signKey[v.Path] = e.S3Key
		it := lakeSignItem(e, v)
		if err := r.emit(&it); err != nil {
			return err
		}
	}
	for _, v := range rvs {
		var e *store.Evidence
		if v.Input >= 0 {
			e = resultEv[v.Input]
		}
		it := lakeResultItem(e, v, signKey[v.SignPath])
		if err := r.emit(&it); err != nil {
			return err
		}
	}
	return nil
}

func lakeSignItem(e *store.Evidence, v lake.SignVerdict) Item {
	d := &verdict.LakeSignDetail{Files: v.Files, Fingerprint: v.Fingerprint, Folder: path.Dir(v.Path),
		KeyRegion: v.KeyRegion, SignedStringSHA256: v.StringToSignSHA256}
	if sf := v.Sign; sf != nil {
		d.Region = sf.Region
		if !sf.QueryCompleteTime.IsZero() {
			d.QueryCompleteTime = sf.QueryCompleteTime.UTC().Format(time.RFC3339)
		}
	}
	if !v.WindowStart.IsZero() {
		d.KeyWindow = fmtTime(v.WindowStart) + " to " + fmtTime(v.WindowEnd)
	}
	var validities []string
	for _, k := range v.Keys {
		validities = append(validities, fmt.Sprintf("%s valid %s to %s (%s)", k.Fingerprint, orOpen(k.ValidFrom), orOpen(k.ValidTo), k.Source))
	}
	d.KeyValidity = strings.Join(validities, "; ")
	want := fmt.Sprintf("a trust anchor with fingerprint %s", v.Fingerprint)
	var cl checkList
	cl.pass(CheckPresent, "the sign file", displayPath(e))
	switch v.Status {
	case StatusFormatInvalid:
		cl.fail(CheckFormat, "a sign file: version, region, files, hashAlgorithm SHA-256, signatureAlgorithm SHA256withRSA, queryCompleteTime, hashSignature, publicKeyFingerprint", "not that", v.Reason)
	default:
		cl.pass(CheckFormat, "a well-formed sign file", fmt.Sprintf("%d files listed", v.Files))
		switch {
		case v.Status == StatusKeyUnknown:
			cl.fail(CheckKeyKnown, want, "none of the supplied keys", v.Reason)
		default:
			cl.pass(CheckKeyKnown, want, fmt.Sprintf("%d supplied", len(v.Keys)))
			window := "valid between " + d.KeyWindow
			if v.Status == StatusKeyNotValidAtTime {
				cl.fail(CheckKeyValidAtTime, window, d.KeyValidity, v.Reason)
			} else {
				cl.pass(CheckKeyValidAtTime, window, d.KeyValidity)
				sig := "an RSA PKCS#1 v1.5 SHA-256 signature over the hashes listed (string to sign SHA-256 " + v.StringToSignSHA256 + ")"
				if v.Status == StatusValid {
					cl.pass(CheckSig, sig, "verifies with key "+v.KeyFingerprint+" ("+v.KeySource+")")
				} else {
					cl.fail(CheckSig, sig, "does not verify with any supplied key of that fingerprint", v.Reason)
				}
			}
		}
	}
	d.Notes = v.Notes
	cl.decide(LakeSignOrder, d)
	if v.Reason != "" {
		d.Reason = v.Reason
	}
	return Item{Kind: KindLakeSign, S3Bucket: e.S3Bucket, S3Key: e.S3Key, Path: displayPath(e), Status: v.Status,
		Detail: d, EvidenceID: e.ID, Account: e.Account, Region: d.Region, Checks: cl}
}

func orOpen(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return fmtTime(t)
}

// lakeResultItem is the item of a result file (e nil: one a sign file
// lists that the evidence lacks). signKey is its sign file's S3 key.
func lakeResultItem(e *store.Evidence, v lake.ResultVerdict, signKey string) Item {
	d := &verdict.LakeResultDetail{FileName: v.FileName, Folder: path.Dir(v.Path), MatchedBy: v.MatchedBy, SignFile: v.SignPath}
	if v.SignPath != "" {
		ok := v.SignStatus == StatusValid
		d.SignValid = &ok
	}
	if v.WantSHA256 != "" {
		w := v.WantSHA256
		d.Expected = &w
	}
	if v.GotSHA256 != "" {
		g := v.GotSHA256
		d.SHA256 = &g
	}
	it := Item{Kind: KindLakeResult, Status: v.Status, Detail: d}
	if e != nil {
		it.S3Bucket, it.S3Key, it.Path, it.EvidenceID, it.Account = e.S3Bucket, e.S3Key, displayPath(e), e.ID, e.Account
		if d.FileName == "" {
			d.FileName = path.Base(v.Path)
		}
	} else if signKey != "" {
		it.S3Key = path.Dir(signKey) + "/" + v.FileName
	} else {
		it.S3Key = v.Path
	}
	var cl checkList
	if e == nil {
		d.Reason = v.Reason
		_, cl = missingChecks(LakeResultOrder, "the file "+v.FileName+" sign file "+v.SignPath+" lists (SHA-256 "+v.WantSHA256+")", d)
		it.Checks = cl
		return it
	}
	cl.pass(CheckPresent, "the file", displayPath(e))
	if v.SignPath == "" {
		cl.fail(CheckListed, "a sign file listing it by name in its folder, or by its SHA-256", "none", v.Reason)
	} else {
		cl.pass(CheckListed, "a sign file listing it", fmt.Sprintf("files[%d] %s of %s (matched by %s)", v.Entry, v.FileName, v.SignPath, v.MatchedBy))
		if v.Status == StatusHashMismatch {
			cl.fail(CheckContentHash, v.WantSHA256, v.GotSHA256, v.Reason)
		} else {
			cl.pass(CheckContentHash, v.WantSHA256, v.GotSHA256)
			if v.Status == StatusUnverified {
				cl.fail(CheckListedByValidSign, "a sign file whose signature verifies", v.SignPath+" is "+v.SignStatus, v.Reason)
			} else {
				cl.pass(CheckListedByValidSign, "a sign file whose signature verifies", v.SignPath)
			}
		}
	}
	cl.decide(LakeResultOrder, d)
	if v.Reason != "" {
		d.Reason = v.Reason
	} else if v.Note != "" {
		d.Notes = []string{v.Note}
	}
	it.Checks = cl
	return it
}
