package rule

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/event"
)

// Taxonomy maps rule logsources onto the event logsources they receive,
// beyond plain equality: Sigma's category families (registry_event covers
// registry_add, registry_delete, registry_set and registry_rename) and
// aliases between services.
type Taxonomy struct {
	Mappings []Mapping
}

// Mapping lets rules whose logsource has every part of Rule also receive
// the events of each of Events: the parts Rule names are replaced by the
// entry's, the rule's other parts stay.
type Mapping struct {
	Rule   event.Logsource
	Events []event.Logsource
}

//go:embed taxonomy.yml
var defaultTaxonomy []byte

// DefaultTaxonomyYAML is the text of the shipped taxonomy, a starting
// point for a custom one.
func DefaultTaxonomyYAML() []byte { return bytes.Clone(defaultTaxonomy) }

// DefaultTaxonomy returns the shipped taxonomy, which follows the Sigma
// taxonomy appendix.
func DefaultTaxonomy() *Taxonomy {
	t, err := parseTaxonomy("builtin:taxonomy.yml", defaultTaxonomy)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return &t.Taxonomy
}

// LoadTaxonomy reads a taxonomy file. Its mappings are added to the
// default ones unless the file sets `replace-default: true`.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	return ParseTaxonomy(path, data)
}

// ParseTaxonomy parses a taxonomy text (see LoadTaxonomy); file names it
// in errors, which are *Error with line and column.
func ParseTaxonomy(file string, data []byte) (*Taxonomy, error) {
	t, err := parseTaxonomy(file, data)
	if err != nil {
		return nil, err
	}
	if t.replace {
		return &Taxonomy{Mappings: t.Mappings}, nil
	}
	def := DefaultTaxonomy()
	def.Mappings = append(def.Mappings, t.Mappings...)
	return def, nil
}

type taxonomyFile struct {
	Taxonomy
	replace bool
}

func parseTaxonomy(file string, data []byte) (*taxonomyFile, error) {
	fail := func(p Pos, format string, args ...any) error {
		return &Error{File: file, Line: p.Line, Col: p.Col, Reason: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		var le *yaml.LoadError
		if errors.As(err, &le) {
			return nil, &Error{File: file, Line: le.Mark.Line, Col: le.Mark.Column, Reason: "YAML: " + le.Message}
		}
		if err == io.EOF {
			return &taxonomyFile{}, nil
		}
		return nil, &Error{File: file, Reason: fmt.Sprintf("YAML: %v", err)}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	kvs, perr := pairs(root, "the taxonomy")
	if perr != nil {
		return nil, fail(perr.pos, "%s", perr.reason)
	}
	t := &taxonomyFile{}
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "replace-default":
			switch strings.ToLower(v.Value) {
			case "true", "yes":
				t.replace = true
			case "false", "no":
			default:
				return nil, fail(pos(v), "replace-default takes true or false, not %q", v.Value)
			}
		case "logsources":
			if v.Kind != yaml.SequenceNode {
				return nil, fail(pos(v), "logsources must be a list of {rule, events} mappings")
			}
			for _, item := range v.Content {
				m, err := parseMapping(deref(item), fail)
				if err != nil {
					return nil, err
				}
				t.Mappings = append(t.Mappings, m)
			}
		default:
			return nil, fail(pos(k), "unknown taxonomy key %q (known: logsources, replace-default)", k.Value)
		}
	}
	return t, nil
}

func parseMapping(n *yaml.Node, fail func(Pos, string, ...any) error) (Mapping, error) {
	var m Mapping
	if n == nil {
		return m, fail(Pos{}, "unresolved alias in logsources")
	}
	kvs, perr := pairs(n, "a logsource mapping")
	if perr != nil {
		return m, fail(perr.pos, "%s", perr.reason)
	}
	var haveRule bool
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "rule":
			ls, err := parseTaxonomyLogsource(v, fail)
			if err != nil {
				return m, err
			}
			if ls == (event.Logsource{}) {
				return m, fail(pos(v), "a mapping's rule logsource must name a product, category or service")
			}
			m.Rule, haveRule = ls, true
		case "events":
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				return m, fail(pos(v), "events must be a non-empty list of logsources")
			}
			for _, e := range v.Content {
				ls, err := parseTaxonomyLogsource(deref(e), fail)
				if err != nil {
					return m, err
				}
				m.Events = append(m.Events, ls)
			}
		default:
			return m, fail(pos(k), "unknown key %q in a logsource mapping (known: rule, events)", k.Value)
		}
	}
	if !haveRule || len(m.Events) == 0 {
		return m, fail(pos(n), "a logsource mapping needs rule and events")
	}
	return m, nil
}

func parseTaxonomyLogsource(n *yaml.Node, fail func(Pos, string, ...any) error) (event.Logsource, error) {
	if n == nil {
		return event.Logsource{}, fail(Pos{}, "unresolved alias in logsources")
	}
	kvs, perr := pairs(n, "logsource")
	if perr != nil {
		return event.Logsource{}, fail(perr.pos, "%s", perr.reason)
	}
	for _, kv := range kvs {
		switch kv[0].Value {
		case "product", "category", "service":
		default:
			return event.Logsource{}, fail(pos(kv[0]), "unknown logsource part %q (known: product, category, service)", kv[0].Value)
		}
	}
	ls, perr := parseLogsource(n)
	if perr != nil {
		return ls, fail(perr.pos, "%s", perr.reason)
	}
	return ls, nil
}

// Expand returns the event logsources a rule of logsource ls receives:
// ls itself first, then one per taxonomy entry that applies. Parts are
// compared in lower case; an empty part matches any event.
func (t *Taxonomy) Expand(ls event.Logsource) []event.Logsource {
	ls = lowerLogsource(ls)
	out := []event.Logsource{ls}
	if t == nil {
		return out
	}
	for _, m := range t.Mappings {
		if !logsourceCovers(m.Rule, ls) {
			continue
		}
		for _, e := range m.Events {
			alt := ls
			if m.Rule.Product != "" {
				alt.Product = e.Product
			}
			if m.Rule.Category != "" {
				alt.Category = e.Category
			}
			if m.Rule.Service != "" {
				alt.Service = e.Service
			}
			// Parts the entry names but the mapping's rule does not
			// narrow the rule further.
			if e.Product != "" {
				alt.Product = e.Product
			}
			if e.Category != "" {
				alt.Category = e.Category
			}
			if e.Service != "" {
				alt.Service = e.Service
			}
			if !containsLogsource(out, alt) {
				out = append(out, alt)
			}
		}
	}
	return out
}

func containsLogsource(ls []event.Logsource, x event.Logsource) bool {
	for _, l := range ls {
		if l == x {
			return true
		}
	}
	return false
}

func lowerLogsource(ls event.Logsource) event.Logsource {
	return event.Logsource{
		Product:  strings.ToLower(ls.Product),
		Category: strings.ToLower(ls.Category),
		Service:  strings.ToLower(ls.Service),
	}
}
