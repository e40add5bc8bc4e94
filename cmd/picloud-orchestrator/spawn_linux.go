package main

import "syscall"

// childAttr puts the executor in its own process group, so that a Ctrl-C
// meant for the orchestrator does not reach it (the orchestrator stops it
// itself), and has the kernel kill it when the orchestrator dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
