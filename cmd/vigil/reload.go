package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/rule/pack"
)

// ruleLoader loads the configured rules file by file and keeps, for each
// file, the last version that loaded without errors: when an edit breaks a
// file, its errors are logged and its previous rules stay in force.
type ruleLoader struct {
	builtin bool
	// paths are the rule paths of this refresh: the configured ones, then
	// the current versions of the installed rule packs.
	paths      []string
	configured []string
	// packs, when set, are the installed rule packs (vigil rules
	// install): each refresh takes their current versions, so an install
	// or a rollback is picked up like an edited file.
	packs    *pack.Store
	opts     *rule.Options
	taxonomy *rule.Taxonomy
	// extraFields are source fields to decode besides those rules read:
	// the ones enrichers read (file hashes for intelligence).
	extraFields []string
	status      map[string]bool // statuses that run; rules without one always run
	disabled    map[string]bool // rule ids
	lateness    time.Duration   // allowed lateness of correlation matches
	strict      bool            // a reload with rules that do not load is not swapped in
	log         *slog.Logger
	cache       *ruleCache // parses kept between runs; nil: none

	builtinSet *rule.Set
	builtinErr []error
	files      map[string]*ruleFile
	// pathErrs are the configured paths that gave no rules at the last
	// refresh (gone, unreadable or empty); their last rules stay in force.
	pathErrs  map[string]error
	refreshed bool
}

type ruleFile struct {
	root string // the configured path it was found under
	mod  time.Time
	size int64
	set  *rule.Set
	errs []error // of the version on disk (also when set is an older one)
	kept bool    // set is the previous version: the one on disk is broken
}

// defaultRuleStatus leaves deprecated and unsupported rules off.
var defaultRuleStatus = []string{"stable", "test", "experimental"}

// ruleReport sums up a build for logs and `vigil rules validate`.
type ruleReport struct {
	loaded, filters, byStatus, disabled, correlations int
	pathErrs                                          []error // configured paths that give no rules
	errs                                              []error // rules, correlation rules and filters not loaded
}

func newRuleLoader(cfg *Config, log *slog.Logger, lateness time.Duration) *ruleLoader {
	l := &ruleLoader{
		builtin: !cfg.NoBuiltin, paths: cfg.Rules, configured: cfg.Rules, log: log, lateness: lateness, strict: cfg.RulesStrict,
		opts:     &rule.Options{Placeholders: cfg.placeholders, MaxRuleValues: cfg.RuleMaxValues, MaxFileBytes: cfg.ruleMaxFile},
		taxonomy: cfg.taxonomy,
		status:   map[string]bool{}, disabled: map[string]bool{},
		files: map[string]*ruleFile{}, pathErrs: map[string]error{},
	}
	if l.taxonomy == nil {
		l.taxonomy = rule.DefaultTaxonomy()
	}
	status := cfg.RuleStatus
	if len(status) == 0 {
		status = defaultRuleStatus
	}
	for _, s := range status {
		l.status[strings.ToLower(s)] = true
	}
	for _, id := range cfg.RulesDisabled {
		l.disabled[id] = true
	}
	return l
}

// refresh re-reads the rule files that changed since the last call (all of
// them the first time) and reports whether anything changed. A configured
// path that is gone or holds no rule keeps the rules it last gave: serve
// refuses to start on one (build reports it), and a reload logs it.
func (l *ruleLoader) refresh() bool {
	changed := false
	l.paths = l.rootPaths()
	if l.builtin && l.builtinSet == nil {
		// The built-in rules are parsed beside the files (on another
		// core when there is one): a start waits for the longer of the
		// two, not for both.
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.builtinSet, l.builtinErr = l.loadBuiltin()
		}()
		defer func() { <-done }()
		changed = true
	}
	next := make(map[string]*ruleFile, len(l.files))
	for _, root := range l.paths {
		files, err := pathFiles(root)
		found := map[string]*ruleFile{}
		docs := 0
		read := l.readFiles(root, files, next)
		for i, path := range files {
			if next[path] != nil {
				continue // also under an earlier path
			}
			f := read[i]
			if f == nil {
				continue // removed between the walk and now: the next pass drops it
			}
			found[path] = f
			docs += len(f.set.Rules) + len(f.set.Correlations) + len(f.set.Filters) + len(f.errs)
		}
		if err == nil && docs == 0 {
			err = &rulesPathError{root, errNoRules}
		}
		if err != nil {
			for p, f := range l.files {
				if f.root == root && next[p] == nil {
					next[p] = f
				}
			}
		} else {
			maps.Copy(next, found)
		}
		l.notePathErr(root, err)
	}
	if len(next) != len(l.files) {
		changed = true
	}
	for p, f := range next {
		if l.files[p] != f {
			changed = true
		}
	}
	l.files = next
	l.refreshed = true
	return changed
}

// rootPaths are the configured rule paths and the directories of the
// packs' current versions. A pack directory that cannot be listed is
// logged and left out: the configured rules still load.
func (l *ruleLoader) rootPaths() []string {
	if l.packs == nil {
		return l.configured
	}
	dirs, err := l.packs.Dirs()
	if err != nil {
		l.log.Error("rule packs cannot be read", "err", err)
	}
	return append(slices.Clip(l.configured), dirs...)
}

