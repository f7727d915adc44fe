//go:build !linux

package childproc

import "os/exec"

func Start(cmd *exec.Cmd) error { return cmd.Start() }
