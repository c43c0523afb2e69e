//go:build crashpoint

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// incidentCrashpoint, in test builds (-tags crashpoint), kills the process
// with SIGKILL in the VIGIL_CRASH_BEFORE_INCIDENTS-th batch the incident
// correlation handles, after it correlated the batch's alerts and before
// it wrote the incidents: the alerts are committed, their incidents not.
func incidentCrashpoint() func() {
	n, err := strconv.Atoi(os.Getenv("VIGIL_CRASH_BEFORE_INCIDENTS"))
	if err != nil || n <= 0 {
		return nil
	}
	return func() {
		if n--; n == 0 {
			fmt.Fprintln(os.Stderr, "crashpoint: SIGKILL after correlating alerts, before writing their incidents")
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
