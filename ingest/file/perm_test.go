//go:build unix

package file

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCheckpointsPrivate: the checkpoint directory and files are the
// owner's only, like the rest of the data directory.
func TestCheckpointsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := newLog(t, "auth.log", 5)
	pub, _, tl := tailLog(t, path, StartBeginning, 0)
	pub.waitFor(t, 5)
	tl.stop(t)
	dir := filepath.Join(filepath.Dir(path), "cp")
	cps, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(cps) == 0 {
		t.Fatal("no checkpoint written")
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, cps[0]: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, want)
		}
	}
}
