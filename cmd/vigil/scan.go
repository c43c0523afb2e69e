package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/analysis"
	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

func newScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan FILE|DIR...",
		Short: "Run the rules over log files offline and print the alerts",
		Long: `Run vigil's decode and detect stages over files (plain or gzip; - reads
stdin; a directory is read whole, at any depth, or the files that --glob
matches) without a server, and print the alerts, each with its evidence as
file and line. A record that cannot be decoded is named on standard error
with its file, line and reason, and the others go on.

` + formatsHelp("first record") + `

A --rules path that is missing or holds no rules stops the scan; a rule
that does not load is reported and counted, and stops it under --strict.

` + exitStatusHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: runScan,
	}
	f := cmd.Flags()
	f.StringSlice("rules", nil, "rule files or directories to load besides the built-in rules (repeatable)")
	f.Bool("no-builtin-rules", false, "do not load vigil's built-in rules")
	f.Bool("no-rule-cache", false, "parse every rule file, neither reading nor writing the rule cache")
	f.Bool("strict", false, "stop (exit 1) when a rule, correlation rule or filter does not load")
	f.Bool("allow-rejected", false, "exit 0, not 2, when some records were refused")
	f.String("format", "", "format of every file, one of those above (default: guessed per file)")
	f.String("glob", "", "in directories, read only the files whose name matches this pattern (e.g. '*.json')")
	f.StringP("output", "o", "table", "output: table, json or ndjson (one alert a line)")
	f.String("workspace", "scan", "workspace name written into the alerts")
	f.Bool("progress", true, "show a progress bar when stderr is a terminal")
	f.StringSlice("intel", nil, "intelligence files to match every event against (plain lists: one address, range, domain, URL, hash or e-mail a line; repeatable); a match raises a threat-intelligence alert")
	f.StringSlice("geoip", nil, "GeoIP .mmdb databases (country, city or ASN; repeatable), or \"embedded\" for the built-in country database: alerts carry their origin")
	f.String("assets", "", "asset inventory file (YAML or JSON) whose hosts, networks, accounts, databases and cloud resources alerts name")
	f.Bool("baseline", false, "learn behavioural baselines (first-seen and rare principals, addresses, countries, networks, applications, processes) from the files, in memory, and flag what is new once the learning period has passed; the scan runs on one core, in file order")
	f.Duration("baseline-learning", baseline.DefaultLearning, "with --baseline, the learning period, in event time from the first event a model learns (0: flag from the start)")
	f.String("suppress", "", "suppressions file (YAML): the signals its suppressions match raise no alert, and are counted")
	f.String("cpuprofile", "", "write a Go CPU profile of the scan to this file")
	f.String("memprofile", "", "write a Go heap profile (allocations) of the scan to this file when it ends")
	f.Bool("timings", false, "print how long loading the rules and scanning took on standard error")
	addScanIncidentFlags(cmd)
	return cmd
}

