package main

import (
	"fmt"
	"os"
)

// makePrivateDir creates dir (and its parents) for the owner only: the
// data directory holds key hashes and every workspace's events. An
// existing directory others may enter is left alone, since an operator
// may mean it (a backup group), but warned about.
func makePrivateDir(dir string, warn func(msg string, args ...any)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		warn("the data directory is open to other users: it holds key hashes and every workspace's events",
			"path", dir, "mode", fi.Mode().Perm().String(), "fix", fmt.Sprintf("chmod 700 %s", dir))
	}
	return nil
}
