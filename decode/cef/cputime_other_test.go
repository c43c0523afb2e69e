//go:build !unix

package cef

import "time"

func cpuTime() time.Duration { return 0 }