func runScan(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	glob, _ := f.GetString("glob")
	files, err := expandInputs(args, glob)
	if err != nil {
		return err
	}
	paths, _ := f.GetStringSlice("rules")
	noBuiltin, _ := f.GetBool("no-builtin-rules")
	format, _ := f.GetString("format")
	output, _ := f.GetString("output")
	ws, _ := f.GetString("workspace")
	progress, _ := f.GetBool("progress")
	strict, _ := f.GetBool("strict")
	allowRejected, _ := f.GetBool("allow-rejected")
	errOut := cmd.ErrOrStderr()
	switch output {
	case "table", "json", "ndjson":
	default:
		return fmt.Errorf("--output %q: want table, json or ndjson", output)
	}
	if format != "" && !decode.Known(format) {
		return fmt.Errorf("--format %q: unknown (known: %s)", format, strings.Join(decode.Formats(), ", "))
	}
	if prof, _ := f.GetString("cpuprofile"); prof != "" {
		stop, err := startCPUProfile(prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	timings, _ := f.GetBool("timings")
	start := time.Now()
	if os.Getenv("GOGC") == "" {
		// A scan's live heap is mostly the compiled rules, which every
		// collection marks again: collecting half as often costs a tenth
		// less CPU for a few tens of MB more.
		// Loading the rules, which grows the heap from nothing, gains most.
		debug.SetGCPercent(200)
	}
	// Matches are sorted by event time before correlation (below), so no
	// lateness is needed.
	// The same rule settings and taxonomy as serve; the problems are
	// printed below, not logged.
	intelFiles, _ := f.GetStringSlice("intel")
	geoFiles, _ := f.GetStringSlice("geoip")
	assetsFile, _ := f.GetString("assets")
	intelProblems := 0
	var base *baseline.Enricher
	if on, _ := f.GetBool("baseline"); on {
		learning, _ := f.GetDuration("baseline-learning")
		if base, err = baseline.New(baseline.Config{Workspace: ws, Learning: learningOption(learning)}); err != nil {
			return err
		}
	}
	var more []enrich.Enricher
	if base != nil {
		more = append(more, base)
	}
	chain, nIntel, err := scanEnrichment(intelFiles, geoFiles, assetsFile, func(p intel.Problem) {
		intelProblems++
		fmt.Fprintln(errOut, "intelligence not loaded:", p.Error())
	}, more...)
	if err != nil {
		return err
	}
	if len(intelFiles) > 0 {
		fmt.Fprintf(errOut, "loaded %s from %s, %d lines not read\n", count(nIntel, "indicator", "indicators"), count(len(intelFiles), "file", "files"), intelProblems)
	}
	rl := newRuleLoader(&Config{Rules: paths, NoBuiltin: noBuiltin}, slog.New(slog.DiscardHandler), 0)
	if len(intelFiles) > 0 {
		rl.extraFields = indicators.HashFields // the hashes are matched even when no rule reads them
	}
	if base != nil {
		rl.extraFields = slices.Concat(rl.extraFields, baseline.SourceFields(baseline.Defaults))
	}
	if noCache, _ := f.GetBool("no-rule-cache"); !noCache && len(paths) > 0 {
		rl.cache = openRuleCache("", paths, rl.opts)
	}
	resumeGC := func() {}
	if os.Getenv("GOGC") == "" && rl.cache.warm() {
		resumeGC = holdGC(loadHeapLimit)
	}
	rl.refresh()
	// The cache is written (on a first run, megabytes) while the rules
	// compile, on another core when there is one.
	saved := make(chan error, 1)
	go func() { saved <- rl.cache.save() }()
	rs, rep := rl.build()
	if err := <-saved; err != nil {
		fmt.Fprintln(errOut, "rule cache not saved:", err)
	}
	if len(rep.pathErrs) > 0 {
		return prefixErrs("--rules ", rep.pathErrs)
	}
	for _, err := range rep.errs {
		fmt.Fprintln(errOut, "rule not loaded:", err)
	}
	if n := len(rep.errs); n > 0 {
		if strict {
			return fmt.Errorf("%s not loaded, and --strict is set", count(n, "rule", "rules"))
		}
		fmt.Fprintf(errOut, "%s not loaded (--strict makes this an error)\n", count(n, "rule", "rules"))
	}
	if rs.Engine.Len() == 0 {
		return errors.New("no rules loaded")
	}
	supFile, _ := f.GetString("suppress")
	sup, err := scanSuppressions(supFile)
	if err != nil {
		return err
	}
	// The literal sets an earlier scan of these rules built are taken
	// from the cache instead of being built again.
	release := rl.cache.useSets(rs.Engine)
	defer release()
	resumeGC()
	loaded, loadedCPU := time.Now(), processCPU()
	if timings {
		fmt.Fprintf(errOut, "rules: %d loaded in %.3f s (%.3f s CPU since the process started)\n", rs.Engine.Len(), loaded.Sub(start).Seconds(), processCPU().Seconds())
	}

	var bar *mpb.Progress
	if progress && isTerminal(os.Stderr) {
		bar = mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	}
	agg := newAggregator()
	stats := scanStats{}
	workers := runtime.GOMAXPROCS(0)
	if base != nil {
		workers = 1 // the baselines learn the records in their order
	}
	sc := newScanner(rs, ws, workers, chain, func(r scanResult) { stats.add(r, agg, errOut) })
	sc.sup = sup
	for _, name := range files {
		if err := scanFile(name, format, sc, bar, errOut); err != nil {
			sc.close()
			return err
		}
	}
	sc.close()
	if bar != nil {
		bar.Wait()
	}
	agg.sup, agg.suppressed, agg.chain = sup, &stats.suppressed, chain
	correlate(rs, stats.matches, agg)
	if base != nil {
		printBaselineStatus(errOut, base)
	}
	stats.suppressed.print(errOut, sup)
	fmt.Fprintf(errOut, "scanned %s in %s: %s, %d rejected, %s\n",
		count(stats.records, "record", "records"), count(len(files), "file", "files"), count(stats.events, "event", "events"),
		stats.rejected, count(len(agg.alerts), "alert", "alerts"))
	if err := printScanResult(cmd, output, format, agg.sorted()); err != nil {
		return err
	}
	if err := rl.cache.saveSets(rs.Engine); err != nil {
		fmt.Fprintln(errOut, "literal sets not saved:", err)
	}
	if prof, _ := f.GetString("memprofile"); prof != "" {
		if err := writeMemProfile(prof); err != nil {
			return err
		}
	}
	if timings {
		el := time.Since(loaded).Seconds()
		fmt.Fprintf(errOut, "scan: %d events in %.3f s (%.0f events/s), %.3f s CPU; %.3f s in all, %.3f s CPU\n",
			stats.events, el, float64(stats.events)/el, (processCPU() - loadedCPU).Seconds(), time.Since(start).Seconds(), processCPU().Seconds())
	}
	if stats.rejected > 0 && !allowRejected {
		return exitError{code: exitRejected}
	}
	return nil
}

// Loading rules from a warm rule cache grows the heap from nothing to the
// rules' size (about 40 MB for SigmaHQ's) leaving little garbage: the
// collections on the way only mark the growing rules again and again, a
// tenth of a start's CPU. scan runs none until the rules are loaded,
// unless the heap reaches loadHeapLimit first.
const loadHeapLimit = 256 << 20

// holdGC stops garbage collection, except at limit bytes of heap (or the
// memory limit already set, when lower), until the returned func resumes
// it as it was.
func holdGC(limit int64) (resume func()) {
	prevLimit := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(prevLimit, limit))
	prevPercent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}
}

