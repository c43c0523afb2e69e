package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"gopkg.in/yaml.v3"
)

// ruleFile is one rule file of the benchmark's rule set: a file with at
// least one document whose logsource.product is windows.
type ruleFile struct {
	path string // as opened
	key  string // relative to the rules directory, slash-separated: the rule's identity across engines
	data []byte
	docs int // documents with product windows
}

// windowsRuleFiles walks dir the way vigil's loader does (sorted, .yml and
// .yaml, hidden directories skipped) and keeps the files with a document
// whose logsource.product is windows. Every engine gets the same files.
func windowsRuleFiles(dir string) ([]ruleFile, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".yml" || ext == ".yaml" {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	var out []ruleFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		n := windowsDocs(data)
		if n == 0 {
			continue
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			rel = p
		}
		out = append(out, ruleFile{path: p, key: filepath.ToSlash(rel), data: data, docs: n})
	}
	if len(out) == 0 {
		return nil, errors.New("no rule with logsource.product windows under " + dir)
	}
	return out, nil
}

// windowsDocs counts the documents of a YAML file whose logsource.product
// is windows (ignoring case). A file that does not parse counts its
// documents up to the error.
func windowsDocs(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var doc struct {
			Logsource struct {
				Product string `yaml:"product"`
			} `yaml:"logsource"`
		}
		err := dec.Decode(&doc)
		if err == io.EOF {
			return n
		}
		if err != nil {
			return n
		}
		if strings.EqualFold(doc.Logsource.Product, "windows") {
			n++
		}
	}
}

// router routes an event's logsource to the rules written for it, with
// vigil's rule: every logsource part the rule names equals the event's,
// ignoring case (parts the rule leaves out match anything), or equals one
// of the event logsources the taxonomy maps the rule's onto (registry_event
// receives registry_set…). The peers get it so that they meet exactly the
// rules vigil runs on an event.
type router struct {
	alts  [][]event.Logsource // per rule
	cache map[event.Logsource][]int32
}

func newRouter(rules []event.Logsource, tax *rule.Taxonomy) *router {
	r := &router{cache: map[event.Logsource][]int32{}}
	for _, ls := range rules {
		r.alts = append(r.alts, tax.Expand(ls))
	}
	return r
}

func (r *router) lookup(ls event.Logsource) []int32 {
	if idx, ok := r.cache[ls]; ok {
		return idx
	}
	idx := []int32{}
	for i, alts := range r.alts {
		for _, a := range alts {
			if part(a.Product, ls.Product) && part(a.Category, ls.Category) && part(a.Service, ls.Service) {
				idx = append(idx, int32(i))
				break
			}
		}
	}
	r.cache[ls] = idx
	return idx
}

func part(rule, ev string) bool { return rule == "" || strings.EqualFold(rule, ev) }
