//go:build linux

package analysis

import "syscall"

// threadCPU is the CPU time the calling OS thread has used, in
// nanoseconds: on a shared, busy machine a benchmark's wall time measures
// the other processes too; its thread's CPU time does not.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// processCPU is the CPU time of the whole process, the garbage
// collector's workers included.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
