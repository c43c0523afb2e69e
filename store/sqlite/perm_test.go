//go:build unix

package sqlite

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStoreFilesPrivate: the store's directory and files (the database,
// its WAL and shared memory) are created for the owner only, whatever
// the umask: they hold key hashes and every workspace's events.
func TestStoreFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "vigil.db")
	db := openAt(t, path, Options{})
	mustWorkspace(t, db, "a") // writes: the WAL and shared memory exist
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, want)
		}
	}
}

// TestStoreLooseFileWarned: an existing database that others may read is
// left as it is (an operator may have reasons) but warned about.
func TestStoreLooseFileWarned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db := openAt(t, path, Options{})
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db2, err := Open(ctx, path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "chmod 600 "+path) {
		t.Errorf("no warning about the readable database:\n%s", logs.String())
	}
}
