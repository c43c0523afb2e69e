//go:build !unix

package nsgflow

import "time"

func cpuTime() time.Duration { return 0 }
