package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// expandInputs turns the FILE arguments of scan and decode into files: a
// directory stands for the files under it, at any depth and in name order,
// as a collected triage folder is read; glob, if set, keeps those whose
// base name matches it (files named directly are always read). - is stdin.
func expandInputs(args []string, glob string) ([]string, error) {
	if glob != "" {
		if _, err := filepath.Match(glob, ""); err != nil {
			return nil, fmt.Errorf("--glob %q: %w", glob, err)
		}
	}
	var files []string
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		n := len(files)
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if glob != "" {
				if ok, _ := filepath.Match(glob, d.Name()); !ok {
					return nil
				}
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(files) == n {
			what := "no files"
			if glob != "" {
				what = fmt.Sprintf("no files matching --glob %q", glob)
			}
			return nil, fmt.Errorf("%s: %s", a, what)
		}
	}
	return files, nil
}
