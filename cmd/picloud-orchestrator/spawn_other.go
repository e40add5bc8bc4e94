//go:build !linux

package main

import "syscall"

// childAttr: only Linux has a parent-death signal; elsewhere an
// orchestrator killed with SIGKILL leaves its executor behind.
func childAttr() *syscall.SysProcAttr { return nil }
