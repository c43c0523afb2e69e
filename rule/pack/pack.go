// Package pack installs rule packs — a SigmaHQ release archive or any
// archive or directory of rule files — into a directory that vigil serve
// loads rules from: each install is a version of its own, selected by
// status and level, recorded with its source's SHA-256 and a manifest of
// its rules, so that an install reports what changed and can be rolled
// back.
//
// Layout under the packs directory (<data-dir>/rulepacks):
//
//	<name>/versions/<version>/…   the rule files as the source had them
//	<name>/versions/<version>.json the version's manifest
//	<name>/current                 a symbolic link to versions/<version>
//
// The switch to a new version is the atomic rename of the current link, so
// a loader sees the old version or the new one, never a mix.
package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/rule"
)

// Keep is how many versions of a pack are kept on disk (the current one
// and the ones before it, for rollback).
const Keep = 5

// ErrNotInstalled is returned for a pack name that has no install.
var ErrNotInstalled = errors.New("rule pack not installed")

// ErrUnchanged is returned by Install when the source is the one the
// current version came from, with the same selection.
var ErrUnchanged = errors.New("rule pack unchanged: the current version has the same source and selection")

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// CheckName reports whether name may name a pack: lower-case letters,
// digits, '.', '_' and '-', at most 64, starting with a letter or digit.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("rule pack name %q: use lower-case letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)", name)
	}
	return nil
}

// Store is the directory installed packs live in.
type Store struct {
	Root string
	// Now is the clock of version ids and install times; time.Now when nil.
	Now func() time.Time
}

// Manifest is what a version of a pack holds and where it came from.
type Manifest struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Source    string    `json:"source"` // the file or URL given to install
	SHA256    string    `json:"sha256"` // of the source as read
	Installed time.Time `json:"installed"`
	// Previous is the version that was current when this one was
	// installed: what a rollback goes back to.
	Previous  string    `json:"previous,omitempty"`
	Selection Selection `json:"selection"`
	// Files counts the rule files installed (tests files included).
	Files int `json:"files"`
	// Entries are the installed rules, correlation rules and filters.
	Entries []Entry `json:"entries"`
	// Deselected counts the detection rules the selection left out.
	Deselected int `json:"deselected"`
	// Problems are the files left out because they do not load.
	Problems []Problem `json:"problems,omitempty"`
	// SkippedEntries counts entries of the source that are not rule files.
	SkippedEntries int `json:"skipped_entries"`
}

// Entry is one rule document of a version.
type Entry struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"` // rule, correlation or filter
	Title  string `json:"title"`
	Status string `json:"status,omitempty"`
	Level  string `json:"level,omitempty"`
	File   string `json:"file"`
	// Hash is the SHA-256 of the document's file: an edit of the file
	// shows as a change of each of its documents.
	Hash string `json:"hash"`
}

// Problem is a file of the source that was not installed, and why.
type Problem struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// key identifies an entry across versions: its id, or its file and title
// when it has none.
func (e Entry) key() string {
	if e.ID != "" {
		return e.Kind + ":" + e.ID
	}
	return e.Kind + ":" + e.File + "#" + e.Title
}

// Installed is a pack as List reports it.
type Installed struct {
	Current  Manifest `json:"current"`
	Versions []string `json:"versions"` // oldest first
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Install writes src as a new version of the pack name, selected by sel,
// makes it current and returns its manifest and what changed from the
// version that was current. source names the file or URL in the manifest.
func (s *Store) Install(name, source string, src *Source, sel Selection) (Manifest, Diff, error) {
	if err := CheckName(name); err != nil {
		return Manifest{}, Diff{}, err
	}
	if err := sel.check(); err != nil {
		return Manifest{}, Diff{}, err
	}
	prev, err := s.current(name)
	hasPrev := err == nil
	if err != nil && !errors.Is(err, ErrNotInstalled) {
		return Manifest{}, Diff{}, err
	}
	if hasPrev && prev.SHA256 == src.SHA256 && prev.Selection.equal(sel) {
		return prev, Diff{}, ErrUnchanged
	}
	src.sortFiles()
	files, m := selectFiles(src, sel)
	if len(m.Entries) == 0 {
		err := fmt.Errorf("rule pack %s: no rule of the source is selected (%d deselected, %d files that do not load)", name, m.Deselected, len(m.Problems))
		if len(m.Problems) > 0 {
			err = fmt.Errorf("%w; the first: %s", err, m.Problems[0].Reason)
		}
		return Manifest{}, Diff{}, err
	}
	now := s.now().UTC()
	m.Name, m.Source, m.SHA256, m.Installed, m.Selection = name, source, src.SHA256, now, sel
	m.SkippedEntries = src.Skipped
	if hasPrev {
		m.Previous = prev.Version
	}
	m.Version = now.Format("20060102T150405Z") + "-" + src.SHA256[:12]
	versions := filepath.Join(s.Root, name, "versions")
	if err := os.MkdirAll(versions, 0o755); err != nil {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	for i := 2; exists(filepath.Join(versions, m.Version)); i++ {
		m.Version = fmt.Sprintf("%s-%s-%d", now.Format("20060102T150405Z"), src.SHA256[:12], i)
	}
	tmp, err := os.MkdirTemp(versions, ".install-")
	if err != nil {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; left only on failure
	for _, f := range files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: %w", name, err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: %w", name, err)
		}
	}
	m.Files = len(files)
	doc, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: manifest: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(versions, m.Version+".json"), doc, 0o644); err != nil {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: manifest: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(versions, m.Version)); err != nil {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	if err := s.switchTo(name, m.Version); err != nil {
		return Manifest{}, Diff{}, err
	}
	s.prune(name, m.Version)
	var d Diff
	if hasPrev {
		d = diff(prev, m)
	} else {
		d = diff(Manifest{}, m)
	}
	return m, d, nil
}

