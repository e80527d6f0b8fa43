package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time by the Makefile (-X main.version=...).
var version = "dev"

// buildInfo returns the version and the VCS revision the binary was built
// from, as the Go toolchain stamped it ("unknown" outside a checkout).
func buildInfo() (ver, revision string, modified bool) {
	ver, revision = version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	return ver, revision, modified
}

// toolString names the tool for custody entries and reports.
func toolString() string {
	v, rev, mod := buildInfo()
	s := fmt.Sprintf("forensic %s (revision %s", v, rev)
	if mod {
		s += ", modified"
	}
	return s + ")"
}

func versionString() string {
	return toolString() + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
