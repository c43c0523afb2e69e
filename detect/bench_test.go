package detect

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

var dataDir = filepath.Join("..", "..", "shared", "data")

// windowsRules loads the SigmaHQ rules for product windows.
// It also returns how many SigmaHQ rules (of any product) failed to load.
func windowsRules(tb testing.TB) ([]*rule.Rule, int) {
	dir := filepath.Join(dataDir, "sigma")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("SigmaHQ rules not found at %s: %v", dir, err)
	}
	all, errs := rule.Load(dir)
	var rules []*rule.Rule
	for _, r := range all {
		if r.Logsource.Product == "windows" {
			rules = append(rules, r)
		}
	}
	return rules, len(errs)
}

// storedEvent is a pre-decoded Windows event: the fields the engine's Dict
// holds, its logsource and its raw line.
type storedEvent struct {
	ls   event.Logsource
	ids  []int32
	vals []string
	raw  []byte
}

// windowsLogsource routes a Windows event the way the Sigma taxonomy
// appendix names its logsources.
func windowsLogsource(channel string, id int) event.Logsource {
	ls := event.Logsource{Product: "windows"}
	switch strings.ToLower(channel) {
	case "security":
		ls.Service = "security"
		if id == 4688 {
			ls.Category = "process_creation"
		}
	case "system":
		ls.Service = "system"
	case "application":
		ls.Service = "application"
	case "microsoft-windows-sysmon/operational":
		ls.Service = "sysmon"
		ls.Category = map[int]string{
			1: "process_creation", 2: "file_change", 3: "network_connection",
			5: "process_termination", 6: "driver_load", 7: "image_load",
			8: "create_remote_thread", 9: "raw_access_thread", 10: "process_access",
			11: "file_event", 12: "registry_add", 13: "registry_set",
			14: "registry_rename", 15: "create_stream_hash", 17: "pipe_created",
			18: "pipe_created", 19: "wmi_event", 20: "wmi_event", 21: "wmi_event",
			22: "dns_query", 23: "file_delete", 24: "clipboard_capture",
			25: "process_tampering", 26: "file_delete_detected",
		}[id]
	case "windows powershell":
		ls.Service = "powershell-classic"
		ls.Category = map[int]string{400: "ps_classic_start", 600: "ps_classic_provider_start", 800: "ps_classic_script"}[id]
	case "microsoft-windows-powershell/operational":
		ls.Service = "powershell"
		ls.Category = map[int]string{4103: "ps_module", 4104: "ps_script"}[id]
	case "microsoft-windows-wmi-activity/operational":
		ls.Service = "wmi"
	case "microsoft-windows-taskscheduler/operational":
		ls.Service = "taskscheduler"
	case "microsoft-windows-windows firewall with advanced security/firewall":
		ls.Service = "firewall-as"
	case "microsoft-windows-windows defender/operational":
		ls.Service = "windefend"
	}
	return ls
}

