//go:build aix || android || dragonfly || illumos || linux || openbsd || solaris

package rule

import (
	"syscall"
	"time"
)

func modTime(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))
}
