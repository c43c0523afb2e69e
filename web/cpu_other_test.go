//go:build !unix

package web

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
