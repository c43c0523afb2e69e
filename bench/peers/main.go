// Command peers benchmarks vigil's Sigma engine against the Go Sigma
// engines github.com/bradleyjkemp/sigma-go and
// github.com/markuskont/go-sigma-rule-engine on the SigmaHQ Windows rules
// and a real Windows event corpus, in one run, each engine on one core, and
// compares the (event, rule) pairs they find.
//
//	cd bench/peers && go run . [-limit 20000] [-engines vigil,sigma-go]
//
// Each engine runs in its own subprocess (GOMAXPROCS=1, one after the
// other) so that its peak memory is its own. vigil's figure includes
// decoding every event from its raw JSON bytes (decode/windows) and
// matching it; the peers get every event decoded before timing, into
// their own event type, and only the rules whose logsource fits the event
// (vigil's routing, from vigil's own decoder). See docs/benchmarks.md.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

type options struct {
	rules, events, engines, cpuprofile, memprofile, diff string
	limit, chunk                                         int
	child                                                string // internal: run one engine
	out                                                  string // internal: the child's hits file
}

func main() {
	var o options
	flag.StringVar(&o.rules, "rules", filepath.Join("..", "..", "..", "shared", "data", "sigma"), "SigmaHQ rules directory (rules with logsource.product windows are used)")
	flag.StringVar(&o.events, "events", filepath.Join("..", "..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz"), "Windows events, JSON lines (plain or gzip)")
	flag.IntVar(&o.limit, "limit", 0, "events to run (0: all)")
	flag.StringVar(&o.engines, "engines", strings.Join(allEngines, ","), "engines to run, comma-separated")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile per engine to `file` (the engine's name is inserted before the extension)")
	flag.StringVar(&o.memprofile, "memprofile", "", "write an allocation profile (every allocation) per engine to `file`, name as -cpuprofile")
	flag.StringVar(&o.diff, "diff", "hits-diff.txt", "write the full hit differences to `file` (empty: don't)")
	flag.IntVar(&o.chunk, "chunk", 2048, "events decoded for the peers before each timed section")
	flag.StringVar(&o.child, "child", "", "internal: run this engine and report")
	flag.StringVar(&o.out, "out", "", "internal: where the child writes its rules and hits")
	flag.Parse()

	var err error
	if o.child != "" {
		err = child(o)
	} else {
		err = parent(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// result is what a child reports.
type result struct {
	Engine    string
	RuleFiles int // rule files with product windows
	RuleDocs  int // their windows documents
	Accepted  int
	Rejected  int
	Events    int
	WallNS    int64
	CPUNS     int64
	Allocs    uint64
	Hits      int
	LoadNS    int64
	HeapLoad  uint64 // live heap after loading the rules
	Note      string
	MaxRSS    int64 `json:"-"` // filled in by the parent
}

func child(o options) error {
	files, err := windowsRuleFiles(o.rules)
	if err != nil {
		return err
	}
	eng, err := newEngine(o.child)
	if err != nil {
		return err
	}
	res := result{Engine: o.child, RuleFiles: len(files)}
	for _, f := range files {
		res.RuleDocs += f.docs
	}
	t0 := time.Now()
	acc, rej, err := eng.load(files)
	if err != nil {
		return err
	}
	res.LoadNS = int64(time.Since(t0))
	res.Accepted, res.Rejected = len(acc), len(rej)
	// Free the rule sources before measuring.
	for i := range files {
		files[i].data = nil
	}
	runtime.GC()
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(heap)
	res.HeapLoad = heap[0].Value.Uint64()

	c, err := openCorpus(o.events, o.limit)
	if err != nil {
		return err
	}
	defer c.Close()
	if o.cpuprofile != "" {
		f, err := os.Create(profileName(o.cpuprofile, o.child))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.memprofile != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if f, err := os.Create(profileName(o.memprofile, o.child)); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	hits := make([]hit, 0, 1<<16)
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	// Reading the metric allocates a few objects itself, counted between
	// two reads: measure that around nothing and take it off each section.
	var readCost uint64
	for i := 0; i < 8; i++ {
		metrics.Read(allocs)
		a0 := allocs[0].Value.Uint64()
		metrics.Read(allocs)
		if d := allocs[0].Value.Uint64() - a0; i == 0 || d < readCost {
			readCost = d
		}
	}
	for {
		first, lines, err := c.next(o.chunk)
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			break
		}
		eng.prepare(first, lines)
		if _, peer := eng.(interface{ peer() }); peer {
			// Collect the garbage of the untimed decoding into maps now,
			// not during the timed section. (Not for vigil: a forced GC
			// empties the sync.Pools its matcher and package regexp keep,
			// and refilling them would be counted as its allocations.)
			runtime.GC()
		}
		metrics.Read(allocs)
		a0 := allocs[0].Value.Uint64()
		c0 := cpuTime()
		w0 := time.Now()
		hits = eng.run(hits)
		res.WallNS += int64(time.Since(w0))
		res.CPUNS += int64(cpuTime() - c0)
		metrics.Read(allocs)
		if d := allocs[0].Value.Uint64() - a0; d > readCost {
			res.Allocs += d - readCost
		}
		res.Events += len(lines)
	}
	res.Hits = len(hits)
	res.Note = eng.note()

	if o.out != "" {
		if err := writeHits(o.out, acc, rej, hits); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func profileName(base, engine string) string {
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + engine + ext
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeHits writes the accepted rules (R key title), the rejected ones
// (X reason) and the hits (H event rule-key).
func writeHits(path string, acc []acceptedRule, rej []string, hits []hit) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, r := range acc {
		fmt.Fprintf(w, "R\t%s\t%s\n", r.key, oneLine(r.title))
	}
	for _, r := range rej {
		fmt.Fprintf(w, "X\t%s\n", oneLine(r))
	}
	for _, h := range hits {
		fmt.Fprintf(w, "H\t%d\t%s\n", h.ev, acc[h.rule].key)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\t", " ").Replace(s) }

// runChild runs one engine in a subprocess on one core and returns its
// result and the file with its hits.
func runChild(o options, engine, out string) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	args := []string{
		"-child", engine, "-out", out,
		"-rules", o.rules, "-events", o.events,
		"-limit", fmt.Sprint(o.limit), "-chunk", fmt.Sprint(o.chunk),
	}
	if o.cpuprofile != "" {
		args = append(args, "-cpuprofile", o.cpuprofile)
	}
	if o.memprofile != "" {
		args = append(args, "-memprofile", o.memprofile)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", engine, err)
	}
	var res result
	if err := json.Unmarshal(stdout, &res); err != nil {
		return result{}, fmt.Errorf("%s: reading its report: %w", engine, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return res, nil
}

func parent(o options) error {
	names := strings.Split(o.engines, ",")
	for _, n := range names {
		if _, err := newEngine(n); err != nil {
			return err
		}
	}
	if _, err := os.Stat(o.rules); err != nil {
		return err
	}
	if _, err := os.Stat(o.events); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "vigil-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("rules %s, events %s", o.rules, o.events)
	if o.limit > 0 {
		fmt.Printf(" (first %d)", o.limit)
	}
	fmt.Printf("\n%s %s/%s, %d CPUs, each engine in its own process with GOMAXPROCS=1\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	var results []result
	outs := map[string]string{}
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "running %s…\n", n)
		out := filepath.Join(tmp, n+".hits")
		res, err := runChild(o, n, out)
		if err != nil {
			return err
		}
		results = append(results, res)
		outs[n] = out
	}
	printTable(os.Stdout, results)

	if _, ok := outs[engVigil]; !ok {
		return nil
	}
	var peers []string
	for _, n := range names {
		if n == engSigmaGo || n == engGoSRE {
			peers = append(peers, n)
		}
	}
	if len(peers) == 0 {
		return nil
	}
	return compareHits(o, outs, peers)
}

func printTable(w *os.File, rs []result) {
	var vigil *result
	for i := range rs {
		if rs[i].Engine == engVigil {
			vigil = &rs[i]
		}
	}
	fmt.Fprintf(w, "| engine | rules accepted | events | wall s | CPU s | events/s (wall) | events/s (CPU) | µs/event (CPU) | allocs/event | peak RSS MB | hits | vigil × (wall) | vigil × (CPU) |\n")
	fmt.Fprintf(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rs {
		rules := "—"
		hits := "—"
		if r.Engine == engVigil || r.Engine == engSigmaGo || r.Engine == engGoSRE {
			rules = fmt.Sprintf("%d / %d", r.Accepted, r.RuleDocs)
			hits = fmt.Sprint(r.Hits)
		}
		wall, cpu := float64(r.WallNS)/1e9, float64(r.CPUNS)/1e9
		ratioW, ratioC := "", ""
		if vigil != nil && r.Engine != engVigil && r.Engine != engDecode && r.Engine != engJSONMap && r.Events > 0 {
			ratioW = fmt.Sprintf("%.0f×", rate(vigil.Events, vigil.WallNS)/rate(r.Events, r.WallNS))
			ratioC = fmt.Sprintf("%.0f×", rate(vigil.Events, vigil.CPUNS)/rate(r.Events, r.CPUNS))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.2f | %.2f | %s | %s | %.2f | %.3f | %.0f | %s | %s | %s |\n",
			r.Engine, rules, r.Events, wall, cpu,
			group(rate(r.Events, r.WallNS)), group(rate(r.Events, r.CPUNS)),
			cpu*1e6/float64(max(r.Events, 1)), float64(r.Allocs)/float64(max(r.Events, 1)),
			float64(r.MaxRSS)/(1<<20), hits, ratioW, ratioC)
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		line := fmt.Sprintf("%s: rules loaded and compiled in %.1f s, live heap after loading %.0f MB", r.Engine, float64(r.LoadNS)/1e9, float64(r.HeapLoad)/(1<<20))
		if r.Rejected > 0 {
			line += fmt.Sprintf(", %d rejected", r.Rejected)
		}
		if r.Note != "" {
			line += "; " + r.Note
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
}

func rate(n int, ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return float64(n) / (float64(ns) / 1e9)
}

// group writes a rate with thousands separators.
func group(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
