package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	sigmago "github.com/bradleyjkemp/sigma-go"
	sigmagoeval "github.com/bradleyjkemp/sigma-go/evaluator"
	sigmagomod "github.com/bradleyjkemp/sigma-go/evaluator/modifiers"
	gosre "github.com/markuskont/go-sigma-rule-engine"

	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// Engine names, in the order they run by default.
const (
	engVigil   = "vigil"    // decode/windows from raw bytes + Match
	engDecode  = "decode"   // decode/windows alone: vigil's ceiling
	engJSONMap = "jsonmap"  // encoding/json into map[string]any alone
	engSigmaGo = "sigma-go" // bradleyjkemp/sigma-go, routed, pre-decoded
	engGoSRE   = "go-sigma-rule-engine"
)

// taxonomy is vigil's default taxonomy, as `vigil serve` and `vigil scan`
// use it; the peers are routed with it too.
var taxonomy = rule.DefaultTaxonomy()

var allEngines = []string{engVigil, engDecode, engJSONMap, engSigmaGo, engGoSRE}

// hit is one (event, rule) pair: the event's 0-based index in the corpus
// and the rule's index among the engine's accepted rules.
type hit struct{ ev, rule int32 }

// engine is one contestant. load takes the rule files; prepare does the
// untimed work for a chunk of events (peers: decode into their event type
// and route); run is what is timed.
type engine interface {
	load(files []ruleFile) (accepted []acceptedRule, rejected []string, err error)
	prepare(first int, lines [][]byte)
	run(hits []hit) []hit
	note() string
}

type acceptedRule struct{ key, title string }

func newEngine(name string) (engine, error) {
	switch name {
	case engVigil:
		return &vigilEngine{match: true}, nil
	case engDecode:
		return &vigilEngine{}, nil
	case engJSONMap:
		return &jsonMapEngine{}, nil
	case engSigmaGo:
		return &sigmaGoEngine{}, nil
	case engGoSRE:
		return &goSREEngine{}, nil
	}
	return nil, fmt.Errorf("unknown engine %q (known: %s)", name, strings.Join(allEngines, ", "))
}

// ---- vigil ----

type vigilEngine struct {
	match   bool // false: decode only
	e       *detect.Engine
	m       *detect.Matcher
	warm    map[event.Logsource]bool // logsources whose routes are built
	dec     *windows.Decoder
	ev      event.Event
	dst     []*rule.Rule
	index   map[*rule.Rule]int32
	first   int
	lines   [][]byte
	decErrs int
}

func (v *vigilEngine) load(files []ruleFile) ([]acceptedRule, []string, error) {
	paths := make([]string, len(files))
	keyOf := make(map[string]string, len(files))
	for i, f := range files {
		paths[i] = f.path
		keyOf[f.path] = f.key
	}
	all, loadErrs := rule.Load(paths...)
	var rules []*rule.Rule
	for _, r := range all {
		if strings.EqualFold(r.Logsource.Product, "windows") {
			rules = append(rules, r)
		}
	}
	e, compErrs := detect.Compile(rules, detect.Options{Taxonomy: taxonomy})
	v.e = e
	v.m = e.NewMatcher()
	v.dec = windows.New().(*windows.Decoder)
	v.ev.Fields.Bind(e.Dict())
	v.dst = make([]*rule.Rule, 0, 64)
	v.index = make(map[*rule.Rule]int32, e.Len())
	var acc []acceptedRule
	seen := map[string]int{}
	for i, r := range e.Rules() {
		key := keyOf[r.File]
		if n := seen[key]; n > 0 {
			key = fmt.Sprintf("%s#%d", key, n)
		}
		seen[keyOf[r.File]]++
		v.index[r] = int32(i)
		acc = append(acc, acceptedRule{key, r.Title})
	}
	var rej []string
	for _, err := range append(loadErrs, compErrs...) {
		rej = append(rej, err.Error())
	}
	return acc, rej, nil
}

