//go:build !unix

package azureactivity

import "time"

func cpuTime() time.Duration { return 0 }
