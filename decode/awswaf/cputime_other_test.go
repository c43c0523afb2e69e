//go:build !unix

package awswaf

import "time"

func cpuTime() time.Duration { return 0 }