// readFiles reads the files of root that no earlier path gave (readFile),
// on every core: parsing SigmaHQ's thousands of YAML files is most of a
// start. The result is by index of files; nil for a file passed over or
// gone.
func (l *ruleLoader) readFiles(root string, files []string, taken map[string]*ruleFile) []*ruleFile {
	out := make([]*ruleFile, len(files))
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(files) {
				return
			}
			if taken[files[i]] != nil {
				continue
			}
			if f, ok := l.readFile(root, files[i]); ok {
				out[i] = f
			}
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	return out
}

// readFile returns the parse of a rule file: the cached one when the file
// did not change, else a new one (keeping the previous rules of a file
// whose new version has errors). It reports false for a file that is gone.
func (l *ruleLoader) readFile(root, path string) (*ruleFile, bool) {
	old := l.files[path]
	if old == nil && !l.cache.has(path) {
		// Nothing to compare the file with (a first start): it is read at
		// once, its size and time those of the descriptor read, which
		// spares a stat of each of thousands of files. A file that cannot
		// be read is left to the stat below, which tells gone from
		// unreadable.
		if set, errs, stamp := l.opts.ReadFileSet(path); !stamp.Mod.IsZero() {
			l.cache.put(path, stamp.Size, stamp.Mod, set, errs)
			return l.newRuleFile(root, path, stamp.Size, stamp.Mod, set, errs, nil), true
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, false
	}
	if old != nil && old.root == root && old.mod.Equal(info.ModTime()) && old.size == info.Size() {
		return old, true
	}
	var set *rule.Set
	var errs []error
	if rules, ok := l.cache.get(path, info.Size(), info.ModTime()); ok {
		set = &rule.Set{Rules: rules}
	} else {
		set, errs = l.opts.ParseFileSet(path)
		l.cache.put(path, info.Size(), info.ModTime(), set, errs)
	}
	return l.newRuleFile(root, path, info.Size(), info.ModTime(), set, errs, old), true
}

// newRuleFile is the ruleFile of a new parse of path (keeping the previous
// rules, old's, when the new ones have errors), its problems logged.
func (l *ruleLoader) newRuleFile(root, path string, size int64, mod time.Time, set *rule.Set, errs []error, old *ruleFile) *ruleFile {
	f := &ruleFile{root: root, mod: mod, size: size, set: set, errs: errs}
	if len(errs) > 0 && old != nil {
		f.set, f.kept = old.set, true
		l.log.Warn("rule file has errors: keeping its previous rules", "file", path, "errors", len(errs))
	}
	for _, err := range errs {
		l.log.Warn("rule not loaded", "err", err)
	}
	return f
}

// saveCache writes the parsed-rule cache, if any, when it changed; a
// cache that cannot be written only costs the next start its speed.
func (l *ruleLoader) saveCache() {
	if err := l.cache.save(); err != nil {
		l.log.Warn("rule cache not saved", "err", err)
	}
}

// notePathErr records how a configured path fared and, after the first
// refresh, logs when it starts or stops giving rules.
func (l *ruleLoader) notePathErr(root string, err error) {
	prev := l.pathErrs[root]
	switch {
	case err == nil && prev != nil:
		delete(l.pathErrs, root)
		l.log.Info("rules path gives rules again", "path", root)
	case err != nil && (prev == nil || prev.Error() != err.Error()):
		l.pathErrs[root] = err
		if l.refreshed {
			l.log.Error("rules path gives no rules: keeping the rules it gave last", "err", err)
		}
	}
}

// What a configured path that gives no rules holds.
var (
	errNoRuleFiles = errors.New("no rule files (.yml, .yaml) in it")
	errNoRules     = errors.New("no rules, correlation rules or filters in it")
)

// rulesPathError is a configured rules path that gives no rules.
type rulesPathError struct {
	path string
	err  error
}

func (e *rulesPathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *rulesPathError) Unwrap() error { return e.err }

// pathFiles lists the rule files of a configured path as rule.Load walks
// it: a file as it is, a directory's .yml and .yaml files in sorted order,
// hidden directories skipped. A path that cannot be read, or a directory
// with no rule file but tests files, is an error.
func pathFiles(root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, &rulesPathError{root, unwrapPath(err)}
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	files, err := rule.FilesIn(root, nil) // a file that cannot be read is the parse's to report
	if err != nil {
		return nil, &rulesPathError{root, err}
	}
	if !slices.ContainsFunc(files, func(f string) bool { return !isTestsFile(f) }) {
		return nil, &rulesPathError{root, errNoRuleFiles}
	}
	return files, nil
}

func (l *ruleLoader) loadBuiltin() (*rule.Set, []error) {
	all := &rule.Set{}
	var errs []error
	// Built-in rules on site lists (placeholders such as
	// %aws_ecr_authorized_accounts%) run only where the site has set the
	// list: the others are left out and said once, not errors.
	opts := rule.Options{}
	if l.opts != nil {
		opts = *l.opts
	}
	opts.OptionalPlaceholders = true
	names, _ := fs.Glob(content.Rules, "rules/*.yml")
	slices.Sort(names)
	for _, n := range names {
		if isTestsFile(n) {
			// The test cases of `vigil rules test` beside each rule: no
			// rule in them (TestBuiltinTestsFilesHoldNoRules), and three
			// times the rules' bytes, in a style only the YAML library
			// reads — a tenth of a start on one core.
			continue
		}
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, e := opts.ParseSet("builtin:"+n, data)
		all.Add(s)
		errs = append(errs, e...)
	}
	if len(all.Unconfigured) > 0 {
		titles := make([]string, 0, len(all.Unconfigured))
		var unset []string
		for _, u := range all.Unconfigured {
			titles = append(titles, u.Title)
			if !slices.Contains(unset, u.Placeholder) {
				unset = append(unset, u.Placeholder)
			}
		}
		l.log.Info("built-in rules not loaded: their site lists are not configured (set them under placeholders)",
			"rules", titles, "placeholders", unset)
	}
	return all, errs
}

// build compiles the current files into a rule set: filters applied, rules
// selected by status and the disabled list, routed through the taxonomy.
func (l *ruleLoader) build() (*analysis.Rules, ruleReport) {
	var rep ruleReport
	all := &rule.Set{}
	if l.builtin && l.builtinSet != nil {
		all.Add(cloneSet(l.builtinSet))
		rep.errs = append(rep.errs, l.builtinErr...)
	}
	for _, root := range l.paths {
		if err := l.pathErrs[root]; err != nil {
			rep.pathErrs = append(rep.pathErrs, err)
		}
	}
	paths := make([]string, 0, len(l.files))
	for p := range l.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		f := l.files[p]
		all.Add(cloneSet(f.set))
		rep.errs = append(rep.errs, f.errs...)
	}
	rep.filters = len(all.Filters)
	rep.errs = append(rep.errs, all.ApplyFilters()...)
	var run []*rule.Rule
	for _, r := range all.Rules {
		switch {
		case l.disabled[r.ID]:
			rep.disabled++
		case r.Status != "" && !l.status[strings.ToLower(r.Status)]:
			rep.byStatus++
		default:
			run = append(run, r)
		}
	}
	// Correlation rules compile with the selected rules (a correlation over
	// a rule switched off is reported and left out).
	sel := &rule.Set{Rules: run, Correlations: all.Correlations}
	rs, cerrs := analysis.CompileSet(sel, detect.Options{Taxonomy: l.taxonomy, ExtraFields: l.extraFields},
		detect.CorrelatorConfig{Lateness: l.lateness})
	rep.errs = append(rep.errs, cerrs...)
	selected := make(map[*rule.Rule]bool, len(run))
	for _, r := range run {
		selected[r] = true
	}
	for _, r := range rs.Engine.Rules() {
		if selected[r] {
			rep.loaded++
		}
	}
	rep.correlations = rs.Correlations()
	return rs, rep
}

