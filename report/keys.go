package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/forensic-dev/forensic/internal/regfile"
)

// Key file suffixes written by GenerateKey.
const (
	SuffixPrivate        = ".key"             // PKCS#8 PEM "PRIVATE KEY", mode 0600
	SuffixPublicPEM      = ".pub.pem"         // SubjectPublicKeyInfo PEM "PUBLIC KEY" (openssl)
	SuffixPublicSSH      = ".pub"             // OpenSSH public key line
	SuffixAllowedSigners = ".allowed_signers" // ssh-keygen -Y verify -f
)

// Namespace is the SSHSIG namespace of report signatures.
const Namespace = "forensic-report"

// maxKeyFile bounds what LoadKey and LoadPublicKey read.
const maxKeyFile = 64 << 10

// ErrKeyPermissions is returned by LoadKey for a private key file that
// group or others can read or write.
var ErrKeyPermissions = errors.New("private key file is accessible by others")

// GenerateKey makes a new Ed25519 key and writes PREFIX.key,
// PREFIX.pub.pem, PREFIX.pub and PREFIX.allowed_signers (see WriteKey).
func GenerateKey(prefix, identity string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	return WriteKey(prefix, identity, priv)
}

// WriteKey writes priv as PREFIX.key (PKCS#8 PEM, mode 0600) and its
// public key as PREFIX.pub.pem (PKIX PEM), PREFIX.pub ("ssh-ed25519 BASE64
// IDENTITY") and PREFIX.allowed_signers (`IDENTITY
// namespaces="forensic-report" ssh-ed25519 BASE64`). It refuses to
// overwrite any existing file.
func WriteKey(prefix, identity string, priv ed25519.PrivateKey) error {
	if err := CheckIdentity(identity); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode private key: %w", err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	pubPEM, err := PublicKeyPEM(pub)
	if err != nil {
		return err
	}
	files := []struct {
		suffix string
		data   []byte
		mode   os.FileMode
	}{
		{SuffixPrivate, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600},
		{SuffixPublicPEM, pubPEM, 0o644},
		{SuffixPublicSSH, []byte(AuthorizedKey(pub) + " " + identity + "\n"), 0o644},
		{SuffixAllowedSigners, []byte(AllowedSigners(identity, pub)), 0o644},
	}
	for _, f := range files {
		if _, err := os.Lstat(prefix + f.suffix); err == nil {
			return fmt.Errorf("write key: %s already exists; not overwriting it", prefix+f.suffix)
		}
	}
	for _, f := range files {
		name := prefix + f.suffix
		fh, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return fmt.Errorf("write key: %w", err)
		}
		_, err = fh.Write(f.data)
		if err == nil {
			err = fh.Sync()
		}
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write key %s: %w", name, err)
		}
	}
	return nil
}

// CheckIdentity reports whether id can be a signer identity: the first
// field of an allowed_signers line, so no white space, quotes, commas or
// pattern characters.
func CheckIdentity(id string) error {
	if id == "" {
		return errors.New("signer identity is empty")
	}
	if strings.ContainsAny(id, " \t\r\n\"',*?!#") {
		return fmt.Errorf("signer identity %q: must not contain white space, quotes, commas, '#' or the pattern characters * ? !", id)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("signer identity %q: control character", id)
		}
	}
	return nil
}

// LoadKey reads an Ed25519 private key from a PKCS#8 PEM file ("PRIVATE
// KEY", as written by GenerateKey or `openssl genpkey -algorithm
// ed25519`). Like ssh, it refuses a file that group or others can access
// (ErrKeyPermissions).
func LoadKey(path string) (ed25519.PrivateKey, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("private key %s: permissions %04o are too open (%w); run: chmod 600 %s",
			path, fi.Mode().Perm(), ErrKeyPermissions, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err == nil && len(data) > maxKeyFile {
		err = fmt.Errorf("%s: larger than %d bytes, not a key file", path, maxKeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("private key %s: not a PEM \"PRIVATE KEY\" (PKCS#8) file", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key %s: a %T key, want Ed25519", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key from a PKIX PEM file ("PUBLIC
// KEY"), an OpenSSH public key line, or an allowed_signers line. path must
// be a regular file (a symbolic link to one is followed).
func LoadPublicKey(path string) (ed25519.PublicKey, error) { return loadPublicKey(path, false) }

// loadPublicKey is LoadPublicKey; noFollow refuses a symbolic link at
// path (inside a report folder).
func loadPublicKey(path string, noFollow bool) (ed25519.PublicKey, error) {
	read := regfile.ReadFile
	if noFollow {
		read = regfile.ReadFileNoFollow
	}
	data, err := read(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return pub, nil
}

// ParsePublicKey parses what LoadPublicKey reads.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM type %q, want \"PUBLIC KEY\"", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a %T key, want Ed25519", k)
		}
		return pub, nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] != "ssh-ed25519" {
				continue
			}
			blob, err := base64.StdEncoding.DecodeString(f[i+1])
			if err != nil {
				return nil, fmt.Errorf("ssh-ed25519 key: %w", err)
			}
			return parseSSHPublicKey(blob)
		}
	}
	return nil, errors.New("no PEM \"PUBLIC KEY\" and no ssh-ed25519 key found")
}

// PublicKeyPEM encodes pub as PKIX PEM ("PUBLIC KEY").
func PublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// sshPublicKeyBlob is the SSH wire encoding: string "ssh-ed25519",
// string key (RFC 8709).
func sshPublicKeyBlob(pub ed25519.PublicKey) []byte {
	var b bytes.Buffer
	putString(&b, []byte("ssh-ed25519"))
	putString(&b, pub)
	return b.Bytes()
}

func parseSSHPublicKey(blob []byte) (ed25519.PublicKey, error) {
	r := &sshReader{b: blob}
	typ, key := r.str(), r.str()
	if r.err != nil || len(r.b) != 0 {
		return nil, errors.New("malformed ssh public key blob")
	}
	if string(typ) != "ssh-ed25519" {
		return nil, fmt.Errorf("ssh key type %q, want ssh-ed25519", typ)
	}
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ssh-ed25519 key of %d bytes, want %d", len(key), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(bytes.Clone(key)), nil
}

// AuthorizedKey is the OpenSSH public key text "ssh-ed25519 BASE64".
func AuthorizedKey(pub ed25519.PublicKey) string {
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(sshPublicKeyBlob(pub))
}

// AllowedSigners is one allowed_signers line for identity, restricted to
// the report namespace.
func AllowedSigners(identity string, pub ed25519.PublicKey) string {
	return identity + ` namespaces="` + Namespace + `" ` + AuthorizedKey(pub) + "\n"
}

// Fingerprint is the OpenSSH fingerprint of pub: "SHA256:" and the
// unpadded base64 SHA-256 of the SSH public key blob, as `ssh-keygen -l`
// prints it.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(sshPublicKeyBlob(pub))
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

func putString(b *bytes.Buffer, s []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	b.Write(n[:])
	b.Write(s)
}

// sshReader reads SSH wire fields; the first error sticks.
type sshReader struct {
	b   []byte
	err error
}

func (r *sshReader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.err = errors.New("truncated")
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *sshReader) str() []byte {
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.err = errors.New("truncated")
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}