// formatsHelp says how scan and decode pick a file's format, and lists the
// formats this build knows.
func formatsHelp(guessedFrom string) string {
	text := fmt.Sprintf("The format is guessed from each file's %s unless --format names one of these: %s.",
		guessedFrom, strings.Join(decode.Formats(), ", "))
	var b strings.Builder
	width := 0
	for i, w := range strings.Fields(text) {
		switch {
		case i == 0:
		case width+1+len(w) > 76:
			b.WriteByte('\n')
			width = 0
		default:
			b.WriteByte(' ')
			width++
		}
		b.WriteString(w)
		width += len(w)
	}
	return b.String()
}

type scanStats struct {
	records, events, rejected int
	// matches of rules that correlations refer to, from every file
	matches    []detect.Match
	suppressed suppressedCount
}

// correlate runs the correlations over the matches of all files merged by
// event time. Only matches of rules that correlations refer to are kept
// (not the events), so a stable sort of them is cheap, and unlike a k-way
// merge it does not assume that each file is in time order. Windows still
// open at the end are judged.
func correlate(rs *analysis.Rules, ms []detect.Match, agg *aggregator) {
	k := rs.NewCorrelator()
	if k == nil {
		return
	}
	slices.SortStableFunc(ms, func(a, b detect.Match) int { return a.Time.Compare(b.Time) })
	var hits []detect.CorrelationHit
	for _, m := range ms {
		hits = k.Observe(m, hits)
	}
	hits = k.Flush(hits)
	for _, s := range rs.CorrelationSignals(hits, nil) {
		s.Origin = analysis.CorrelationOrigin(agg.chain, s.Entities)
		if agg.sup.Len() > 0 && agg.suppressed.suppressSignal(agg.sup, s) {
			continue
		}
		agg.add(s)
	}
}

