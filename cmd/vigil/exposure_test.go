package main

import (
	"github.com/vigil-sec/vigil/internal/teststore"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeExposureAndPrivateFiles: serve listening beyond loopback without
// TLS says so loudly at start; the data directory it creates, the bus
// directory and the database files are for the owner only.
func TestServeExposureAndPrivateFiles(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	data := filepath.Join(t.TempDir(), "data")
	_, port, _ := net.SplitHostPort(freePort(t))
	cmd := exec.Command(vigilBin, "serve", "--listen", "0.0.0.0:"+port, "--data-dir", data, "--log-level", "warn")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	poll(t, "readiness", func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if !strings.Contains(out.String(), "level=WARN") || !strings.Contains(out.String(), "plain HTTP beyond loopback") {
		t.Errorf("no warning about plain HTTP on 0.0.0.0:\n%s", out.String())
	}
	private := map[string]os.FileMode{data: 0o700, filepath.Join(data, "bus"): 0o700}
	if teststore.Kind() == teststore.SQLite { // PostgreSQL keeps no file in the data dir
		private[filepath.Join(data, "vigil.db")], private[filepath.Join(data, "vigil.db-wal")] = 0o600, 0o600
	}
	for p, want := range private {
		fi, err := os.Stat(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
}

// TestExposedPlain: only a non-loopback address without TLS is exposed.
func TestExposedPlain(t *testing.T) {
	for _, c := range []struct {
		addr string
		tls  bool
		want bool
	}{
		{"127.0.0.1:8080", false, false},
		{"[::1]:8080", false, false},
		{"0.0.0.0:8080", false, true},
		{"[::]:8080", false, true},
		{"192.0.2.7:8080", false, true},
		{"0.0.0.0:8080", true, false},
	} {
		a, err := net.ResolveTCPAddr("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := exposedPlain(a, c.tls); got != c.want {
			t.Errorf("exposedPlain(%s, tls %v) = %v, want %v", c.addr, c.tls, got, c.want)
		}
	}
}

// TestLooseDataDirWarned: an existing data directory others may enter is
// warned about, not changed.
func TestLooseDataDirWarned(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var warned []string
	if err := makePrivateDir(dir, func(msg string, args ...any) { warned = append(warned, msg) }); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 {
		t.Errorf("warnings %q, want one", warned)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode changed to %v", fi.Mode().Perm())
	}
}
