//go:build !linux

package intel

// adviseHugePages does nothing where transparent huge pages are not asked
// for with madvise.
func adviseHugePages[T any](s []T) {}
