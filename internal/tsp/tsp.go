// Package tsp writes RFC 3161 time-stamp requests and checks the
// responses of a time-stamping authority (TSA), with encoding/asn1 and
// crypto/x509 only: a TimeStampReq over a SHA-256 digest (with a nonce,
// certReq true), and a TimeStampResp whose token is CMS SignedData
// (RFC 5652) over a TSTInfo. Verify checks, and names in its error what
// failed:
//
//   - the response status (granted or grantedWithMods);
//   - the token's content type (id-ct-TSTInfo) and the TSTInfo's message
//     imprint (SHA-256 of the data the caller gives) and nonce;
//   - the signer's certificate (among those the token carries, by issuer
//     and serial or subject key id), its extended key usage
//     (timeStamping), the ESS signing-certificate attribute that binds it
//     (v1 SHA-1 or v2), the signed attributes' content type and message
//     digest, and the signature over them (RSA PKCS #1 v1.5 or ECDSA, with
//     SHA-256, SHA-384 or SHA-512);
//   - with roots, the chain from the signer to one of them, validated at
//     the token's genTime, so that a timestamp still verifies after the
//     TSA's certificate has expired (the token keeps the certificates).
//
// A response is outside data: every length is bounded (MaxResponse) and
// the parsers are fuzzed.
package tsp

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// MaxResponse bounds a response read into memory: a token with its
// certificate chain is a few KiB.
const MaxResponse = 1 << 20

var (
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCert   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional"`
	Extensions     asn1.RawValue         `asn1:"optional,tag:0"`
}

// Request is a parsed TimeStampReq.
type Request struct {
	Digest []byte   // SHA-256 of the data
	Nonce  *big.Int // nil when the request has none
}

// NewRequest is a DER TimeStampReq for the SHA-256 digest, with a random
// 64-bit nonce and certReq true (the TSA puts its certificate in the
// token).
func NewRequest(digest []byte) ([]byte, *Request, error) {
	if len(digest) != sha256.Size {
		return nil, nil, fmt.Errorf("a SHA-256 digest is %d bytes, not %d", sha256.Size, len(digest))
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, nil, err
	}
	b[0] &= 0x7f // positive, and
	b[0] |= 0x40 // 63 bits long
	nonce := new(big.Int).SetBytes(b)
	der, err := asn1.Marshal(timeStampReq{Version: 1, MessageImprint: messageImprint{
		HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}, HashedMessage: digest},
		Nonce: nonce, CertReq: true})
	if err != nil {
		return nil, nil, err
	}
	return der, &Request{Digest: append([]byte(nil), digest...), Nonce: nonce}, nil
}

// ParseRequest reads a DER TimeStampReq over a SHA-256 digest.
func ParseRequest(der []byte) (*Request, error) {
	var q timeStampReq
	rest, err := asn1.Unmarshal(der, &q)
	if err != nil {
		return nil, fmt.Errorf("not a time-stamp request: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("not a time-stamp request: bytes after it")
	}
	if q.Version != 1 {
		return nil, fmt.Errorf("time-stamp request version %d, not 1", q.Version)
	}
	if !q.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) || len(q.MessageImprint.HashedMessage) != sha256.Size {
		return nil, errors.New("the time-stamp request is not over a SHA-256 digest")
	}
	return &Request{Digest: q.MessageImprint.HashedMessage, Nonce: q.Nonce}, nil
}

type pkiStatusInfo struct {
	Status       int
	StatusString asn1.RawValue  `asn1:"optional"`
	FailInfo     asn1.BitString `asn1:"optional"`
}

type timeStampResp struct {
	Status         pkiStatusInfo
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Accuracy       asn1.RawValue `asn1:"optional"`
	Ordering       bool          `asn1:"optional"`
	Nonce          *big.Int      `asn1:"optional"`
	TSA            asn1.RawValue `asn1:"optional,explicit,tag:0"`
	Extensions     asn1.RawValue `asn1:"optional,tag:1"`
}

// Token is what a verified time stamp says.
type Token struct {
	GenTime      time.Time `json:"gen_time"`
	SerialNumber string    `json:"serial_number"`
	Policy       string    `json:"policy"`
	TSA          string    `json:"tsa"`    // the signer's subject
	Issuer       string    `json:"issuer"` // its issuer
	// Chained says the signer's certificate chains to one of the roots
	// Verify was given, at GenTime.
	Chained bool `json:"chained"`
}

