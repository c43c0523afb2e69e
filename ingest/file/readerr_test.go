package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/ingest"
)

// TestReadErrorSaidOnce: a read error is the os package's ("read PATH:
// …"), not wrapped in another "read PATH".
func TestReadErrorSaidOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "not-a-file")
	if err := os.Mkdir(path, 0o750); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Path: path, CheckpointDir: filepath.Join(dir, "cp")},
		ingest.BatcherConfig{Target: ingest.Target{Workspace: "acme", Source: "auth", Format: "syslog"}, Publisher: &fakePub{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.open(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.f.Close()
	err = r.read(ctx)
	if want := "read " + path + ": is a directory"; err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}
