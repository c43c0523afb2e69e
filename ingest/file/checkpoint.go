package file

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkpoint is where a tail stopped: the file (by device and inode, so a
// rotation is recognised) and the offset just after the last line whose
// batch is stored on the bus.
type checkpoint struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	Line   int    `json:"line"`
}

// checkpointPath names a receiver's checkpoint file in dir: one per
// workspace, source and path, so renaming a source starts it afresh.
func checkpointPath(dir, workspace, source, path string) string {
	h := sha256.Sum256([]byte(workspace + "\x00" + source + "\x00" + path))
	return filepath.Join(dir, "file-"+hex.EncodeToString(h[:8])+".json")
}

func loadCheckpoint(p string) (checkpoint, bool, error) {
	var cp checkpoint
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, fmt.Errorf("read checkpoint %s: %w", p, err)
	}
	if err := json.Unmarshal(data, &cp); err != nil {
		return cp, false, fmt.Errorf("checkpoint %s is corrupt (%w); delete it to start the file afresh", p, err)
	}
	return cp, true, nil
}

// save writes the checkpoint atomically: a crash leaves the old one or the
// new one, never half of either.
func (cp checkpoint) save(p string) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", p, err)
	}
	return nil
}
