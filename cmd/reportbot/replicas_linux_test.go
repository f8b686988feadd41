package main

import "syscall"

// replicaAttr kills a replica if the test process dies, so that no bot
// outlives a test run.
func replicaAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