// Verify checks the DER TimeStampResp resp for the SHA-256 digest and,
// when nonce is not nil, that nonce; with roots, also the chain of the
// TSA's certificate to them at the token's time.
func Verify(resp, digest []byte, nonce *big.Int, roots *x509.CertPool) (*Token, error) {
	if len(resp) > MaxResponse {
		return nil, fmt.Errorf("larger than %d bytes: not a time-stamp response", MaxResponse)
	}
	var r timeStampResp
	rest, err := asn1.Unmarshal(resp, &r)
	if err != nil {
		return nil, fmt.Errorf("not a time-stamp response: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("not a time-stamp response: bytes after it")
	}
	if r.Status.Status != 0 && r.Status.Status != 1 {
		return nil, fmt.Errorf("the TSA refused the request: status %d (%s)", r.Status.Status, failText(r.Status.FailInfo))
	}
	if len(r.TimeStampToken.FullBytes) == 0 {
		return nil, errors.New("the response holds no time-stamp token")
	}
	return VerifyToken(r.TimeStampToken.FullBytes, digest, nonce, roots)
}

func failText(b asn1.BitString) string {
	names := []string{"badAlg", "", "badRequest", "", "", "badDataFormat", "", "", "", "", "", "", "", "", "timeNotAvailable",
		"unacceptedPolicy", "unacceptedExtension", "addInfoNotAvailable", "", "", "", "", "", "", "", "systemFailure"}
	for i, n := range names {
		if n != "" && b.At(i) == 1 {
			return n
		}
	}
	return "no reason given"
}

// VerifyToken is Verify of a bare TimeStampToken (CMS ContentInfo).
func VerifyToken(token, digest []byte, nonce *big.Int, roots *x509.CertPool) (*Token, error) {
	var ci contentInfo
	if _, err := asn1.Unmarshal(token, &ci); err != nil {
		return nil, fmt.Errorf("the token is not CMS: %w", err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("the token is %v, not CMS SignedData", ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("the token's SignedData: %w", err)
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("the token's content is %v, not TSTInfo", sd.EncapContentInfo.EContentType)
	}
	var content []byte
	if _, err := asn1.Unmarshal(sd.EncapContentInfo.EContent.Bytes, &content); err != nil {
		return nil, fmt.Errorf("the token's TSTInfo: %w", err)
	}
	var info tstInfo
	if rest, err := asn1.Unmarshal(content, &info); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("the token's TSTInfo: %v", err)
	}
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) {
		return nil, fmt.Errorf("the token's imprint is of %v, not SHA-256", info.MessageImprint.HashAlgorithm.Algorithm)
	}
	if !bytes.Equal(info.MessageImprint.HashedMessage, digest) {
		return nil, fmt.Errorf("the token's imprint is %x, not the SHA-256 %x of the data: it time-stamps other bytes", info.MessageImprint.HashedMessage, digest)
	}
	if nonce != nil && (info.Nonce == nil || info.Nonce.Cmp(nonce) != 0) {
		return nil, fmt.Errorf("the token's nonce is %v, the request's %v: it answers another request", info.Nonce, nonce)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("the token has %d signers, not 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the token's certificates: %w", err)
	}
	signer, err := findSigner(si.SID, certs)
	if err != nil {
		return nil, err
	}
	if err := checkSignedAttrs(si, signer, content); err != nil {
		return nil, err
	}
	tsa := false
	for _, u := range signer.ExtKeyUsage {
		tsa = tsa || u == x509.ExtKeyUsageTimeStamping
	}
	if !tsa {
		return nil, fmt.Errorf("the signer %s is not a time-stamping certificate (no timeStamping extended key usage)", signer.Subject)
	}
	t := &Token{GenTime: info.GenTime.UTC(), SerialNumber: info.SerialNumber.String(), Policy: info.Policy.String(),
		TSA: signer.Subject.String(), Issuer: signer.Issuer.String()}
	if roots != nil {
		inter := x509.NewCertPool()
		for _, c := range certs {
			if c != signer {
				inter.AddCert(c)
			}
		}
		if _, err := signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: t.GenTime,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			return nil, fmt.Errorf("the TSA's certificate %s does not chain to the trusted certificates at %s: %w", signer.Subject, t.GenTime.Format(time.RFC3339), err)
		}
		t.Chained = true
	}
	return t, nil
}

func findSigner(sid asn1.RawValue, certs []*x509.Certificate) (*x509.Certificate, error) {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
			return nil, fmt.Errorf("the token's signer id: %w", err)
		}
		for _, c := range certs {
			if c.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) {
				return c, nil
			}
		}
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c, nil
			}
		}
	default:
		return nil, errors.New("the token's signer id is neither issuer and serial nor a subject key id")
	}
	return nil, errors.New("the token does not carry its signer's certificate (the request asks for it: certReq)")
}

// hashes are the digest algorithms a signature may use.
var hashes = map[string]crypto.Hash{oidSHA256.String(): crypto.SHA256, oidSHA384.String(): crypto.SHA384, oidSHA512.String(): crypto.SHA512}

