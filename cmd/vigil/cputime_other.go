//go:build !unix

package main

import "time"

// processCPU is not measured here: scan --timings prints 0 CPU seconds.
func processCPU() time.Duration { return 0 }
