//go:build unix

package rule

import (
	"io/fs"
	"syscall"
)

// readRuleFile reads a rule file unless fstat says it is larger than
// limit (large then holds its size). It makes a third of the system calls
// of os.Stat and os.ReadFile (no second lookup of the path, no poller
// registration): a first start reads SigmaHQ's thousands of small files,
// where those calls were a tenth of the work. Errors are *fs.PathError,
// as os.ReadFile's. The file's size and modification time, from the same
// fstat, are in stamp (when it could be read).
func readRuleFile(path string, limit int64) (data []byte, stamp FileStamp, large int64, err error) {
	var fd int
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, stamp, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	size := 0
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, stamp, 0, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Size > limit {
		return nil, stamp, st.Size, nil
	}
	size = int(st.Size)
	stamp = FileStamp{Size: st.Size, Mod: modTime(&st)}
	// One byte more than the size: the read that finds the end needs no
	// larger buffer.
	data = make([]byte, 0, size+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, FileStamp{}, 0, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return data, stamp, 0, nil
		}
		data = data[:len(data)+n]
	}
}
