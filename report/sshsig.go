package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// SSHSIG (OpenSSH PROTOCOL.sshsig), written on crypto/ed25519 because
// golang.org/x/crypto/ssh has no SSHSIG support.
//
// The signed data is
//
//	"SSHSIG" || string namespace || string reserved ("") || string hash_algorithm || string H(message)
//
// and the signature blob
//
//	"SSHSIG" || uint32 1 || string publickey || string namespace || string reserved
//	|| string hash_algorithm || string (string "ssh-ed25519" || string sig64)
//
// where string is a uint32 big-endian length and the bytes. The blob is
// armored as "-----BEGIN SSH SIGNATURE-----", base64 wrapped at 70
// columns, "-----END SSH SIGNATURE-----".

const (
	sshsigMagic   = "SSHSIG"
	sshsigVersion = 1
	armorBegin    = "-----BEGIN SSH SIGNATURE-----"
	armorEnd      = "-----END SSH SIGNATURE-----"
	armorWidth    = 70
	// maxSSHSIG bounds an armored signature we parse; an Ed25519 one is
	// about 300 bytes.
	maxSSHSIG = 16 << 10
)

// SignSSH signs message (read to the end) with priv under namespace using
// hash sha512, and returns the armored signature ending in a newline.
func SignSSH(priv ed25519.PrivateKey, namespace string, message io.Reader) ([]byte, error) {
	h := sha512.New()
	if _, err := io.Copy(h, message); err != nil {
		return nil, fmt.Errorf("sshsig: read message: %w", err)
	}
	sig := ed25519.Sign(priv, sshsigSignedData(namespace, "sha512", h.Sum(nil)))
	var inner bytes.Buffer
	putString(&inner, []byte("ssh-ed25519"))
	putString(&inner, sig)
	var blob bytes.Buffer
	blob.WriteString(sshsigMagic)
	binary.Write(&blob, binary.BigEndian, uint32(sshsigVersion))
	putString(&blob, sshPublicKeyBlob(priv.Public().(ed25519.PublicKey)))
	putString(&blob, []byte(namespace))
	putString(&blob, nil)
	putString(&blob, []byte("sha512"))
	putString(&blob, inner.Bytes())
	return armor(blob.Bytes()), nil
}

func sshsigSignedData(namespace, hashAlg string, digest []byte) []byte {
	var b bytes.Buffer
	b.WriteString(sshsigMagic)
	putString(&b, []byte(namespace))
	putString(&b, nil)
	putString(&b, []byte(hashAlg))
	putString(&b, digest)
	return b.Bytes()
}

func armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b bytes.Buffer
	b.WriteString(armorBegin + "\n")
	for len(enc) > armorWidth {
		b.WriteString(enc[:armorWidth] + "\n")
		enc = enc[armorWidth:]
	}
	b.WriteString(enc + "\n" + armorEnd + "\n")
	return b.Bytes()
}

// SSHSignature is a parsed SSHSIG signature.
type SSHSignature struct {
	PublicKey ed25519.PublicKey
	Namespace string
	HashAlg   string // "sha256" or "sha512"
	Signature []byte // 64 bytes
}

// ParseSSH parses an armored SSHSIG signature over an Ed25519 key.
func ParseSSH(armored []byte) (*SSHSignature, error) {
	if len(armored) > maxSSHSIG {
		return nil, fmt.Errorf("sshsig: %d bytes, larger than %d", len(armored), maxSSHSIG)
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(armored), "\r\n", "\n"))
	if len(s) < len(armorBegin)+len(armorEnd) || !strings.HasPrefix(s, armorBegin) || !strings.HasSuffix(s, armorEnd) {
		return nil, fmt.Errorf("sshsig: not armored between %q and %q", armorBegin, armorEnd)
	}
	body := strings.Join(strings.Fields(s[len(armorBegin):len(s)-len(armorEnd)]), "")
	blob, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("sshsig: base64: %w", err)
	}
	if !bytes.HasPrefix(blob, []byte(sshsigMagic)) {
		return nil, errors.New("sshsig: missing SSHSIG preamble")
	}
	r := &sshReader{b: blob[len(sshsigMagic):]}
	ver := r.u32()
	pubBlob, ns, _, hashAlg, sigBlob := r.str(), r.str(), r.str(), r.str(), r.str()
	if r.err != nil {
		return nil, fmt.Errorf("sshsig: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("sshsig: %d bytes after the signature", len(r.b))
	}
	if ver != sshsigVersion {
		return nil, fmt.Errorf("sshsig: version %d, want %d", ver, sshsigVersion)
	}
	pub, err := parseSSHPublicKey(pubBlob)
	if err != nil {
		return nil, fmt.Errorf("sshsig: %w", err)
	}
	sr := &sshReader{b: sigBlob}
	typ, sig := sr.str(), sr.str()
	if sr.err != nil || len(sr.b) != 0 {
		return nil, errors.New("sshsig: malformed signature field")
	}
	if string(typ) != "ssh-ed25519" || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("sshsig: signature type %q of %d bytes, want ssh-ed25519 of %d", typ, len(sig), ed25519.SignatureSize)
	}
	return &SSHSignature{PublicKey: pub, Namespace: string(ns), HashAlg: string(hashAlg), Signature: sig}, nil
}

// VerifySSH checks an armored SSHSIG signature over message made by pub
// under namespace.
func VerifySSH(pub ed25519.PublicKey, namespace string, message io.Reader, armored []byte) error {
	s, err := ParseSSH(armored)
	if err != nil {
		return err
	}
	if !s.PublicKey.Equal(pub) {
		return fmt.Errorf("sshsig: signed by %s, not by %s", Fingerprint(s.PublicKey), Fingerprint(pub))
	}
	if s.Namespace != namespace {
		return fmt.Errorf("sshsig: namespace %q, want %q", s.Namespace, namespace)
	}
	var h hash.Hash
	switch s.HashAlg {
	case "sha512":
		h = sha512.New()
	case "sha256":
		h = sha256.New()
	default:
		return fmt.Errorf("sshsig: hash algorithm %q, want sha512 or sha256", s.HashAlg)
	}
	if _, err := io.Copy(h, message); err != nil {
		return fmt.Errorf("sshsig: read message: %w", err)
	}
	if !ed25519.Verify(pub, sshsigSignedData(s.Namespace, s.HashAlg, h.Sum(nil)), s.Signature) {
		return errors.New("sshsig: signature does not verify")
	}
	return nil
}

// checkArmor reports whether armored is exactly as SignSSH writes it:
// base64 lines of 70 columns and a final newline.
func checkArmor(armored []byte) error {
	s := strings.TrimSpace(string(armored))
	if len(s) < len(armorBegin)+len(armorEnd) || !strings.HasPrefix(s, armorBegin) || !strings.HasSuffix(s, armorEnd) {
		return fmt.Errorf("sshsig: not armored between %q and %q", armorBegin, armorEnd)
	}
	blob, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s[len(armorBegin):len(s)-len(armorEnd)]), ""))
	if err != nil {
		return fmt.Errorf("sshsig: base64: %w", err)
	}
	if !bytes.Equal(armor(blob), armored) {
		return errors.New("sshsig: armor differs from the standard form (70-column base64 lines, one final newline): the file was changed")
	}
	return nil
}
