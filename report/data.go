package report

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/forensic-dev/forensic/store"
	"github.com/forensic-dev/forensic/verify"
)

// Reading the case, through the typed reads of store (store/reportdata.go),
// into the rows of report.json (schema.go).

// jsonText is the report.json value of a column holding JSON text: the
// JSON itself, or the text as a JSON string when it is not JSON; null
// for NULL.
func jsonText(s *string) json.RawMessage {
	switch {
	case s == nil:
		return json.RawMessage("null")
	case *s != "" && json.Valid([]byte(*s)):
		return json.RawMessage(*s)
	}
	b, _ := json.Marshal(*s) // a string always marshals
	return b
}

// emptyNil is nil for "", else a pointer to s.
func emptyNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref is *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// evidenceItem is the report form of an evidence row and its events.
func evidenceItem(e store.EvidenceRecord, ev store.EventsSum) EvidenceItem {
	it := EvidenceItem{ID: e.ID, Source: e.Source, Path: e.Path, Member: e.Member, Size: e.Size, SHA256: e.SHA256,
		ContentSHA256: e.ContentSHA256, ContentSize: e.ContentSize, GzipTrailing: e.GzipTrailing,
		Compression: e.Compression, Kind: e.Kind, Format: e.Format, S3Bucket: e.S3Bucket, S3Key: e.S3Key,
		Account: e.Account, OrgID: e.OrgID, Region: e.Region, Trail: e.Trail, Backfill: e.Backfill, Mode: e.Mode,
		LinkTarget: e.LinkTarget, MTime: e.MTime, RecordCount: e.RecordCount, Error: e.Error, IngestedAt: e.IngestedAt,
		Status: e.Status, StatusKind: e.StatusKind, MemberPath: e.MemberPath, MemberIndex: e.MemberIndex,
		EventCount: &ev.Count, EventsSHA256: emptyNil(ev.SHA256)}
	if e.EventsFilter != nil {
		// Not every record indexed: which were (absent: all of them).
		it.EventsFilter, it.RecordsSeen, it.RecordsIndexed = e.EventsFilter, optionalInt(e.RecordsSeen), optionalInt(e.RecordsIndexed)
	}
	return it
}

// itemStatus is the report form of an item_status row.
func itemStatus(s store.StatusRecord) ItemStatus {
	return ItemStatus{Kind: s.Kind, S3Bucket: s.S3Bucket, S3Key: s.S3Key, EvidenceID: s.EvidenceID, Status: s.Status,
		Detail: jsonText(s.Detail), Account: s.Account, Region: s.Region, Trail: s.Trail, Checks: jsonText(s.Checks),
		EvidencePath: s.EvidencePath, EvidenceMember: s.EvidenceMember, EvidenceSHA256: s.EvidenceSHA256}
}

// custodyEntry is the report form of a custody entry: inputs and outputs
// are kept as the JSON text stored in the case, so the entry hash can be
// recomputed from the report (store.EntryHash).
func custodyEntry(e store.CustodyEntry) CustodyEntry {
	return CustodyEntry{Seq: e.Seq, Time: e.Time, Operator: e.Operator, Host: e.Host, Tool: e.Tool,
		Command: e.Command, Args: e.Args, Inputs: string(e.Inputs), Outputs: string(e.Outputs),
		PrevHash: e.PrevHash, Hash: e.Hash}
}

// anchorKey is one trust anchor (a supplied CloudTrail public key).
type anchorKey struct {
	File        string
	FileSHA256  string
	Fingerprint string
	Listed      string
	DER         []byte
	Encoding    string
	Bits        int64
	Start, End  string
	Region      string
}

func (k *anchorKey) pub() (*rsa.PublicKey, error) {
	if k.Encoding == "pkcs1" {
		return x509.ParsePKCS1PublicKey(k.DER)
	}
	p, err := x509.ParsePKIXPublicKey(k.DER)
	if err != nil {
		return nil, err
	}
	r, ok := p.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, want RSA", p)
	}
	return r, nil
}

// opensslKeyCommand converts key.der to key.pem.
func (k *anchorKey) opensslKeyCommand(der, pem string) string {
	if k.Encoding == "pkcs1" {
		return "openssl rsa -pubin -inform DER -RSAPublicKey_in -in " + der + " -pubout -out " + pem
	}
	return "openssl pkey -pubin -inform DER -in " + der + " -out " + pem
}

