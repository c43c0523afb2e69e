//go:build unix

package web

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time: the seeding's budget is
// checked on it, which holds on a loaded machine where wall time does not.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
