package pack

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Limits on what one source may hold: a SigmaHQ release is about 4,000
// files and 10 MB, so these leave room for growth while a hostile or broken
// archive (a zip bomb, millions of entries) is refused instead of filling
// the disk.
const (
	MaxFiles     = 50_000
	MaxFileBytes = 8 << 20
	MaxTotal     = 512 << 20
)

// File is one rule file of a source, by its slash-separated path inside it.
type File struct {
	Path string
	Data []byte
}

// Source is what a pack is installed from, read into memory: its rule
// files (and their tests files) and the SHA-256 of the source as given (the
// archive's bytes; for a directory, of its files' paths and contents).
type Source struct {
	Files  []File
	SHA256 string
	// Skipped counts entries that are not rule files (READMEs, licences,
	// scripts), symbolic links and entries with unsafe paths.
	Skipped int
}

// ReadFile reads a pack source from a local path: a .zip, .tar.gz/.tgz or
// .tar archive, a directory, or one rule file.
func ReadFile(p string) (*Source, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("rule pack source %s: %w", p, err)
	}
	if info.IsDir() {
		return readDir(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("rule pack source %s: %w", p, err)
	}
	defer f.Close()
	src, err := ReadArchive(f, info.Size(), p)
	if err != nil {
		return nil, fmt.Errorf("rule pack source %s: %w", p, err)
	}
	return src, nil
}

// ReadArchive reads an archive of size bytes from r; name (a file name or
// URL) decides the kind by its extension when the content does not: zip
// and gzip are told by their magic bytes, a plain tar by its "ustar"
// header, a lone YAML file by its name.
func ReadArchive(r io.ReaderAt, size int64, name string) (*Source, error) {
	if size > MaxTotal {
		return nil, fmt.Errorf("%d bytes is more than the %d a rule pack may have", size, MaxTotal)
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(r, 0, size)); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	var (
		src *Source
		err error
	)
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		src, err = readZip(r, size)
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		var gz *gzip.Reader
		gz, err = gzip.NewReader(io.NewSectionReader(r, 0, size))
		if err == nil {
			src, err = readTar(gz)
		}
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		src, err = readTar(io.NewSectionReader(r, 0, size))
	case isRuleFileName(name):
		data := make([]byte, size)
		if _, err = r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			break
		}
		err = nil
		p, ok := safePath(path.Base(filepath.ToSlash(name)))
		if !ok {
			p = "rule.yml" // a hidden or odd name: the file is still the pack
		}
		src = &Source{Files: []File{{Path: p, Data: data}}}
	default:
		return nil, errors.New("not a zip, tar.gz or tar archive, nor a .yml rule file")
	}
	if err != nil {
		return nil, err
	}
	src.SHA256 = digest
	return src, nil
}

func readZip(r io.ReaderAt, size int64) (*Source, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	src := &Source{}
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		p, ok := safePath(f.Name)
		if !ok || !f.Mode().IsRegular() || !isRuleFileName(p) {
			src.Skipped++
			continue
		}
		if f.UncompressedSize64 > MaxFileBytes {
			return nil, fmt.Errorf("zip entry %s: %d bytes is more than the %d a rule file may have", f.Name, f.UncompressedSize64, MaxFileBytes)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("zip entry %s: %w", f.Name, err)
		}
		data, err := readLimited(rc, f.Name)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if err := src.add(p, data, &total); err != nil {
			return nil, err
		}
	}
	return src, nil
}

func readTar(r io.Reader) (*Source, error) {
	tr := tar.NewReader(bufio.NewReader(r))
	src := &Source{}
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return src, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		if h.Typeflag == tar.TypeDir || h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		p, ok := safePath(h.Name)
		if !ok || h.Typeflag != tar.TypeReg || !isRuleFileName(p) {
			src.Skipped++
			continue
		}
		data, err := readLimited(tr, h.Name)
		if err != nil {
			return nil, err
		}
		if err := src.add(p, data, &total); err != nil {
			return nil, err
		}
	}
}

func readDir(dir string) (*Source, error) {
	src := &Source{}
	var total int64
	sum := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() || !isRuleFileName(rel) {
			src.Skipped++
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		data, err := readLimited(f, rel)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", rel, len(data))
		sum.Write(data)
		return src.add(rel, data, &total)
	})
	if err != nil {
		return nil, fmt.Errorf("rule pack source %s: %w", dir, err)
	}
	src.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return src, nil
}

func (s *Source) add(p string, data []byte, total *int64) error {
	if len(s.Files) >= MaxFiles {
		return fmt.Errorf("more than %d rule files", MaxFiles)
	}
	*total += int64(len(data))
	if *total > MaxTotal {
		return fmt.Errorf("rule files of more than %d bytes in all", MaxTotal)
	}
	s.Files = append(s.Files, File{Path: p, Data: data})
	return nil
}

// sortFiles orders files by path, so that installs of the same source
// write the same tree and report in the same order.
func (s *Source) sortFiles() {
	slices.SortFunc(s.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("entry %s: more than the %d bytes a rule file may have", name, MaxFileBytes)
	}
	return data, nil
}

// safePath cleans an archive entry's name into a relative slash path that
// stays inside the pack: absolute names, drive letters and ".." are
// refused, so that an archive cannot write outside its directory.
func safePath(name string) (string, bool) {
	name = strings.ReplaceAll(name, `\`, "/")
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, ":") {
		return "", false
	}
	p := path.Clean(name)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return "", false // hidden files and directories: the loader skips them too
		}
	}
	return p, true
}

func isRuleFileName(p string) bool {
	ext := strings.ToLower(path.Ext(filepath.ToSlash(p)))
	return ext == ".yml" || ext == ".yaml"
}
