package main

import (
	"errors"
	"io"
	"os"
	"os/user"
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
// else the OS user.
func operator(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv("FORENSIC_OPERATOR"); v != "" {
		return v
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
