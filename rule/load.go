package rule

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/event"
)

// Load parses the rules of every path: a file, or a directory walked for
// .yml and .yaml files in sorted order (hidden directories are skipped).
// Every problem is an *Error; a bad rule or file never stops the others.
// Correlation rules are parsed and left out; LoadSet returns them too.
func Load(paths ...string) ([]*Rule, []error) {
	s, errs := LoadSet(paths...)
	return s.Rules, errs
}

// LoadSet is Load returning every kind of rule document. Sigma filters are
// applied to the rules they name.
func LoadSet(paths ...string) (*Set, []error) {
	s, errs := (*Options)(nil).LoadSet(paths...)
	return s, append(errs, s.ApplyFilters()...)
}

// Defaults of the size limits of Options: generous for any real rule
// (SigmaHQ's largest has a few hundred values), bounded so that one file
// cannot take the server's memory.
const (
	DefaultMaxRuleValues = 100_000
	DefaultMaxFileBytes  = 8 << 20
)

// Options are what loading needs from the configuration; nil loads rules
// that use no placeholders, with the default limits.
type Options struct {
	// Placeholders fills each %name% of a value under the expand modifier
	// with every one of its values.
	Placeholders map[string][]string
	// MaxRuleValues bounds the values of one rule's (or filter's)
	// detection, counted as compiled: after placeholders and modifiers
	// such as windash expand them. 0: DefaultMaxRuleValues.
	MaxRuleValues int
	// MaxFileBytes bounds a rule file or text. 0: DefaultMaxFileBytes.
	MaxFileBytes int64
	// AnyPlaceholder lets a placeholder that Placeholders does not define
	// stand for itself, for tools that read rules without running them
	// (installing a pack: the placeholders are the running server's).
	AnyPlaceholder bool
	// OptionalPlaceholders leaves out, without an error, a detection rule
	// with a placeholder that Placeholders does not define, and names it
	// in Set.Unconfigured: the built-in pack's rules on site lists
	// (authorised accounts, blocked role names) run only where the site
	// has stated its list.
	OptionalPlaceholders bool
}

func (o *Options) maxRuleValues() int {
	if o == nil || o.MaxRuleValues <= 0 {
		return DefaultMaxRuleValues
	}
	return o.MaxRuleValues
}

func (o *Options) maxFileBytes() int64 {
	if o == nil || o.MaxFileBytes <= 0 {
		return DefaultMaxFileBytes
	}
	return o.MaxFileBytes
}

func (o *Options) tooLarge(file string, size int64) error {
	return &Error{File: file, Reason: fmt.Sprintf("rule file is %d bytes, more than the limit of %d (rule-max-file raises it)", size, o.maxFileBytes())}
}

func (o *Options) placeholder(name string) ([]string, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.Placeholders[name]
	if !ok && o.AnyPlaceholder {
		return []string{"%" + name + "%"}, true
	}
	return v, ok
}

// LoadSet parses every path as the package's LoadSet does, with options,
// but leaves the Sigma filters unapplied (in Set.Filters): a caller that
// adds rules from elsewhere calls Set.ApplyFilters once it has them all.
func (o *Options) LoadSet(paths ...string) (*Set, []error) {
	set := &Set{}
	var errs []error
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			errs = append(errs, &Error{File: root, Reason: "cannot read rules: " + osReason(err)})
			continue
		}
		if !info.IsDir() {
			s, es := o.ParseFileSet(root)
			set.Add(s)
			errs = append(errs, es...)
			continue
		}
		files, err := FilesIn(root, func(path string, err error) {
			errs = append(errs, &Error{File: path, Reason: "cannot read rules: " + osReason(err)})
		})
		if err != nil {
			errs = append(errs, &Error{File: root, Reason: "cannot walk rules: " + osReason(err)})
		}
		for _, f := range files {
			s, es := o.ParseFileSet(f)
			set.Add(s)
			errs = append(errs, es...)
		}
	}
	return set, errs
}

// osReason is err without the path an *fs.PathError repeats: the Error
// that carries the reason names the file already.
func osReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ParseFile parses the rules of one YAML file.
func ParseFile(path string) ([]*Rule, []error) {
	s, errs := ParseFileSet(path)
	return s.Rules, errs
}

