package intel

import (
	"syscall"
	"unsafe"
)

// hugePageMin is the size from which an index array is worth huge pages.
const hugePageMin = 4 << 20

// adviseHugePages asks the kernel to back s with transparent huge pages
// (where the system leaves that to madvise, the common default). Lookups
// read the index's arrays at random: with 4 KiB pages nearly every one is
// also a TLB miss and a page-table walk, with 2 MiB pages few are. It is
// called on freshly made arrays, before they are filled, so that their
// pages are faulted in huge. A refusal (no THP in the kernel) is ignored:
// it only costs speed.
func adviseHugePages[T any](s []T) {
	var zero T
	n := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if n < hugePageMin {
		return
	}
	const page = 4096
	start := uintptr(unsafe.Pointer(unsafe.SliceData(s[:cap(s)])))
	end := (start + n) &^ (page - 1)
	start = (start + page - 1) &^ (page - 1)
	if end <= start {
		return
	}
	syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE)
}