// aggregator gathers signals into alerts the way the store does, in memory.
type aggregator struct {
	alerts []*alert.Alert
	byKey  map[string]*alert.Alert
	// sup, when set, suppresses correlation signals (the processors
	// suppress the others), counted in suppressed.
	sup        *suppress.Set
	suppressed *suppressedCount
	// chain places the address a correlation is grouped by (its origin).
	chain *enrich.Chain
}

func newAggregator() *aggregator { return &aggregator{byKey: map[string]*alert.Alert{}} }

func (a *aggregator) add(s alert.Signal) {
	// A rule's aggregation window splits its alerts as the store does;
	// other signals of a key gather into one alert.
	if x, ok := a.byKey[s.DedupKey]; ok && (s.Window <= 0 || !x.LastSeen.Before(s.Evidence.Time.Add(-s.Window))) {
		x.Add(s, time.Now().UTC())
		return
	}
	x := alert.New(event.NewID().String(), s, time.Now().UTC())
	a.byKey[s.DedupKey] = x
	a.alerts = append(a.alerts, x)
}

func (a *aggregator) sorted() []*alert.Alert {
	out := append([]*alert.Alert(nil), a.alerts...)
	for _, x := range out {
		x.Assess() // as the store does at commit; offline, without an intent estimate
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity > out[j].Severity
		}
		return out[i].FirstSeen.Before(out[j].FirstSeen)
	})
	return out
}

func scanFile(name, format string, sc *scanner, bar *mpb.Progress, errOut io.Writer) error {
	var wrap func(io.Reader, int64) io.Reader
	if bar != nil {
		wrap = func(in io.Reader, size int64) io.Reader {
			if size <= 0 {
				return in
			}
			b := bar.AddBar(size, mpb.PrependDecorators(decor.Name(filepath.Base(name), decor.WC{C: decor.DindentRight | decor.DextraSpace})),
				mpb.AppendDecorators(decor.Percentage()))
			pr, err := b.ProxyReader(in)
			if err != nil {
				return in
			}
			return pr
		}
	}
	br, closeIn, err := openInput(name, wrap)
	if err != nil {
		return err
	}
	defer closeIn()
	_, err = streamRecords(name, br, format, 1000, errOut, sc.blocks, func(format string, recs []event.Raw) {
		sc.process(name, format, recs, sc.blocks.take())
	})
	return err
}

// add takes in the result of one chunk.
func (st *scanStats) add(r scanResult, agg *aggregator, errOut io.Writer) {
	st.records += r.records
	st.events += r.res.Events
	st.rejected += len(r.res.Rejected)
	for _, x := range r.res.Rejected {
		fmt.Fprintf(errOut, "%s:%d: rejected: %s\n", r.name, x.Line, x.Reason)
	}
	for _, s := range r.res.Batch.Signals {
		agg.add(s)
	}
	st.matches = append(st.matches, r.res.Matches...)
	st.suppressed.add(r.res.Batch.Suppressed)
}

// scanner runs the decode and detect stages of scan over chunks of records
// on every core: each worker has its own Processor (and so its own
// detect.Matcher), and the results are taken in the order the chunks were
// read, so that alerts, their evidence and the matches handed to the
// correlations come out as a scan on one core gives them.
type scanner struct {
	// blocks holds the records' bytes; a chunk's are given back once its
	// result is merged (the results keep copies of what they keep).
	blocks *blockPool
	rs     *analysis.Rules
	ws     string
	now    time.Time
	merge  func(scanResult)
	sup    *suppress.Set // set before the first chunk

	inline *analysis.Processor // one worker: chunks are processed as they come
	jobs   chan scanJob
	order  chan chan scanResult // the chunks' results, in reading order
	merged chan struct{}
	wg     sync.WaitGroup
}