// ParseFileSet is ParseFile returning every kind of rule document.
func ParseFileSet(path string) (*Set, []error) {
	s, errs := (*Options)(nil).ParseFileSet(path)
	return s, append(errs, s.ApplyFilters()...)
}

// ParseFileSet is ParseSet of a file's text, with options; filters are
// left unapplied.
func (o *Options) ParseFileSet(path string) (*Set, []error) {
	s, errs, _ := o.ReadFileSet(path)
	return s, errs
}

// FileStamp is a file's size and modification time: what tells a changed
// rule file from the one parsed before.
type FileStamp struct {
	Size int64
	Mod  time.Time
}

// ReadFileSet is ParseFileSet also returning the stamp of the file as it
// was read (from the descriptor read, so that a caller keeping parses by
// stamp needs no stat of its own); the zero FileStamp when the file could
// not be read or was over the size limit.
func (o *Options) ReadFileSet(path string) (*Set, []error, FileStamp) {
	// The size is checked before reading: a huge file is not read whole.
	data, stamp, large, err := readRuleFile(path, o.maxFileBytes())
	if large > 0 {
		return &Set{}, []error{o.tooLarge(path, large)}, FileStamp{}
	}
	if err != nil {
		return &Set{}, []error{&Error{File: path, Reason: "cannot read rule file: " + osReason(err)}}, FileStamp{}
	}
	s, errs := o.ParseSet(path, data)
	return s, errs, stamp
}

// Parse parses the rules of one YAML text; file names it in errors and in
// Rule.File. Several rules may share the text as YAML documents; empty
// documents are skipped. A YAML syntax error ends the file (what follows
// cannot be trusted); a bad rule only drops that rule.
func Parse(file string, data []byte) ([]*Rule, []error) {
	s, errs := ParseSet(file, data)
	return s.Rules, errs
}

// ParseSet is Parse returning every kind of rule document: detection rules
// and correlation rules (and the filters, applied to the text's rules).
func ParseSet(file string, data []byte) (*Set, []error) {
	s, errs := (*Options)(nil).ParseSet(file, data)
	return s, append(errs, s.ApplyFilters()...)
}

// ParseSet parses every kind of rule document of one YAML text, with
// options; Sigma filters are left unapplied in Set.Filters.
func (o *Options) ParseSet(file string, data []byte) (*Set, []error) {
	set := &Set{}
	if int64(len(data)) > o.maxFileBytes() {
		return set, []error{o.tooLarge(file, int64(len(data)))}
	}
	var errs []error
	p := parsers.Get().(*blockParser)
	docs, ok := p.parse(data)
	if ok {
		for _, root := range docs {
			errs = o.parseDoc(file, root, set, errs)
		}
	}
	p.release() // the rules hold no node
	if ok {
		return set, errs
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			var le *yaml.LoadError
			if errors.As(err, &le) {
				errs = append(errs, &Error{File: file, Line: le.Mark.Line, Col: le.Mark.Column, Reason: "YAML: " + le.Message})
			} else {
				errs = append(errs, &Error{File: file, Reason: fmt.Sprintf("YAML: %v", err)})
			}
			break
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		errs = o.parseDoc(file, root, set, errs)
	}
	return set, errs
}

// parseDoc adds a document's rule, correlation or filter to set, or its
// problem to errs.
func (o *Options) parseDoc(file string, root *yaml.Node, set *Set, errs []error) []error {
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return errs
	}
	if isCorrelationDoc(root) {
		c, perr := parseCorrelation(file, root)
		if perr != nil {
			return append(errs, &Error{File: file, Line: perr.pos.Line, Col: perr.pos.Col, Reason: perr.reason})
		}
		set.Correlations = append(set.Correlations, c)
		return errs
	}
	if isTestsDoc(root) {
		return errs // test cases of `vigil rules test`, not rules
	}
	if isFilter(root) {
		f, perr := parseFilter(file, root, o)
		if perr != nil {
			return append(errs, &Error{File: file, Line: perr.pos.Line, Col: perr.pos.Col, Reason: perr.reason})
		}
		set.Filters = append(set.Filters, f)
		return errs
	}
	r, perr := parseRule(file, root, o)
	if perr != nil && perr.unset != "" && o != nil && o.OptionalPlaceholders {
		set.Unconfigured = append(set.Unconfigured, Unconfigured{File: file, Title: docTitle(root), Placeholder: perr.unset})
		return errs
	}
	if perr != nil {
		return append(errs, &Error{File: file, Line: perr.pos.Line, Col: perr.pos.Col, Reason: perr.reason})
	}
	if r.Name == "" {
		r.Name, _ = docName(root)
	}
	set.Rules = append(set.Rules, r)
	return errs
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// valueCount counts the values of a detection's searches as written
// (each is at least one value once compiled), following aliases, and
// refuses them past limit at the key they are under. It looks only where
// values may be — a search's map, its list of maps or keywords, a field's
// value or list — and leaves shapes that are not a rule's to parseSearch.
// visits bounds the walk itself: aliases can make a small text a huge
// tree.
type valueCount struct {
	limit, n, visits int
}

