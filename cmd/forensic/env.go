package main

import (
	"errors"
	"io"
	"os"
	"os/user"
	"unicode/utf8"

	"github.com/forensic-dev/forensic/internal/display"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// operator is who runs the command: the flag, else $FORENSIC_OPERATOR,
// else the OS user. The first two are checked by checkOperator when the
// flags are parsed; the OS user's name is escaped.
func operator(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv("FORENSIC_OPERATOR"); v != "" {
		return v
	}
	if u, err := user.Current(); err == nil {
		return singleLine(u.Username)
	}
	return "unknown"
}

// hostname is the machine's name, escaped by singleLine.
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return singleLine(h)
}

// checkOperator refuses an operator name (from --operator or
// $FORENSIC_OPERATOR) that would not stay on one line of the custody log:
// control characters, line and paragraph separators, invisible format
// characters (bidirectional overrides and the like) and invalid UTF-8.
func checkOperator(flag string) error {
	name, v := "--operator", flag
	if v == "" {
		name, v = "FORENSIC_OPERATOR", os.Getenv("FORENSIC_OPERATOR")
	}
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			return usagef("%s is not valid UTF-8 (byte %d); the operator is recorded as text in the custody log", name, i)
		}
		i += size
	}
	for i, r := range v {
		if unsafeRune(r) {
			return usagef("%s contains %U (a control or invisible character) at byte %d; the operator is recorded on one line of the custody log", name, r, i)
		}
	}
	return nil
}

// unsafeRune reports whether r could break a line, or hide or reorder
// text, when printed (the one rule of internal/display).
func unsafeRune(r rune) bool { return display.Unsafe(r) }

// singleLine is display.Quote: s as it is when it prints on one line as
// itself, else quoted with Go escapes.
func singleLine(s string) string { return display.Quote(s) }

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