// prepare builds, untimed, the engine's routes for logsources the chunk
// brings for the first time (what the fast path scans for their rules; the
// peers compile everything in load): the first event of a logsource would
// otherwise pay for it.
func (v *vigilEngine) prepare(first int, lines [][]byte) {
	v.first, v.lines = first, lines
	if !v.match {
		return
	}
	if v.warm == nil {
		v.warm = make(map[event.Logsource]bool)
	}
	for _, line := range lines {
		v.ev.Reset()
		if v.dec.Decode(line, &v.ev) != nil || v.warm[v.ev.Logsource] {
			continue
		}
		ls := v.ev.Logsource
		v.e.Warm(ls)
		// The decoder's strings may be reused by the next record.
		v.warm[event.Logsource{Product: strings.Clone(ls.Product), Category: strings.Clone(ls.Category), Service: strings.Clone(ls.Service)}] = true
	}
}

// run decodes each raw line into the reused Event and matches it: what the
// detect stage does for every record.
func (v *vigilEngine) run(hits []hit) []hit {
	ev := &v.ev
	for i, line := range v.lines {
		ev.Reset()
		ev.Raw = line
		if err := v.dec.Decode(line, ev); err != nil {
			v.decErrs++
			continue
		}
		if !v.match {
			continue
		}
		v.dst = v.m.Match(ev, v.dst[:0])
		for _, r := range v.dst {
			hits = append(hits, hit{int32(v.first + i), v.index[r]})
		}
	}
	return hits
}

func (v *vigilEngine) note() string {
	if v.decErrs > 0 {
		return fmt.Sprintf("%d events not decoded", v.decErrs)
	}
	return ""
}

// ---- encoding/json into maps ----

type jsonMapEngine struct {
	lines [][]byte
	errs  int
	keys  int
}

func (j *jsonMapEngine) load([]ruleFile) ([]acceptedRule, []string, error) { return nil, nil, nil }
func (j *jsonMapEngine) prepare(_ int, lines [][]byte)                     { j.lines = lines }
func (j *jsonMapEngine) run(hits []hit) []hit {
	for _, line := range j.lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			j.errs++
			continue
		}
		j.keys += len(m)
	}
	return hits
}
func (j *jsonMapEngine) note() string {
	if j.errs > 0 {
		return fmt.Sprintf("%d events not decoded", j.errs)
	}
	return ""
}

// ---- what the peers get: pre-decoded, routed events ----

// peerPrep decodes a chunk once, before timing, into what a peer takes,
// and works out each event's logsource with vigil's own Windows decoder,
// so that the peers are routed exactly as vigil is.
type peerPrep struct {
	dec   *windows.Decoder
	ev    event.Event
	first int
	ls    []event.Logsource
}

// peer marks the engines whose preparation leaves garbage.
func (p *peerPrep) peer() {}

func (p *peerPrep) logsources(first int, lines [][]byte) {
	if p.dec == nil {
		p.dec = windows.New().(*windows.Decoder)
		p.ev.Fields.Bind(event.NewDict()) // the logsource needs no field kept
	}
	p.first = first
	p.ls = p.ls[:0]
	for _, line := range lines {
		p.ev.Reset()
		if err := p.dec.Decode(line, &p.ev); err != nil {
			p.ls = append(p.ls, event.Logsource{}) // no rule names an empty logsource's product
			continue
		}
		p.ls = append(p.ls, p.ev.Logsource)
	}
}

// decodeMap decodes one event into a map. With useNumber, numbers stay
// json.Number (their text). Security 4688 gets the aliases vigil's decoder
// adds (Image from NewProcessName, ParentImage from ParentProcessName) so
// that every engine sees the same fields.
func decodeMap(line []byte, useNumber bool) map[string]any {
	d := json.NewDecoder(bytes.NewReader(line))
	if useNumber {
		d.UseNumber()
	}
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil
	}
	if ed, ok := m["EventData"].(string); ok {
		eventDataText(m, ed, useNumber)
	}
	if isSecurity4688(m) {
		if _, ok := m["Image"]; !ok {
			if v, ok := m["NewProcessName"]; ok {
				m["Image"] = v
			}
		}
		if _, ok := m["ParentImage"]; !ok {
			if v, ok := m["ParentProcessName"]; ok {
				m["ParentImage"] = v
			}
		}
	}
	return m
}

