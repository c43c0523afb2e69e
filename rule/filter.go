package rule

import (
	"fmt"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/event"
)

// Filter is a Sigma filter (meta filter) document: a detection that
// suppresses matches of the rules it names. A rule a filter applies to
// matches only when its own condition holds and the filter's does not.
type Filter struct {
	ID          string
	Title       string
	Description string
	Date        string
	Modified    string
	Logsource   event.Logsource
	// Rules names the rules to filter, by id or name.
	Rules     []string
	Detection *Detection

	File     string
	Line     int
	rulesPos []Pos
}

// isFilter reports whether a document is a filter: it has a top-level
// `filter` key.
func isFilter(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := deref(root.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "filter" {
			return true
		}
	}
	return false
}

// isTestsDoc reports whether a document holds rule test cases (a top-level
// `tests` key and no detection, filter or correlation): tests files
// (<rule>.tests.yml) sit beside the rules and are skipped when loading.
func isTestsDoc(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	tests := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch k := deref(root.Content[i]); {
		case k == nil:
		case k.Value == "tests":
			tests = true
		case k.Value == "detection" || k.Value == "filter" || k.Value == "correlation":
			return false
		}
	}
	return tests
}

func parseFilter(file string, root *yaml.Node, o *Options) (*Filter, *posError) {
	kvs, err := pairs(root, "a filter document")
	if err != nil {
		return nil, err
	}
	f := &Filter{File: file, Line: root.Line}
	m := metaKeys{title: &f.Title, id: &f.ID, description: &f.Description, date: &f.Date, modified: &f.Modified}
	var body, bodyKey *yaml.Node
	if err := m.parse(kvs, func(k, v *yaml.Node) (err *posError) {
		switch k.Value {
		case "logsource":
			f.Logsource, err = parseLogsource(v)
		case "filter":
			body, bodyKey = v, k
		case "detection":
			err = errAt(pos(k), "a filter document holds its searches under 'filter', not 'detection'")
		}
		return err
	}); err != nil {
		return nil, err
	}
	if f.Title == "" {
		return nil, errAt(pos(root), "filter has no title")
	}
	if body.Kind != yaml.MappingNode {
		return nil, errAt(pos(body), "filter must be a map of rules, searches and a condition")
	}
	// The filter section is a detection with one more key, rules.
	det := &yaml.Node{Kind: yaml.MappingNode, Line: body.Line, Column: body.Column}
	var rulesNode *yaml.Node
	for i := 0; i+1 < len(body.Content); i += 2 {
		if k := deref(body.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "rules" {
			rulesNode = deref(body.Content[i+1])
			if rulesNode == nil {
				return nil, errAt(pos(k), "filter rules hold an unresolved alias")
			}
			continue
		}
		det.Content = append(det.Content, body.Content[i], body.Content[i+1])
	}
	if rulesNode == nil {
		return nil, errAt(pos(bodyKey), "filter %q names no rules (filter: rules: [id or name, …])", f.Title)
	}
	switch rulesNode.Kind {
	case yaml.ScalarNode:
		f.Rules, f.rulesPos = []string{rulesNode.Value}, []Pos{pos(rulesNode)}
	case yaml.SequenceNode:
		for _, item := range rulesNode.Content {
			item = deref(item)
			if item == nil || item.Kind != yaml.ScalarNode || item.Value == "" {
				return nil, errAt(pos(rulesNode), "filter rules must be a list of rule ids or names")
			}
			f.Rules, f.rulesPos = append(f.Rules, item.Value), append(f.rulesPos, pos(item))
		}
	default:
		return nil, errAt(pos(rulesNode), "filter rules must be a list of rule ids or names")
	}
	if len(f.Rules) == 0 {
		return nil, errAt(pos(rulesNode), "filter %q names no rules", f.Title)
	}
	d, err := parseDetection(bodyKey, det, o)
	if err != nil {
		return nil, err
	}
	f.Detection = d
	if f.ID == "" {
		f.ID = DerivedID(file, f.Title)
	}
	return f, nil
}

// ApplyFilters applies each filter to the rules it names (by id, or by
// name): such a rule's condition becomes `(condition) and not (filter
// condition)`, with the filter's searches added under names a condition
// cannot spell. A filter whose logsource part differs from a named rule's,
// or that names no loaded rule, is reported and skipped for that rule.
// The rules are changed in place and returned.
func ApplyFilters(rules []*Rule, filters []*Filter) ([]*Rule, []error) {
	if len(filters) == 0 {
		return rules, nil
	}
	byRef := make(map[string][]*Rule, 2*len(rules))
	for _, r := range rules {
		byRef[r.ID] = append(byRef[r.ID], r)
		if r.Name != "" && r.Name != r.ID {
			byRef[r.Name] = append(byRef[r.Name], r)
		}
	}
	var errs []error
	for _, f := range filters {
		for i, ref := range f.Rules {
			targets := byRef[ref]
			if len(targets) == 0 {
				errs = append(errs, &Error{File: f.File, Line: f.rulesPos[i].Line, Col: f.rulesPos[i].Col,
					Reason: fmt.Sprintf("filter %q: no loaded rule has the id or name %q", f.Title, ref)})
				continue
			}
			for _, r := range targets {
				if !logsourceCovers(f.Logsource, r.Logsource) {
					errs = append(errs, &Error{File: f.File, Line: f.rulesPos[i].Line, Col: f.rulesPos[i].Col,
						Reason: fmt.Sprintf("filter %q is for logsource %s but rule %q (%s) has logsource %s", f.Title, logsourceString(f.Logsource), r.Title, ref, logsourceString(r.Logsource))})
					continue
				}
				if !slices.Contains(r.Filters, f.ID) {
					applyFilter(r, f)
				}
			}
		}
	}
	return rules, errs
}

func applyFilter(r *Rule, f *Filter) {
	prefix := "filter " + f.ID + "/"
	rename := func(n string) string { return prefix + n }
	d := &Detection{Pos: r.Detection.Pos}
	d.Searches = append(d.Searches, r.Detection.Searches...)
	for _, s := range f.Detection.Searches {
		c := *s
		c.Name = rename(s.Name)
		d.Searches = append(d.Searches, &c)
	}
	d.Condition = &And{X: []Expr{r.Detection.Condition, &Not{X: renameExpr(f.Detection.Condition, rename)}}}
	r.Detection = d
	r.Filters = append(r.Filters, f.ID)
}

// renameExpr copies x with every search name passed through rename.
func renameExpr(x Expr, rename func(string) string) Expr {
	switch x := x.(type) {
	case *Ref:
		return &Ref{Name: rename(x.Name), Offset: x.Offset}
	case *Not:
		return &Not{X: renameExpr(x.X, rename)}
	case *And:
		out := &And{X: make([]Expr, len(x.X))}
		for i, e := range x.X {
			out.X[i] = renameExpr(e, rename)
		}
		return out
	case *Or:
		out := &Or{X: make([]Expr, len(x.X))}
		for i, e := range x.X {
			out.X[i] = renameExpr(e, rename)
		}
		return out
	case *Of:
		c := *x
		c.Names = make([]string, len(x.Names))
		for i, n := range x.Names {
			c.Names[i] = rename(n)
		}
		return &c
	}
	return x
}

// logsourceCovers reports whether every part that filter names equals the
// rule's (both are lower case).
func logsourceCovers(filter, r event.Logsource) bool {
	eq := func(f, r string) bool { return f == "" || f == r }
	return eq(filter.Product, r.Product) && eq(filter.Category, r.Category) && eq(filter.Service, r.Service)
}

func logsourceString(ls event.Logsource) string {
	var parts []string
	for _, p := range [][2]string{{"product", ls.Product}, {"category", ls.Category}, {"service", ls.Service}} {
		if p[1] != "" {
			parts = append(parts, p[0]+": "+p[1])
		}
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// ApplyFilters applies the set's filters to its rules (see the function
// ApplyFilters). A filter already applied to a rule is not applied again,
// so calling it twice is harmless.
func (s *Set) ApplyFilters() []error {
	if s == nil {
		return nil
	}
	var errs []error
	s.Rules, errs = ApplyFilters(s.Rules, s.Filters)
	return errs
}