// add counts the values of v, found under key; search is set for a
// search's own value.
func (c *valueCount) add(key, v *yaml.Node, search bool) *posError {
	if c.visits++; c.visits > 4*c.limit+1024 {
		return errAt(pos(key), "the rule's detection is too large (more than %d YAML nodes)", 4*c.limit+1024)
	}
	if v = deref(v); v == nil {
		return nil
	}
	switch {
	case v.Kind == yaml.ScalarNode:
		if c.n++; c.n > c.limit {
			return errAt(pos(key), "the rule has more than %d values (the limit; rule-max-values raises it)", c.limit)
		}
	case v.Kind == yaml.SequenceNode:
		for _, e := range v.Content {
			if e = deref(e); e == nil || e.Kind == yaml.SequenceNode || e.Kind == yaml.MappingNode && !search {
				continue
			}
			if err := c.add(key, e, search); err != nil {
				return err
			}
		}
	case v.Kind == yaml.MappingNode && search:
		for i := 0; i+1 < len(v.Content); i += 2 {
			if err := c.add(v.Content[i], v.Content[i+1], false); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkValues refuses a detection with more than limit values, at the
// field that passes it. Values count as compiled: a value that expands to
// several patterns counts as each; the compiled matcher's size grows with
// them.
func checkValues(d *Detection, limit int) *posError {
	n := 0
	for _, s := range d.Searches {
		for _, g := range s.Groups {
			for _, m := range g {
				for _, v := range m.Values {
					n += max(1, len(v.Patterns))
				}
				if n > limit {
					return errAt(m.Pos, "the rule has more than %d values (the limit; rule-max-values raises it)", limit)
				}
			}
		}
	}
	return nil
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// pairs returns a mapping's keys and values, rejecting duplicate keys, which
// YAML forbids and which would silently drop a search or a field.
func pairs(m *yaml.Node, what string) ([][2]*yaml.Node, *posError) {
	if m.Kind != yaml.MappingNode {
		return nil, errAt(pos(m), "%s must be a map", what)
	}
	out := make([][2]*yaml.Node, 0, len(m.Content)/2)
	// A map of a few keys is checked for duplicates against the keys
	// before it: a Go map for each would be most of the cost.
	var seen map[string]bool
	if len(m.Content) > 16 {
		seen = make(map[string]bool, len(m.Content)/2)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		if k == nil || v == nil {
			return nil, errAt(pos(m), "%s holds an unresolved alias", what)
		}
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(pos(k), "keys of %s must be plain text", what)
		}
		dup := false
		if seen != nil {
			dup = seen[k.Value]
			seen[k.Value] = true
		} else {
			for _, kv := range out {
				if kv[0].Value == k.Value {
					dup = true
					break
				}
			}
		}
		if dup {
			return nil, errAt(pos(k), "duplicate key %q in %s", k.Value, what)
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

func text(k, v *yaml.Node) (string, *posError) {
	if v.Kind != yaml.ScalarNode {
		return "", errAt(pos(v), "%q must be a single value", k.Value)
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return v.Value, nil
}

func textList(k, v *yaml.Node) ([]string, *posError) {
	if v.Kind == yaml.ScalarNode {
		if v.Tag == "!!null" {
			return nil, nil
		}
		return []string{v.Value}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, errAt(pos(v), "%q must be a list of values", k.Value)
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		item = deref(item)
		if item == nil || item.Kind != yaml.ScalarNode {
			return nil, errAt(pos(v), "%q must be a list of values, not of lists or maps", k.Value)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

var levels = map[string]bool{"informational": true, "low": true, "medium": true, "high": true, "critical": true}

func parseRule(file string, root *yaml.Node, o *Options) (*Rule, *posError) {
	kvs, err := pairs(root, "a rule document")
	if err != nil {
		return nil, err
	}
	r := &Rule{File: file, Line: root.Line}
	m := r.Meta.keys()
	var detection *yaml.Node
	var detectionKey *yaml.Node
	if err := m.parse(kvs, func(k, v *yaml.Node) (err *posError) {
		switch k.Value {
		case "fields":
			r.Fields, err = textList(k, v)
		case "logsource":
			r.Logsource, err = parseLogsource(v)
		case "detection":
			detection, detectionKey = v, k
		case "aggregation":
			r.Aggregation, err = parseAggregation(k, v)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if r.Title == "" {
		return nil, errAt(pos(root), "rule has no title")
	}
	if detection == nil {
		return nil, errAt(pos(root), "rule %q has no detection", r.Title)
	}
	d, err := parseDetection(detectionKey, detection, o)
	if err != nil {
		return nil, err
	}
	r.Detection = d
	if r.ID == "" {
		r.ID = DerivedID(file, r.Title)
	}
	return r, nil
}

// DerivedID is the id of a rule written without one: a UUID (version 8,
// RFC 9562's custom layout) made of the SHA-256 of the file's base name, a
// newline and the title. It stays the same wherever the rule file is kept,
// and changes when the file is renamed or the title edited.
func DerivedID(file, title string) string {
	sum := sha256.Sum256([]byte(filepath.Base(file) + "\n" + title))
	sum[6] = sum[6]&0x0f | 0x80
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func parseLogsource(v *yaml.Node) (ls event.Logsource, _ *posError) {
	kvs, err := pairs(v, "logsource")
	if err != nil {
		return ls, err
	}
	for _, kv := range kvs {
		var s string
		switch kv[0].Value {
		case "product", "category", "service":
			if s, err = text(kv[0], kv[1]); err != nil {
				return ls, err
			}
			s = strings.ToLower(s)
		}
		switch kv[0].Value {
		case "product":
			ls.Product = s
		case "category":
			ls.Category = s
		case "service":
			ls.Service = s
		}
	}
	return ls, nil
}

func parseDetection(key, v *yaml.Node, o *Options) (*Detection, *posError) {
	kvs, err := pairs(v, "detection")
	if err != nil {
		return nil, err
	}
	d := &Detection{}
	var cond *yaml.Node
	// Values as written are counted first, so that a rule far over the
	// limit is refused before its values are turned into patterns.
	vc := valueCount{limit: o.maxRuleValues()}
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "condition":
			cond = v
			d.Pos = pos(v)
			continue
		case "timeframe":
			return nil, errAt(pos(k), "timeframe is the old aggregation syntax: write a correlation rule (see docs/correlation.md)")
		}
		if err := vc.add(k, v, true); err != nil {
			return nil, err
		}
		s, err := parseSearch(k, v, o)
		if err != nil {
			return nil, err
		}
		d.Searches = append(d.Searches, s)
	}
	if err := checkValues(d, o.maxRuleValues()); err != nil {
		return nil, err
	}
	if cond == nil {
		return nil, errAt(pos(key), "detection has no condition")
	}
	names := make([]string, len(d.Searches))
	for i, s := range d.Searches {
		names[i] = s.Name
	}
	var conds []*yaml.Node
	switch cond.Kind {
	case yaml.ScalarNode:
		conds = []*yaml.Node{cond}
	case yaml.SequenceNode:
		for _, c := range cond.Content {
			if c = deref(c); c == nil || c.Kind != yaml.ScalarNode {
				return nil, errAt(pos(cond), "condition list must hold conditions as text")
			}
			conds = append(conds, c)
		}
		if len(conds) == 0 {
			return nil, errAt(pos(cond), "condition list is empty")
		}
	default:
		return nil, errAt(pos(cond), "condition must be text or a list of texts")
	}
	var exprs []Expr
	for _, c := range conds {
		e, err := ParseCondition(c.Value, names)
		if err != nil {
			var ce *ConditionError
			errors.As(err, &ce)
			return nil, errAt(conditionPos(c, ce.Offset), "condition: %s", ce.Reason)
		}
		exprs = append(exprs, e)
	}
	if len(exprs) == 1 {
		d.Condition = exprs[0]
	} else {
		d.Condition = &Or{X: exprs}
	}
	return d, nil
}

// conditionPos maps a byte offset of a condition's text to a place in the
// file. It is exact for a condition on one line; in a block scalar it finds
// the line; a folded multi-line plain scalar gives its start.
func conditionPos(n *yaml.Node, off int) Pos {
	if off > len(n.Value) {
		off = len(n.Value)
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		before := n.Value[:off]
		line := n.Line + 1 + strings.Count(before, "\n")
		return Pos{line, 0}
	}
	if strings.Contains(n.Value, "\n") {
		return pos(n)
	}
	shift := 0
	if n.Style == yaml.SingleQuotedStyle || n.Style == yaml.DoubleQuotedStyle {
		shift = 1
	}
	return Pos{n.Line, n.Column + shift + off}
}

func keyShift(k *yaml.Node) int {
	if k.Style == yaml.SingleQuotedStyle || k.Style == yaml.DoubleQuotedStyle {
		return 1
	}
	return 0
}

func parseSearch(k, v *yaml.Node, o *Options) (*Search, *posError) {
	s := &Search{Name: k.Value, Pos: pos(k)}
	switch v.Kind {
	case yaml.MappingNode:
		g, err := parseGroup(v, s.Name, o)
		if err != nil {
			return nil, err
		}
		s.Groups = append(s.Groups, g)
	case yaml.SequenceNode:
		var keywords []scalar
		for _, item := range v.Content {
			item = deref(item)
			switch {
			case item == nil:
				return nil, errAt(pos(v), "search %q holds an unresolved alias", s.Name)
			case item.Kind == yaml.ScalarNode:
				keywords = append(keywords, scalarOf(item))
			case item.Kind == yaml.MappingNode:
				g, err := parseGroup(item, s.Name, o)
				if err != nil {
					return nil, err
				}
				s.Groups = append(s.Groups, g)
			default:
				return nil, errAt(pos(item), "search %q: a list may hold keywords or maps, not lists", s.Name)
			}
		}
		if len(keywords) > 0 {
			m, err := newMatcher("", pos(v), 0, keywords, true, o)
			if err != nil {
				return nil, err
			}
			s.Groups = append(s.Groups, []*Matcher{m})
		}
		if len(s.Groups) == 0 {
			return nil, errAt(pos(v), "search %q is an empty list", s.Name)
		}
	default:
		return nil, errAt(pos(v), "search %q must be a map of fields, a list of maps or a list of keywords", s.Name)
	}
	return s, nil
}

func scalarOf(n *yaml.Node) scalar {
	return scalar{text: n.Value, null: n.Tag == "!!null", pos: pos(n)}
}

func parseGroup(m *yaml.Node, search string, o *Options) ([]*Matcher, *posError) {
	kvs, err := pairs(m, "search "+search)
	if err != nil {
		return nil, err
	}
	if len(kvs) == 0 {
		return nil, errAt(pos(m), "search %q is an empty map", search)
	}
	g := make([]*Matcher, 0, len(kvs))
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		var vals []scalar
		list := false
		switch v.Kind {
		case yaml.ScalarNode:
			vals = []scalar{scalarOf(v)}
		case yaml.SequenceNode:
			list = true
			vals = make([]scalar, 0, len(v.Content))
			for _, item := range v.Content {
				item = deref(item)
				if item == nil || item.Kind != yaml.ScalarNode {
					return nil, errAt(pos(v), "values of %q must be single values, not lists or maps", k.Value)
				}
				vals = append(vals, scalarOf(item))
			}
		default:
			return nil, errAt(pos(v), "value of %q must be a value or a list of values", k.Value)
		}
		matcher, err := newMatcher(k.Value, pos(k), keyShift(k), vals, list, o)
		if err != nil {
			return nil, err
		}
		g = append(g, matcher)
	}
	return g, nil
}