type scanJob struct {
	name, format string
	recs         []event.Raw
	blocks       [][]byte
	out          chan scanResult
}

type scanResult struct {
	name    string
	records int
	res     analysis.Result
	blocks  [][]byte
}

func newScanner(rs *analysis.Rules, ws string, workers int, chain *enrich.Chain, merge func(scanResult)) *scanner {
	sc := &scanner{blocks: &blockPool{}, rs: rs, ws: ws, now: time.Now().UTC(), merge: merge}
	newProcessor := func() *analysis.Processor {
		p := analysis.NewProcessor(rs)
		if chain != nil {
			p.Enrichers = func(string) *enrich.Chain { return chain }
		}
		return p
	}
	if workers <= 1 {
		sc.inline = newProcessor()
		return sc
	}
	sc.jobs = make(chan scanJob, workers)
	sc.order = make(chan chan scanResult, 2*workers)
	sc.merged = make(chan struct{})
	for range workers {
		sc.wg.Add(1)
		go func() {
			defer sc.wg.Done()
			p := newProcessor()
			for j := range sc.jobs {
				j.out <- sc.run(p, j)
			}
		}()
	}
	go func() {
		defer close(sc.merged)
		for out := range sc.order {
			r := <-out
			sc.merge(r)
			sc.blocks.put(r.blocks)
		}
	}()
	return sc
}

// process decodes and detects a chunk of a file's records.
func (sc *scanner) process(name, format string, recs []event.Raw, blocks [][]byte) {
	j := scanJob{name: name, format: format, recs: recs, blocks: blocks}
	if sc.inline != nil {
		sc.merge(sc.run(sc.inline, j))
		sc.blocks.put(blocks)
		return
	}
	j.out = make(chan scanResult, 1)
	sc.order <- j.out
	sc.jobs <- j
}

func (sc *scanner) run(p *analysis.Processor, j scanJob) scanResult {
	p.Offline = j.name
	if sc.sup != nil && p.Suppressions == nil {
		p.Suppressions = func(string) *suppress.Set { return sc.sup }
	}
	b := &bus.Batch{ID: event.NewID(), Workspace: sc.ws, Source: filepath.Base(j.name), Format: j.format, Received: sc.now, Records: j.recs}
	return scanResult{name: j.name, records: len(j.recs), res: p.Process(b, tenant.Source{}), blocks: j.blocks}
}

// close waits for every chunk to be processed and merged.
func (sc *scanner) close() {
	if sc.inline != nil {
		return
	}
	close(sc.jobs)
	close(sc.order)
	sc.wg.Wait()
	<-sc.merged
}

// readRecords splits a file into records: a JSON array or a
// {"records"|"Records": […]} envelope gives one record an element (its line
// is where the element starts); anything else one record a line. The
// records have no ids yet (streamRecords gives them).
func readRecords(name string, br *bufio.Reader) ([]event.Raw, error) {
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	trim := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trim) > 0 && (trim[0] == '[' || trim[0] == '{') {
		if recs, ok := splitJSONDocument(data); ok {
			return recs, nil
		}
	}
	var recs []event.Raw
	line := 0
	for len(data) > 0 {
		line++
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		recs = append(recs, event.Raw{Data: l, Line: line})
	}
	return recs, nil
}

// isJSONDocument reports whether a file starts like a JSON array or a
// records envelope rather than NDJSON.
func isJSONDocument(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 {
		return false
	}
	if t[0] == '[' {
		return true
	}
	if t[0] != '{' {
		return false
	}
	t = bytes.TrimLeft(t[1:], " \t\r\n")
	return bytes.HasPrefix(t, []byte(`"records"`)) || bytes.HasPrefix(t, []byte(`"Records"`))
}