func checkSignedAttrs(si signerInfo, signer *x509.Certificate, content []byte) error {
	h, ok := hashes[si.DigestAlgorithm.Algorithm.String()]
	if !ok {
		return fmt.Errorf("the token's digest algorithm %v is not SHA-256, SHA-384 or SHA-512", si.DigestAlgorithm.Algorithm)
	}
	if len(si.SignedAttrs.FullBytes) == 0 {
		return errors.New("the token's signer has no signed attributes")
	}
	// What is signed is the attributes' DER with the SET tag, not [0].
	signed := append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	var attrs []attribute
	if _, err := asn1.UnmarshalWithParams(signed, &attrs, "set"); err != nil {
		return fmt.Errorf("the token's signed attributes: %w", err)
	}
	var gotType, gotDigest, gotCert bool
	for _, a := range attrs {
		switch {
		case a.Type.Equal(oidContentType):
			var ct asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(a.Values.Bytes, &ct); err != nil || !ct.Equal(oidTSTInfo) {
				return errors.New("the token's signed content-type attribute is not TSTInfo")
			}
			gotType = true
		case a.Type.Equal(oidMessageDigest):
			var md []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &md); err != nil {
				return fmt.Errorf("the token's message-digest attribute: %w", err)
			}
			d := h.New()
			d.Write(content)
			if !bytes.Equal(md, d.Sum(nil)) {
				return errors.New("the token's message-digest attribute is not the digest of its TSTInfo: the TSTInfo was changed")
			}
			gotDigest = true
		case a.Type.Equal(oidSigningCertV2), a.Type.Equal(oidSigningCert):
			if err := checkSigningCert(a, signer); err != nil {
				return err
			}
			gotCert = true
		}
	}
	switch {
	case !gotType:
		return errors.New("the token's signed attributes lack the content type")
	case !gotDigest:
		return errors.New("the token's signed attributes lack the message digest")
	case !gotCert:
		return errors.New("the token's signed attributes do not name the signer's certificate (ESS signing-certificate)")
	}
	var alg x509.SignatureAlgorithm
	switch signer.PublicKeyAlgorithm {
	case x509.RSA:
		alg = map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA256: x509.SHA256WithRSA, crypto.SHA384: x509.SHA384WithRSA, crypto.SHA512: x509.SHA512WithRSA}[h]
	case x509.ECDSA:
		alg = map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA256: x509.ECDSAWithSHA256, crypto.SHA384: x509.ECDSAWithSHA384, crypto.SHA512: x509.ECDSAWithSHA512}[h]
	default:
		return fmt.Errorf("the TSA's key is %v: only RSA and ECDSA are checked", signer.PublicKeyAlgorithm)
	}
	if sa := si.SignatureAlgorithm.Algorithm; !sa.Equal(oidRSA) && !sa.Equal(oidECPublicKey) {
		// A combined algorithm (sha256WithRSAEncryption, ecdsa-with-SHA256)
		// must agree with the digest algorithm; CheckSignature checks the
		// key type.
		if want := sigOID[alg]; want == nil || !sa.Equal(want) {
			return fmt.Errorf("the token's signature algorithm %v does not match its digest algorithm and key", sa)
		}
	}
	if err := signer.CheckSignature(alg, signed, si.Signature); err != nil {
		return fmt.Errorf("the token's signature does not verify with the TSA's certificate %s: %w", signer.Subject, err)
	}
	return nil
}

var sigOID = map[x509.SignatureAlgorithm]asn1.ObjectIdentifier{
	x509.SHA256WithRSA:   {1, 2, 840, 113549, 1, 1, 11},
	x509.SHA384WithRSA:   {1, 2, 840, 113549, 1, 1, 12},
	x509.SHA512WithRSA:   {1, 2, 840, 113549, 1, 1, 13},
	x509.ECDSAWithSHA256: {1, 2, 840, 10045, 4, 3, 2},
	x509.ECDSAWithSHA384: {1, 2, 840, 10045, 4, 3, 3},
	x509.ECDSAWithSHA512: {1, 2, 840, 10045, 4, 3, 4},
}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type essCertID struct {
	CertHash     []byte
	IssuerSerial asn1.RawValue `asn1:"optional"`
}

// checkSigningCert checks that the ESS signing-certificate attribute's
// first certificate hash is the signer's.
func checkSigningCert(a attribute, signer *x509.Certificate) error {
	var seq struct {
		Certs    asn1.RawValue
		Policies asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(a.Values.Bytes, &seq); err != nil {
		return fmt.Errorf("the token's signing-certificate attribute: %w", err)
	}
	var want []byte
	if a.Type.Equal(oidSigningCertV2) {
		var ids []essCertIDv2
		if _, err := asn1.Unmarshal(seq.Certs.FullBytes, &ids); err != nil || len(ids) == 0 {
			return fmt.Errorf("the token's signing-certificate attribute: %v", err)
		}
		alg := ids[0].HashAlgorithm.Algorithm
		h, ok := hashes[alg.String()]
		if len(alg) == 0 {
			h, ok = crypto.SHA256, true // the default
		}
		if !ok {
			return fmt.Errorf("the token's signing-certificate hash %v is not SHA-256, SHA-384 or SHA-512", alg)
		}
		d := h.New()
		d.Write(signer.Raw)
		want = d.Sum(nil)
		if !bytes.Equal(ids[0].CertHash, want) {
			return errors.New("the token's signing-certificate attribute names another certificate than the one that signed")
		}
		return nil
	}
	var ids []essCertID
	if _, err := asn1.Unmarshal(seq.Certs.FullBytes, &ids); err != nil || len(ids) == 0 {
		return fmt.Errorf("the token's signing-certificate attribute: %v", err)
	}
	sum := sha1.Sum(signer.Raw)
	if !bytes.Equal(ids[0].CertHash, sum[:]) {
		return errors.New("the token's signing-certificate attribute names another certificate than the one that signed")
	}
	return nil
}
