//go:build unix

package accesslog

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used. On a shared machine the
// benchmark's wall clock counts time spent waiting for a core; records per
// CPU second does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
