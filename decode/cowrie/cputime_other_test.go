//go:build !unix

package cowrie

import "time"

func cpuTime() time.Duration { return 0 }