// loadMordor reads the Windows corpus into stored events with the fields
// the engine's Dict holds. A small fastjson walker stands in for the real
// Windows decoder.
func loadMordor(tb testing.TB, d *event.Dict) []storedEvent {
	path := filepath.Join(dataDir, "events", "windows-mordor.jsonl.gz")
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("Windows event corpus not found at %s: %v", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var p fastjson.Parser
	var out []storedEvent
	line := 0
	for sc.Scan() {
		line++
		v, err := p.ParseBytes(sc.Bytes())
		if err != nil {
			tb.Fatalf("%s:%d: %v", path, line, err)
		}
		o, err := v.Object()
		if err != nil {
			tb.Fatalf("%s:%d: %v", path, line, err)
		}
		se := storedEvent{raw: append([]byte(nil), sc.Bytes()...)}
		o.Visit(func(k []byte, v *fastjson.Value) {
			id, ok := d.IDBytes(k)
			if !ok {
				return
			}
			var s string
			if v.Type() == fastjson.TypeString {
				s = string(v.GetStringBytes())
			} else {
				s = string(v.MarshalTo(nil))
			}
			se.ids = append(se.ids, id)
			se.vals = append(se.vals, s)
		})
		se.ls = windowsLogsource(string(o.Get("Channel").GetStringBytes()), o.Get("EventID").GetInt())
		out = append(out, se)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (se *storedEvent) fill(ev *event.Event) {
	ev.Reset()
	ev.Logsource = se.ls
	ev.Raw = se.raw
	for i, id := range se.ids {
		ev.Fields.Set(id, se.vals[i])
	}
}

func BenchmarkMatch(b *testing.B) { benchMatch(b, false) }

// BenchmarkMatchRuleByRule is BenchmarkMatch without the fast path: every
// routed rule evaluated atom by atom, as the engine did before the literal
// sets. Its figures are the "before" of the ones above, taken under the
// same load.
func BenchmarkMatchRuleByRule(b *testing.B) { benchMatch(b, true) }

func benchMatch(b *testing.B, each bool) {
	rules, loadErrs := windowsRules(b)
	e, errs := Compile(rules, Options{})
	evs := loadMordor(b, e.Dict())
	b.Logf("%d Windows rules compiled (%d SigmaHQ rules of any product not loaded, %d not compiled), %d atoms, %d fields; %d events",
		e.Len(), loadErrs, len(errs), len(e.atoms), len(e.fields), len(evs))
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	dst := make([]*rule.Rule, 0, 64)
	hits := 0
	// Walk the corpus with a stride so that any b.N samples all of it, not
	// just the first datasets.
	const stride = 7919
	j := 0
	// Setup leaves garbage; collect it now so that its collection is not
	// charged to matching.
	runtime.GC()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs[j].fill(&ev)
		if each {
			dst = e.matchEach(e.routes.lookup(ev.Logsource), &ev, dst[:0])
		} else {
			dst = e.Match(&ev, dst[:0])
		}
		hits += len(dst)
		if j += stride; j >= len(evs) {
			j -= len(evs)
		}
	}
	reportCPU(b, cpu0, hits)
}

// reportCPU stops the timer and reports CPU time per event since cpu0 and
// the matches per event. The machine is shared: CPU time used is the
// honest cost, wall time (ns/op) includes waiting for a core.
func reportCPU(b *testing.B, cpu0 time.Duration, hits int) {
	reportCPU(b, cpu0, hits)
}

// TestMordorMatches runs the Windows rules over the whole corpus once and
// logs which rules fire: a sanity check that real rules match real events.
func TestMordorMatches(t *testing.T) {
	if testing.Short() {
		t.Skip("long: loads the whole Windows corpus")
	}
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	evs := loadMordor(t, e.Dict())
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	counts := map[string]int{}
	var dst, each []*rule.Rule
	compared, agreed := 0, 0
	for i := range evs {
		evs[i].fill(&ev)
		dst = e.Match(&ev, dst[:0])
		for _, r := range dst {
			counts[r.Title]++
		}
		// Hold the fast path (literal sets, triggers) to the rule-by-rule
		// evaluation on every 4th event: the same rules must match.
		if i%4 == 0 {
			each = e.matchEach(e.routes.lookup(ev.Logsource), &ev, each[:0])
			if !slices.Equal(dst, each) {
				t.Fatalf("event %d (%+v): fast path matched %s, rule by rule %s", i, ev.Logsource, titles(dst), titles(each))
			}
			compared++
			agreed += len(each)
		}
	}
	t.Logf("fast path and rule-by-rule evaluation agree on %d events (%d matches)", compared, agreed)
	if agreed == 0 {
		t.Error("no rule matched the compared events: the comparison proved nothing")
	}
	titles := make([]string, 0, len(counts))
	for k := range counts {
		titles = append(titles, k)
	}
	sort.Slice(titles, func(i, j int) bool { return counts[titles[i]] > counts[titles[j]] })
	t.Logf("%d events, %d rules fired", len(evs), len(titles))
	for i, k := range titles {
		if i == 25 {
			break
		}
		t.Logf("%6d  %s", counts[k], k)
	}
	if len(titles) == 0 {
		t.Error("no rule fired on the whole Windows corpus")
	}
}

func titles(rs []*rule.Rule) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(strconv.Quote(r.Title) + " ")
	}
	return b.String()
}