// cloneSet copies the rules of s so that applying filters to a build does
// not change the cached parse of a file (filters rewrite a rule's
// detection).
func cloneSet(s *rule.Set) *rule.Set {
	c := &rule.Set{Correlations: s.Correlations, Filters: s.Filters}
	for _, r := range s.Rules {
		cp := *r
		cp.Filters = nil
		c.Rules = append(c.Rules, &cp)
	}
	return c
}

// startRuleReload, unless rules-reload is 0, polls the rule files and swaps in a new set when one
// changed. Polling (not fsnotify) also sees edits on network and bind
// mounts, and a few stat calls every few seconds cost nothing.
func (s *server) startRuleReload(ctx context.Context, l *ruleLoader) {
	if s.cfg.RulesReload <= 0 {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(s.cfg.RulesReload)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if l.refresh() {
					l.saveCache()
					s.swapRules(l)
				}
			}
		}
	}()
}

func (s *server) swapRules(l *ruleLoader) {
	rs, rep := l.build()
	if l.strict && len(rep.errs) > 0 {
		l.log.Error("rules-strict is set and some changed rules do not load: the running rules stay", "not_loaded", len(rep.errs))
		return
	}
	s.useRules(rs, rep, l.log)
}

// useRules puts a built rule set in force.
func (s *server) useRules(rs *analysis.Rules, rep ruleReport, log *slog.Logger) {
	if old := s.rules.Load(); old != nil {
		// What the engine scans for a logsource is built by its first
		// event (tens of milliseconds for the process_creation rules):
		// build it here, off the event path, for those the old rules saw.
		for _, ls := range old.Engine.Logsources() {
			rs.Engine.Warm(ls)
		}
	}
	s.rules.Store(rs)
	log.Info("rules loaded", "loaded", rep.loaded, "correlations", rep.correlations, "filters", rep.filters, "rejected", len(rep.errs),
		"off-by-status", rep.byStatus, "disabled", rep.disabled)
}
