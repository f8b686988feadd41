//go:build !linux

package main

import "syscall"

// replicaAttr: only Linux can have a child killed with its parent; the
// tests' cleanup stops the replicas.
func replicaAttr() *syscall.SysProcAttr { return nil }