// eventDataText gives the fields of an EventData held as a string (Log
// Analytics exports: a JSON object, or the XML <Data Name="X">v</Data>
// elements) by their own names, as vigil's decoder does; a name the
// record already holds keeps its value.
func eventDataText(m map[string]any, ed string, useNumber bool) {
	t := strings.TrimLeft(ed, " \t\r\n")
	if t == "" {
		return
	}
	add := func(k string, v any) {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	switch t[0] {
	case '{':
		d := json.NewDecoder(strings.NewReader(t))
		if useNumber {
			d.UseNumber()
		}
		var inner map[string]any
		if d.Decode(&inner) == nil {
			for k, v := range inner {
				add(k, v)
			}
		}
	case '<':
		var x struct {
			Data []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			} `xml:"Data"`
		}
		if xml.Unmarshal([]byte(t), &x) == nil {
			for _, dt := range x.Data {
				if dt.Name != "" {
					add(dt.Name, dt.Value)
				}
			}
		}
	}
}

func isSecurity4688(m map[string]any) bool {
	ch, _ := m["Channel"].(string)
	if !strings.EqualFold(ch, "Security") {
		return false
	}
	return fmt.Sprint(m["EventID"]) == "4688"
}

// ---- bradleyjkemp/sigma-go ----

type sigmaGoEngine struct {
	peerPrep
	rules   []*sigmagoeval.RuleEvaluator
	route   *router
	evs     []map[string]string
	runErrs map[int32]int
	ctx     context.Context
}

func (s *sigmaGoEngine) load(files []ruleFile) ([]acceptedRule, []string, error) {
	s.ctx = context.Background()
	s.runErrs = map[int32]int{}
	var acc []acceptedRule
	var rej []string
	var ls []event.Logsource
	for _, f := range files {
		r, err := sigmago.ParseRule(f.data)
		if err != nil {
			rej = append(rej, f.key+": "+err.Error())
			continue
		}
		if !strings.EqualFold(r.Logsource.Product, "windows") {
			continue
		}
		if err := sigmaGoRunnable(r); err != nil {
			rej = append(rej, f.key+": "+err.Error())
			continue
		}
		s.rules = append(s.rules, sigmagoeval.ForRule(r))
		ls = append(ls, event.Logsource{Product: r.Logsource.Product, Category: r.Logsource.Category, Service: r.Logsource.Service})
		acc = append(acc, acceptedRule{f.key, r.Title})
	}
	s.route = newRouter(ls, taxonomy)
	return acc, rej, nil
}

// sigmaGoRunnable reports what would make sigma-go fail on every event
// (it reports these at evaluation, not at parse): keywords, modifiers it
// does not know (windash, cased, exists, base64offset, fieldref, expand…),
// null values, placeholders (%name%, which it expands only with an
// expander), aggregations.
func sigmaGoRunnable(r sigmago.Rule) error {
	if len(r.Detection.Conditions) == 0 {
		return fmt.Errorf("no condition")
	}
	for _, c := range r.Detection.Conditions {
		if c.Aggregation != nil {
			return fmt.Errorf("aggregation")
		}
	}
	names := make([]string, 0, len(r.Detection.Searches))
	for n := range r.Detection.Searches {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		srch := r.Detection.Searches[n]
		if len(srch.Keywords) > 0 {
			return fmt.Errorf("search %s: keywords unsupported", n)
		}
		for _, em := range srch.EventMatchers {
			for _, fm := range em {
				mods := fm.Modifiers
				if len(mods) > 0 && mods[len(mods)-1] == "all" {
					mods = mods[:len(mods)-1]
				}
				if _, err := sigmagomod.GetComparator(fm.Field, sigmagomod.Comparators, mods...); err != nil {
					return fmt.Errorf("search %s: %v", n, err)
				}
				for _, val := range fm.Values {
					switch val := val.(type) {
					case string:
						if strings.HasPrefix(val, "%") && strings.HasSuffix(val, "%") {
							return fmt.Errorf("search %s: placeholder %s", n, val)
						}
					case int, float32, float64, bool:
					default:
						return fmt.Errorf("search %s: value %v (%T) unsupported", n, val, val)
					}
				}
			}
		}
	}
	return nil
}