type anchors struct {
	files []TrustAnchorFile
	keys  []*anchorKey
}

func readAnchors(ctx context.Context, c *store.Case) (*anchors, error) {
	files, keys, err := c.TrustAnchors(ctx)
	if err != nil {
		return nil, err
	}
	a := &anchors{files: []TrustAnchorFile{}}
	for _, f := range files {
		a.files = append(a.files, TrustAnchorFile{Path: f.Path, SHA256: f.SHA256, Size: f.Size, Keys: f.Keys})
	}
	for _, k := range keys {
		a.keys = append(a.keys, &anchorKey{File: k.File, FileSHA256: k.FileSHA256, Fingerprint: k.Fingerprint,
			Listed: k.ListedFingerprint, DER: k.DER, Encoding: k.Encoding, Bits: k.Bits, Start: k.ValidityStart,
			End: k.ValidityEnd, Region: k.Region})
	}
	return a, nil
}

// trustAnchorKeys is the report form of the keys.
func (a *anchors) trustAnchorKeys() []TrustAnchorKey {
	out := []TrustAnchorKey{}
	for _, k := range a.keys {
		sum := sha256.Sum256(k.DER)
		out = append(out, TrustAnchorKey{File: k.File, FileSHA256: k.FileSHA256, Fingerprint: k.Fingerprint,
			DERBase64: base64.StdEncoding.EncodeToString(k.DER), DERSHA256: hex.EncodeToString(sum[:]),
			Encoding: k.Encoding, Bits: k.Bits, ValidityStart: emptyNil(k.Start), ValidityEnd: emptyNil(k.End),
			Region: emptyNil(k.Region), ListedFingerprint: emptyNil(k.Listed),
			OpenSSLCommands: []string{
				"echo " + base64.StdEncoding.EncodeToString(k.DER) + " | openssl base64 -d -A > key-" + k.Fingerprint + ".der",
				k.opensslKeyCommand("key-"+k.Fingerprint+".der", "key-"+k.Fingerprint+".pem"),
			}})
	}
	return out
}

// readFindings reads every finding of the given types (none: all), in
// the order verify recorded them.
func readFindings(ctx context.Context, c *store.Case, types ...string) ([]Finding, error) {
	rows, err := c.FindingRecords(ctx, types...)
	if err != nil {
		return nil, err
	}
	out := []Finding{}
	for _, f := range rows {
		out = append(out, Finding{Type: f.Type, Summary: f.Summary, Detail: jsonText(f.Detail), Severity: f.Severity,
			Chain: f.Chain, StartTime: f.StartTime, EndTime: f.EndTime})
	}
	return out, nil
}

// sortFindings sorts findings by type, severity, chain, time span and
// summary (report.json's order).
func sortFindings(out []Finding) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		for _, k := range [][2]string{{a.Type, b.Type}, {a.Severity, b.Severity}, {deref(a.Chain), deref(b.Chain)},
			{deref(a.StartTime), deref(b.StartTime)}, {deref(a.EndTime), deref(b.EndTime)}, {a.Summary, b.Summary}} {
			if k[0] != k[1] {
				return k[0] < k[1]
			}
		}
		return false
	})
}

// statusCounts counts item_status rows by kind and status.
type statusCounts map[string]map[string]int64

// total counts the items verify judged, and the valid ones. Files no
// digest covers by design (not_covered) are left out: they are neither
// proven nor a problem, and the report states them as a limitation.
func (sc statusCounts) total() (total, valid int64) {
	for _, m := range sc {
		for s, n := range m {
			if s == "not_covered" {
				continue
			}
			total += n
			if s == "valid" {
				valid += n
			}
		}
	}
	return
}

// checkDigestSignature verifies a hex CloudTrail signature of d with the
// trust anchor k, through verify's one implementation of the string to
// sign and the RSA check.
func checkDigestSignature(k *anchorKey, d *store.Digest, sigHex string) bool {
	pub, err := k.pub()
	if err != nil {
		return false
	}
	return verify.CheckSignature(pub, d, sigHex) == nil
}