// rawMordor reads the Windows corpus as raw records, every stride-th one.
func rawMordor(tb testing.TB, stride int) [][]byte {
	path := filepath.Join(dataDir, "events", "windows-mordor.jsonl.gz")
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("Windows event corpus not found at %s: %v", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out [][]byte
	for i := 0; sc.Scan(); i++ {
		if i%stride == 0 {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}

// BenchmarkDecodeMatch is the engine's end-to-end cost per Windows event:
// decode/windows into an Event bound to the engine's closed Dict, then
// Match against all SigmaHQ Windows rules. Run it with -cpu=1.
func BenchmarkDecodeMatch(b *testing.B) {
	rules, _ := windowsRules(b)
	e, _ := Compile(rules, Options{})
	recs := rawMordor(b, 1)
	dec := windows.New()
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	dst := make([]*rule.Rule, 0, 64)
	m := e.NewMatcher()
	hits := 0
	const stride = 7919 // sample the whole corpus whatever b.N
	j := 0
	// Steady state: the routes of the corpus's logsources are built by
	// their first events, not per event; build them before timing.
	for _, rec := range recs {
		ev.Reset()
		if dec.Decode(rec, &ev) == nil {
			e.Warm(ev.Logsource)
		}
	}
	runtime.GC()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		if err := dec.Decode(recs[j], &ev); err != nil {
			b.Fatal(err)
		}
		ev.Raw = recs[j]
		dst = m.Match(&ev, dst[:0])
		hits += len(dst)
		if j += stride; j >= len(recs) {
			j -= len(recs)
		}
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(b.N)/cpu, "events/cpu-s")
	b.ReportMetric(cpu*1e9/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(hits)/float64(b.N), "matches/event")
}

// TestEngineMemory reports the heap the engine compiled from all Windows
// rules keeps (after matching part of the corpus, so that its scratch
// exists) and holds it under the 300 MB budget.
func TestEngineMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long: compiles all Windows rules")
	}
	rules, _ := windowsRules(t)
	recs := rawMordor(t, 50)
	e, _ := Compile(rules, Options{})
	dec := windows.New()
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	var dst []*rule.Rule
	for _, rec := range recs {
		ev.Reset()
		if err := dec.Decode(rec, &ev); err != nil {
			t.Fatal(err)
		}
		ev.Raw = rec
		dst = e.Match(&ev, dst[:0])
	}
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	lits := e.fast.stats.bytes
	n := e.Len()
	// What the engine keeps is what collecting it frees.
	e, dst = nil, nil
	ev.Fields.Bind(nil)
	runtime.GC()
	runtime.ReadMemStats(&without)
	engine := int64(with.HeapAlloc) - int64(without.HeapAlloc)
	t.Logf("engine of %d rules: %.1f MB of heap (literal sets %.1f MB); process peak: Sys %.1f MB",
		n, float64(engine)/(1<<20), float64(lits)/(1<<20), float64(with.Sys)/(1<<20))
	if engine > 300<<20 {
		t.Errorf("the engine keeps %d MB, over the 300 MB budget", engine>>20)
	}
}

// TestSteadyStateNoAllocs decodes and matches the whole Windows corpus
// three times with one Matcher: the first pass builds routes and grows
// scratch buffers to the corpus's largest values, the second creates what
// package regexp pools (and refills it after the first pass's collections);
// the third must allocate nothing.
func TestSteadyStateNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("long: three passes over the Windows corpus")
	}
	// One P, as the one-core benchmarks: package regexp pools its
	// machines per P, so with several a goroutine that moves to another P
	// now and then meets an empty pool and allocates a machine (a few
	// dozen times over 116k events); the engine itself allocates nothing.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	recs := rawMordor(t, 1)
	dec := windows.New()
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	m := e.NewMatcher()
	dst := make([]*rule.Rule, 0, 64)
	var a, b runtime.MemStats
	for pass := 0; pass < 3; pass++ {
		runtime.ReadMemStats(&a)
		for _, rec := range recs {
			ev.Reset()
			if err := dec.Decode(rec, &ev); err != nil {
				continue
			}
			ev.Raw = rec
			dst = m.Match(&ev, dst[:0])
		}
		runtime.ReadMemStats(&b)
		t.Logf("pass %d: %d allocations, %d collections, %d events", pass, b.Mallocs-a.Mallocs, b.NumGC-a.NumGC, len(recs))
	}
	if n := b.Mallocs - a.Mallocs; n != 0 && b.NumGC == a.NumGC {
		t.Errorf("the third pass over %d events allocated %d times", len(recs), n)
	}
}
