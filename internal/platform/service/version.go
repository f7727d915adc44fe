package service

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are stamped at build time (see deploy/docker):
//
//	go build -ldflags "-X github.com/accrue/accrue/internal/platform/service.version=1.4.0
//	  -X github.com/accrue/accrue/internal/platform/service.commit=$(git rev-parse HEAD)"
var version, commit = "dev", ""

// Version returns the build's version and commit. Without -ldflags the commit falls back to the
// VCS revision the go command stamped, if any.
func Version() (string, string) {
	c := commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	return version, c
}

func versionLine(name string) string {
	v, c := Version()
	return fmt.Sprintf("%s %s (commit %s, %s)", name, v, c, runtime.Version())
}
