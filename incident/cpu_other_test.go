//go:build !unix

package incident

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
