package pack

import (
	"fmt"
	"slices"
	"strings"
)

// Selection chooses the rules of a source to install.
type Selection struct {
	// Status lists the statuses kept (stable, test, experimental,
	// deprecated, unsupported); empty keeps all. A rule without a status
	// is kept, as vigil serve runs it.
	Status []string `json:"status,omitempty"`
	// MinLevel leaves out rules of a lower level (informational, low,
	// medium, high, critical); empty keeps all. A rule without a level is
	// kept.
	MinLevel string `json:"min_level,omitempty"`
}

var statuses = []string{"stable", "test", "experimental", "deprecated", "unsupported"}

var levels = []string{"informational", "low", "medium", "high", "critical"}

func (s Selection) check() error {
	for _, st := range s.Status {
		if !slices.Contains(statuses, st) {
			return fmt.Errorf("status %q is not one of %s", st, strings.Join(statuses, ", "))
		}
	}
	if s.MinLevel != "" && !slices.Contains(levels, s.MinLevel) {
		return fmt.Errorf("level %q is not one of %s", s.MinLevel, strings.Join(levels, ", "))
	}
	return nil
}

func (s Selection) equal(o Selection) bool {
	a, b := slices.Sorted(slices.Values(s.Status)), slices.Sorted(slices.Values(o.Status))
	return slices.Equal(a, b) && s.MinLevel == o.MinLevel
}

// keeps reports whether a rule of this status and level is selected.
func (s Selection) keeps(status, level string) bool {
	if status != "" && len(s.Status) > 0 && !slices.Contains(s.Status, strings.ToLower(status)) {
		return false
	}
	if level != "" && s.MinLevel != "" {
		if i := slices.Index(levels, strings.ToLower(level)); i >= 0 && i < slices.Index(levels, s.MinLevel) {
			return false
		}
	}
	return true
}

// selectFiles picks the files of src to install. A file is kept when one
// of its detection rules is selected; a file of correlation rules only
// when every rule they refer to is kept; a file of filters only, always
// (a filter of a rule that is not there does nothing); a tests file when
// the rule file beside it is kept. A file that does not load is left out
// and reported.
func selectFiles(src *Source, sel Selection) ([]File, Manifest) {
	var m Manifest
	type parsed struct {
		f       File
		entries []Entry
		refs    []string // rules its correlations refer to
		rules   int      // detection rules
		keep    bool
	}
	var all []*parsed
	tests := map[string]File{}
	kept := map[string]bool{} // ids and names of kept detection rules
	for _, f := range src.Files {
		if isTestsPath(f.Path) {
			tests[f.Path] = f
			continue
		}
		set, errs := documents(f)
		if len(errs) > 0 {
			m.Problems = append(m.Problems, Problem{File: f.Path, Reason: errs[0].Error()})
			continue
		}
		p := &parsed{f: f}
		h := fileHash(f.Data)
		for _, r := range set.Rules {
			p.rules++
			p.entries = append(p.entries, Entry{ID: r.ID, Kind: "rule", Title: r.Title, Status: r.Status, Level: r.Level, File: f.Path, Hash: h})
			if sel.keeps(r.Status, r.Level) {
				p.keep = true
			} else {
				m.Deselected++
			}
		}
		if p.keep {
			for _, r := range set.Rules {
				kept[r.ID] = true
				if r.Name != "" {
					kept[r.Name] = true
				}
			}
		}
		for _, c := range set.Correlations {
			p.entries = append(p.entries, Entry{ID: c.ID, Kind: "correlation", Title: c.Title, Status: c.Status, Level: c.Level, File: f.Path, Hash: h})
			for _, r := range c.Rules {
				p.refs = append(p.refs, r.Ref)
			}
		}
		for _, x := range set.Filters {
			p.entries = append(p.entries, Entry{ID: x.ID, Kind: "filter", Title: x.Title, File: f.Path, Hash: h})
		}
		if len(p.entries) == 0 {
			continue // empty documents only
		}
		all = append(all, p)
	}
	var files []File
	for _, p := range all {
		if p.rules == 0 {
			p.keep = true
			for _, r := range p.refs {
				if !kept[r] {
					p.keep = false
				}
			}
		}
		if !p.keep {
			continue
		}
		files = append(files, p.f)
		m.Entries = append(m.Entries, p.entries...)
		if t, ok := tests[testsPathOf(p.f.Path)]; ok {
			files = append(files, t)
		}
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, m
}

func isTestsPath(p string) bool {
	return strings.HasSuffix(strings.TrimSuffix(strings.TrimSuffix(p, ".yml"), ".yaml"), ".tests")
}

// testsPathOf is the tests file beside the rule file p (X.yml: X.tests.yml).
func testsPathOf(p string) string {
	if base, ok := strings.CutSuffix(p, ".yaml"); ok {
		return base + ".tests.yaml"
	}
	return strings.TrimSuffix(p, ".yml") + ".tests.yml"
}
