package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/pipeline"
	"github.com/vigil-sec/vigil/rule"
)

// ruleLoader loads the configured rules file by file and keeps, for each
// file, the last version that loaded without errors: when an edit breaks a
// file, its errors are logged and its previous rules stay in force.
type ruleLoader struct {
	builtin  bool
	paths    []string
	opts     *rule.Options
	taxonomy *rule.Taxonomy
	status   map[string]bool // statuses that run; rules without one always run
	disabled map[string]bool // rule ids
	lateness time.Duration   // allowed lateness of correlation matches
	log      *slog.Logger

	builtinSet *rule.Set
	builtinErr []error
	files      map[string]*ruleFile
}

type ruleFile struct {
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
	pathErrs                                          []error
	errs                                              []error
}

func newRuleLoader(cfg *Config, log *slog.Logger, lateness time.Duration) *ruleLoader {
	l := &ruleLoader{
		builtin: !cfg.NoBuiltin, paths: cfg.Rules, log: log, lateness: lateness,
		opts:     &rule.Options{Placeholders: cfg.placeholders},
		taxonomy: cfg.taxonomy,
		status:   map[string]bool{}, disabled: map[string]bool{},
		files: map[string]*ruleFile{},
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
// them the first time) and reports whether anything changed.
func (l *ruleLoader) refresh() bool {
	changed := false
	if l.builtin && l.builtinSet == nil {
		l.builtinSet, l.builtinErr = l.loadBuiltin()
		changed = true
	}
	seen := map[string]bool{}
	for _, path := range ruleFiles(l.paths) {
		seen[path] = true
		info, err := os.Stat(path)
		if err != nil {
			continue // removed between the walk and now: the next pass drops it
		}
		old := l.files[path]
		if old != nil && old.mod.Equal(info.ModTime()) && old.size == info.Size() {
			continue
		}
		changed = true
		set, errs := l.opts.ParseFileSet(path)
		f := &ruleFile{mod: info.ModTime(), size: info.Size(), set: set, errs: errs}
		if len(errs) > 0 && old != nil {
			f.set, f.kept = old.set, true
			l.log.Warn("rule file has errors: keeping its previous rules", "file", path, "errors", len(errs))
		}
		for _, err := range errs {
			l.log.Warn("rule not loaded", "err", err)
		}
		l.files[path] = f
	}
	for path := range l.files {
		if !seen[path] {
			delete(l.files, path)
			changed = true
		}
	}
	// A missing configured path is an error to report, not a file to keep.
	return changed
}

func (l *ruleLoader) loadBuiltin() (*rule.Set, []error) {
	all := &rule.Set{}
	var errs []error
	names, _ := fs.Glob(content.Rules, "rules/*.yml")
	slices.Sort(names)
	for _, n := range names {
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, e := l.opts.ParseSet("builtin:"+n, data)
		all.Add(s)
		errs = append(errs, e...)
	}
	return all, errs
}

// build compiles the current files into a rule set: filters applied, rules
// selected by status and the disabled list, routed through the taxonomy.
func (l *ruleLoader) build() (*pipeline.Rules, ruleReport) {
	var rep ruleReport
	all := &rule.Set{}
	if l.builtin && l.builtinSet != nil {
		all.Add(cloneSet(l.builtinSet))
		rep.errs = append(rep.errs, l.builtinErr...)
	}
	for _, root := range l.paths {
		if _, err := os.Stat(root); err != nil {
			rep.errs = append(rep.errs, &rule.Error{File: root, Reason: "cannot read rules: " + err.Error()})
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
	rs, cerrs := pipeline.CompileSet(sel, detect.Options{Taxonomy: l.taxonomy},
		detect.CorrelatorConfig{Lateness: l.lateness})
	rep.errs = append(rep.errs, cerrs...)
	for _, r := range rs.Engine.Rules() {
		if slices.Contains(run, r) {
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

// ruleFiles lists the rule files of paths as rule.Load walks them: a file
// as it is, a directory's .yml and .yaml files in sorted order, hidden
// directories skipped.
func ruleFiles(paths []string) []string {
	var out []string
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			out = append(out, root)
			continue
		}
		files, _ := rule.FilesIn(root, nil) // what cannot be read is the load's to report
		out = append(out, files...)
	}
	return out
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
					s.swapRules(l)
				}
			}
		}
	}()
}

func (s *server) swapRules(l *ruleLoader) {
	rs, rep := l.build()
	if old := s.rules.Load(); old != nil {
		// What the engine scans for a logsource is built by its first
		// event (tens of milliseconds for the process_creation rules):
		// build it here, off the event path, for those the old rules saw.
		for _, ls := range old.Engine.Logsources() {
			rs.Engine.Warm(ls)
		}
	}
	s.rules.Store(rs)
	l.log.Info("rules loaded", "loaded", rep.loaded, "correlations", rep.correlations, "filters", rep.filters, "rejected", len(rep.errs),
		"off-by-status", rep.byStatus, "disabled", rep.disabled)
}
