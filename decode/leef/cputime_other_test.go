//go:build !unix

package leef

import "time"

func cpuTime() time.Duration { return 0 }
