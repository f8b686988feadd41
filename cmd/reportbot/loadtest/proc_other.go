//go:build !linux

package loadtest

import (
	"os"
	"syscall"
	"time"
)

// Without Linux's /proc the load tool cannot read a running bot's CPU time
// and memory: CPU per step comes out 0 for a bot that still runs, and
// memory is not measured.

func childAttr() *syscall.SysProcAttr { return nil }

func procCPU(int) time.Duration { return 0 }

func procMemory(int) (int64, int64) { return 0, 0 }

func exitCPU(st *os.ProcessState) time.Duration {
	if st == nil {
		return 0
	}
	return st.UserTime() + st.SystemTime()
}