// prepare gives sigma-go its fastest event type: map[string]string (it
// stringifies every value it compares; strings need no fmt.Sprint).
func (s *sigmaGoEngine) prepare(first int, lines [][]byte) {
	s.logsources(first, lines)
	s.evs = s.evs[:0]
	for _, line := range lines {
		m := decodeMap(line, true)
		ms := make(map[string]string, len(m))
		for k, v := range m {
			ms[k] = scalarText(v)
		}
		s.evs = append(s.evs, ms)
	}
}

func (s *sigmaGoEngine) run(hits []hit) []hit {
	for i, m := range s.evs {
		for _, ri := range s.route.lookup(s.ls[i]) {
			res, err := s.rules[ri].Matches(s.ctx, m)
			if err != nil {
				s.runErrs[ri]++
				continue
			}
			if res.Match {
				hits = append(hits, hit{int32(s.first + i), ri})
			}
		}
	}
	return hits
}

func (s *sigmaGoEngine) note() string {
	if len(s.runErrs) == 0 {
		return ""
	}
	n := 0
	for _, c := range s.runErrs {
		n += c
	}
	return fmt.Sprintf("%d rules failed at evaluation (%d times)", len(s.runErrs), n)
}

// scalarText is a JSON value as text: strings as they are, numbers as
// written, other values as compact JSON.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// ---- markuskont/go-sigma-rule-engine ----

type goSREEngine struct {
	peerPrep
	trees []*gosre.Tree
	route *router
	evs   []gosreEvent
}

// gosreEvent is go-sigma-rule-engine's event: fields by name (numbers as
// float64, which it expects from encoding/json), and for keywords every
// value of the event.
type gosreEvent struct {
	m  map[string]any
	kw []string
}

func (e *gosreEvent) Keywords() ([]string, bool) { return e.kw, true }
func (e *gosreEvent) Select(k string) (any, bool) {
	v, ok := e.m[k]
	return v, ok
}

func (g *goSREEngine) load(files []ruleFile) ([]acceptedRule, []string, error) {
	paths := make([]string, len(files))
	keyOf := make(map[string]string, len(files))
	for i, f := range files {
		paths[i] = f.path
		keyOf[f.path] = f.key
	}
	var rej []string
	handles, err := gosre.NewRuleList(paths, true, false)
	if err != nil {
		if bulk, ok := err.(gosre.ErrBulkParseYaml); ok {
			for _, e := range bulk.Errs {
				rej = append(rej, keyOf[e.Path]+": "+e.Err.Error())
			}
		} else {
			return nil, nil, err
		}
	}
	var acc []acceptedRule
	var ls []event.Logsource
	for _, h := range handles {
		if !strings.EqualFold(h.Logsource.Product, "windows") {
			continue
		}
		if h.Multipart {
			rej = append(rej, keyOf[h.Path]+": multipart (a '---' inside the file)")
			continue
		}
		t, err := gosre.NewTree(h)
		if err != nil {
			rej = append(rej, keyOf[h.Path]+": "+err.Error())
			continue
		}
		g.trees = append(g.trees, t)
		ls = append(ls, event.Logsource{Product: h.Logsource.Product, Category: h.Logsource.Category, Service: h.Logsource.Service})
		acc = append(acc, acceptedRule{keyOf[h.Path], h.Title})
	}
	g.route = newRouter(ls, taxonomy)
	return acc, rej, nil
}

func (g *goSREEngine) prepare(first int, lines [][]byte) {
	g.logsources(first, lines)
	g.evs = g.evs[:0]
	for _, line := range lines {
		m := decodeMap(line, false)
		kw := make([]string, 0, len(m))
		for _, v := range m {
			if s, ok := v.(string); ok {
				kw = append(kw, s)
			}
		}
		g.evs = append(g.evs, gosreEvent{m: m, kw: kw})
	}
}

func (g *goSREEngine) run(hits []hit) []hit {
	for i := range g.evs {
		ev := &g.evs[i]
		for _, ri := range g.route.lookup(g.ls[i]) {
			// Tree.Eval's rule: a match that is not applicable is no match.
			if match, applicable := g.trees[ri].Match(ev); match && applicable {
				hits = append(hits, hit{int32(g.first + i), ri})
			}
		}
	}
	return hits
}

func (g *goSREEngine) note() string { return "" }
