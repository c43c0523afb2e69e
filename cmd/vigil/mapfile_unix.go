//go:build unix

package main

import (
	"os"
	"syscall"
)

// mapFile maps a file read-only: its pages are read as they are touched,
// so a scan reads the rows of the kept literal sets it visits, not all of
// them. The file must not be changed in place while mapped (caches are
// replaced by rename, which leaves the mapping its old inode). unmap ends
// the mapping; nothing may use data afterwards.
func mapFile(path string) (data []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if info.Size() == 0 || int64(int(info.Size())) != info.Size() {
		return nil, func() {}, nil
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(info.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { syscall.Munmap(data) }, nil
}
