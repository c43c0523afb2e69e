package rule

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ParseFileSet reads a file as os.ReadFile does, refuses one over the
// limit without reading it, and words a file it cannot read by the
// system's reason.
func TestParseFileSetReading(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 70000} {
		want := bytes.Repeat([]byte("#"), size)
		path := filepath.Join(dir, "f.yml")
		if err := os.WriteFile(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, stamp, large, err := readRuleFile(path, 1<<20)
		if err != nil || large != 0 || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: read %d, large %d, %v", size, len(got), large, err)
		}
		// The stamp is what os.Stat says of the file.
		if info, err := os.Stat(path); err != nil || stamp.Size != info.Size() || !stamp.Mod.Equal(info.ModTime()) {
			t.Errorf("%d bytes: stamp %+v, stat %v %v", size, stamp, info.Size(), info.ModTime())
		}
		if _, _, large, _ := readRuleFile(path, int64(size)-1); size > 0 && large != int64(size) {
			t.Errorf("%d bytes over a limit of %d: large %d", size, size-1, large)
		}
	}
	_, errs := ParseFileSet(filepath.Join(dir, "missing.yml"))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "cannot read rule file: no such file or directory") {
		t.Errorf("missing file: %v", errs)
	}
	_, errs = ParseFileSet(dir)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "cannot read rule file: is a directory") {
		t.Errorf("directory: %v", errs)
	}
	big := filepath.Join(dir, "big.yml")
	os.WriteFile(big, bytes.Repeat([]byte("#\n"), 100), 0o600)
	_, errs = (&Options{MaxFileBytes: 10}).ParseFileSet(big)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "rule file is 200 bytes, more than the limit of 10") {
		t.Errorf("large file: %v", errs)
	}
}
