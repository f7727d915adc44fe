package main

import (
	"bytes"
	"strings"
	"testing"
)

// --help, help, help COMMAND and COMMAND --help print usage and succeed; an unknown command
// fails naming the known ones.
func TestHelp(t *testing.T) {
	t.Parallel()
	runOut := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(args, &out)
		return out.String(), err
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, err := runOut(args...)
		if err != nil {
			t.Fatalf("accruectl %s: %v", strings.Join(args, " "), err)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.name+" ") {
				t.Errorf("accruectl %s does not list %s:\n%s", strings.Join(args, " "), c.name, out)
			}
		}
	}
	for _, c := range commands {
		viaHelp, err := runOut("help", c.name)
		if err != nil {
			t.Fatalf("accruectl help %s: %v", c.name, err)
		}
		viaFlag, err := runOut(c.name, "--help")
		if err != nil {
			t.Fatalf("accruectl %s --help: %v", c.name, err)
		}
		if viaHelp != viaFlag || !strings.HasPrefix(viaHelp, "Usage: accruectl "+c.name) {
			t.Errorf("help %s and %s --help differ or lack the usage line:\n%s\n---\n%s", c.name, c.name, viaHelp, viaFlag)
		}
	}
	out, _ := runOut("token", "-h")
	for _, flag := range []string{"-scopes", "-sub", "-ttl", "-key"} {
		if !strings.Contains(out, flag) {
			t.Errorf("token -h does not describe %s:\n%s", flag, out)
		}
	}
	if out, _ := runOut("audit", "--help"); !strings.Contains(out, "-service") || !strings.Contains(out, "-anchor") {
		t.Errorf("audit --help does not describe the verify flags:\n%s", out)
	}
	if out, _ := runOut("audit", "verify", "--help"); !strings.Contains(out, "-dsn") {
		t.Errorf("audit verify --help does not describe --dsn:\n%s", out)
	}
	if _, err := runOut("frobnicate"); err == nil || !strings.Contains(err.Error(), "keygen") {
		t.Errorf("unknown command: %v, want an error listing the commands", err)
	}
	if _, err := runOut("help", "frobnicate"); err == nil {
		t.Error("help of an unknown command succeeded")
	}
	if _, err := runOut("token", "--no-such-flag"); err == nil {
		t.Error("an unknown flag succeeded")
	}
}
