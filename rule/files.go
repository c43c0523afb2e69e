package rule

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// FilesIn returns the rule files in the directory dir and below it, sorted:
// the files ending .yml or .yaml, hidden directories under dir left out.
// A path that cannot be read is handed to unreadable, when not nil, and
// passed over; the error is the walk's own.
func FilesIn(dir string, unreadable func(path string, err error)) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if unreadable != nil {
				unreadable(path, err)
			}
			return nil
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".yml" || ext == ".yaml" {
			files = append(files, path)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}