// splitJSONDocument splits a whole-file JSON array or envelope. It reports
// false for NDJSON (several values) and for a single plain object.
func splitJSONDocument(data []byte) ([]event.Raw, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, false
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		// an envelope: its only array member named records/Records
		key, err := dec.Token()
		if k, ok := key.(string); err != nil || !ok || (k != "records" && k != "Records") {
			return nil, false
		}
		if tok, err = dec.Token(); err != nil {
			return nil, false
		}
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, false
	}
	var recs []event.Raw
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		// the element starts after any separator and whitespace
		off := int(start)
		for off < len(data) && (data[off] == ',' || data[off] == ' ' || data[off] == '\n' || data[off] == '\r' || data[off] == '\t') {
			off++
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, false
		}
		recs = append(recs, event.Raw{Data: buf.Bytes(), Line: 1 + bytes.Count(data[:off], []byte{'\n'})})
	}
	return recs, true
}

// guessFormat picks a decoder from the first records: the registered
// sniffers' best guess, else a few plain rules.
func guessFormat(name string, recs []event.Raw) string {
	scores := map[string]int{}
	for i, r := range recs {
		if i >= 5 {
			break
		}
		if f, s := decode.Sniff(r.Data); s > 0 {
			scores[f] += s
		}
	}
	best, top := "", 0
	for f, s := range scores {
		if s > top || (s == top && f < best) {
			best, top = f, s
		}
	}
	if best != "" {
		return best
	}
	for i, r := range recs {
		if i >= 5 {
			break
		}
		d := r.Data
		if len(d) > 0 && d[0] == '{' {
			switch {
			case bytes.Contains(d, []byte(`"eventSource"`)) && bytes.Contains(d, []byte(`"eventName"`)):
				return "cloudtrail"
			case bytes.Contains(d, []byte(`"EventID"`)) || bytes.Contains(d, []byte(`"winlog"`)) || bytes.Contains(d, []byte(`"EventData"`)):
				return "windows"
			default:
				return "json"
			}
		}
		if bytes.Contains(d, []byte(" sshd[")) {
			return "sshd"
		}
	}
	_ = name
	return "text"
}

func printAlerts(w io.Writer, output string, alerts []*alert.Alert) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if alerts == nil {
			alerts = []*alert.Alert{}
		}
		return enc.Encode(alerts)
	case "ndjson":
		enc := json.NewEncoder(w)
		for _, a := range alerts {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCOUNT\tRULE\tFIRST SEEN\tENTITIES\tEVIDENCE")
	for _, a := range alerts {
		var ents []string
		for _, e := range a.Entities {
			ents = append(ents, e.Type+"="+e.Value)
			if len(ents) == 3 {
				break
			}
		}
		ev := ""
		// A correlation alert lists the events behind it (a few of them).
		shown := 1
		if a.Type == "correlation" {
			shown = maxEvidenceShown
		}
		for i, e := range a.Evidence {
			if i == shown {
				break
			}
			if i > 0 {
				ev += ", "
			}
			ev += fmt.Sprintf("%s:%d", e.File, e.Line)
		}
		if more := a.Count - min(shown, len(a.Evidence)); len(a.Evidence) > 0 && more > 0 {
			ev += fmt.Sprintf(" (+%d)", more)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", a.Severity, a.Count, a.Rule.Title, a.FirstSeen.UTC().Format(time.RFC3339), strings.Join(ents, " "), ev)
	}
	return tw.Flush()
}

// openInput opens a file (- is stdin) for reading, through gzip when it
// starts with gzip's magic bytes; wrap, if set, sees the raw stream and its
// size (a progress bar).
func openInput(name string, wrap func(io.Reader, int64) io.Reader) (*bufio.Reader, func(), error) {
	var in io.Reader = os.Stdin
	closers := []func() error{}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, fh.Close)
		in = fh
		if wrap != nil {
			if fi, err := fh.Stat(); err == nil {
				in = wrap(fh, fi.Size())
			}
		}
	}
	br := bufio.NewReaderSize(in, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		closers = append(closers, zr.Close)
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	return br, closeAll, nil
}

// maxEvidenceShown caps the evidence a correlation alert lists in the table
// (json and ndjson carry all the alert keeps).
const maxEvidenceShown = 10

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