// Rollback makes the version that was current before the current one was
// installed current again (undoing the install, also after an earlier
// rollback), and returns it with what changed.
func (s *Store) Rollback(name string) (Manifest, Diff, error) {
	cur, err := s.current(name)
	if err != nil {
		return Manifest{}, Diff{}, err
	}
	if cur.Previous == "" {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: no version before %s to roll back to", name, cur.Version)
	}
	prev, err := s.manifest(name, cur.Previous)
	if err != nil || !exists(filepath.Join(s.Root, name, "versions", cur.Previous)) {
		return Manifest{}, Diff{}, fmt.Errorf("rule pack %s: version %s, before %s, is no longer kept (the last %d are)", name, cur.Previous, cur.Version, Keep)
	}
	if err := s.switchTo(name, prev.Version); err != nil {
		return Manifest{}, Diff{}, err
	}
	return prev, diff(cur, prev), nil
}

// Remove uninstalls the pack name with all its versions.
func (s *Store) Remove(name string) error {
	if _, err := s.current(name); err != nil {
		return err
	}
	// The link goes first, so that a loader stops taking the pack even if
	// removing its files fails half-way.
	if err := os.Remove(filepath.Join(s.Root, name, "current")); err != nil {
		return fmt.Errorf("rule pack %s: %w", name, err)
	}
	if err := os.RemoveAll(filepath.Join(s.Root, name)); err != nil {
		return fmt.Errorf("rule pack %s: %w", name, err)
	}
	return nil
}

// List returns the installed packs by name.
func (s *Store) List() ([]Installed, error) {
	names, err := s.names()
	if err != nil {
		return nil, err
	}
	var out []Installed
	for _, n := range names {
		m, err := s.current(n)
		if err != nil {
			return nil, err
		}
		vs, err := s.versions(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Installed{Current: m, Versions: vs})
	}
	return out, nil
}

// Dirs returns the directories of the packs' current versions, by pack
// name, resolved past the current link: a loader that reads them again
// after an install or a rollback sees new paths.
func (s *Store) Dirs() ([]string, error) {
	names, err := s.names()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		d, err := filepath.EvalSymlinks(filepath.Join(s.Root, n, "current"))
		if err != nil {
			continue // removed while we looked
		}
		out = append(out, d)
	}
	return out, nil
}

// names lists the packs with a current version.
func (s *Store) names() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rule packs %s: %w", s.Root, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && CheckName(e.Name()) == nil && exists(filepath.Join(s.Root, e.Name(), "current")) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (s *Store) current(name string) (Manifest, error) {
	if err := CheckName(name); err != nil {
		return Manifest{}, err
	}
	target, err := os.Readlink(filepath.Join(s.Root, name, "current"))
	if errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("rule pack %s: %w", name, ErrNotInstalled)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	return s.manifest(name, path.Base(filepath.ToSlash(target)))
}

func (s *Store) manifest(name, version string) (Manifest, error) {
	data, err := os.ReadFile(filepath.Join(s.Root, name, "versions", version+".json"))
	if err != nil {
		return Manifest{}, fmt.Errorf("rule pack %s version %s: manifest: %w", name, version, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("rule pack %s version %s: manifest: %w", name, version, err)
	}
	return m, nil
}

// versions lists the versions on disk, oldest first (ids start with the
// install time).
func (s *Store) versions(name string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.Root, name, "versions"))
	if err != nil {
		return nil, fmt.Errorf("rule pack %s: %w", name, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && exists(filepath.Join(s.Root, name, "versions", e.Name()+".json")) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// switchTo points the pack's current link at version: a new link under a
// temporary name, renamed over the old one.
func (s *Store) switchTo(name, version string) error {
	dir := filepath.Join(s.Root, name)
	tmp := filepath.Join(dir, ".current-"+version)
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join("versions", version), tmp); err != nil {
		return fmt.Errorf("rule pack %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "current")); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rule pack %s: %w", name, err)
	}
	return nil
}

// prune deletes the oldest versions beyond Keep, never the current one.
func (s *Store) prune(name, current string) {
	vs, err := s.versions(name)
	if err != nil {
		return
	}
	for len(vs) > Keep {
		v := vs[0]
		vs = vs[1:]
		if v == current {
			continue
		}
		base := filepath.Join(s.Root, name, "versions", v)
		os.RemoveAll(base)
		os.Remove(base + ".json")
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func fileHash(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// documents reads the rule documents of one file, for selection and the
// manifest.
func documents(f File) (*rule.Set, []error) {
	return (&rule.Options{AnyPlaceholder: true}).ParseSet(f.Path, f.Data)
}
