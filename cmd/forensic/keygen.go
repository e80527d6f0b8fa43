package main

import (
	"context"
	"fmt"
	"io"

	"github.com/forensic-dev/forensic/internal/display"
	"github.com/forensic-dev/forensic/report"
)

const keygenUsage = `Usage: forensic keygen --out PREFIX [--identity NAME]

Makes an Ed25519 key for signing reports and writes:
  PREFIX.key              private key, PKCS#8 PEM (mode 0600; keep it secret)
  PREFIX.pub.pem          public key for openssl (PEM "PUBLIC KEY")
  PREFIX.pub              public key as an OpenSSH line
  PREFIX.allowed_signers  for ssh-keygen -Y verify; first field is the identity

The identity names the signer in allowed_signers and in reports: --identity,
else OPERATOR@HOST. Existing files are never overwritten. Give PREFIX.pub.pem
(or its fingerprint) to whoever will check your reports, by a channel other
than the reports themselves.

Examples:
  forensic keygen --out analyst
  forensic keygen --out keys/jane --identity jane.doe@lab.example
`

type keygenOptions struct {
	out      string
	identity string
	operator string
}

func cmdKeygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o keygenOptions
	fs := newFlagSet("keygen", keygenUsage, stderr)
	fs.StringVar(&o.out, "out", "", "prefix of the key files to write (required)")
	fs.StringVar(&o.identity, "identity", "", "signer identity (default: OPERATOR@HOST)")
	fs.StringVar(&o.operator, "operator", "", "who runs the command (default: the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("keygen: --out is required")
	}
	if fs.NArg() > 0 {
		return usagef("keygen: unexpected argument %q", fs.Arg(0))
	}
	return runKeygen(o, stdout)
}

func runKeygen(o keygenOptions, stdout io.Writer) error {
	id := o.identity
	if id == "" {
		id = operator(o.operator) + "@" + hostname()
	}
	if err := report.CheckIdentity(id); err != nil {
		return usagef("keygen: %v (choose one with --identity)", err)
	}
	if err := report.GenerateKey(o.out, id); err != nil {
		return usagef("keygen: %v", err)
	}
	pub, err := report.LoadPublicKey(o.out + report.SuffixPublicPEM)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "identity:    %s\nfingerprint: %s\n", display.Quote(id), report.Fingerprint(pub))
	for _, s := range []string{report.SuffixPrivate, report.SuffixPublicPEM, report.SuffixPublicSSH, report.SuffixAllowedSigners} {
		fmt.Fprintf(stdout, "wrote %s\n", display.Quote(o.out+s))
	}
	return nil
}
