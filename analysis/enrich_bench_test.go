package analysis

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/tenant"
)

// mordorBatches reads the Windows corpus into bus batches of 1,000 records.
func mordorBatches(b *testing.B) ([]*bus.Batch, int) {
	path := filepath.Join("..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("Windows corpus absent (%v)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out []*bus.Batch
	n := 0
	for sc.Scan() {
		if n%1000 == 0 {
			out = append(out, &bus.Batch{ID: event.NewID(), Workspace: "w", Source: "s", Format: "windows", Received: time.Now()})
		}
		bt := out[len(out)-1]
		bt.Records = append(bt.Records, event.Raw{ID: event.NewID(), Data: append([]byte(nil), sc.Bytes()...), Line: n + 1})
		n++
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return out, n
}

// builtinRules compiles the built-in rule pack, decoding the hash fields
// the intelligence enricher reads, as serve does.
func builtinRules(b *testing.B) *Rules {
	var rs []*rule.Rule
	err := fs.WalkDir(content.Rules, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := content.Rules.ReadFile(p)
		if err != nil {
			return err
		}
		got, _ := rule.Parse(p, data)
		rs = append(rs, got...)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	eng, _ := detect.Compile(rs, detect.Options{Taxonomy: rule.DefaultTaxonomy(), ExtraFields: indicators.HashFields})
	return NewRules(eng)
}

// millionIndicators is a fake indicator set of 1,000,000 entries: 40%
// addresses, 30% CIDR ranges (/16 to /28), 10% domains, 5% URLs and 15%
// file hashes, as many MD5 as SHA-1 and SHA-256, their digits random.
func millionIndicators() intel.Matcher {
	r := rand.New(rand.NewPCG(1, 2))
	inds := make([]intel.Indicator, 0, 1_000_000)
	pub := func() netip.Addr {
		for {
			a := netip.AddrFrom4([4]byte{byte(r.IntN(223) + 1), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
			if enrich.Scope(a) == enrich.ScopePublic {
				return a
			}
		}
	}
	for i := range 1_000_000 {
		ind := intel.Indicator{ThreatType: intel.ThreatBotnet, Confidence: 70, Feed: "bench"}
		hex := func(n int) string {
			return fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())[:n]
		}
		switch i % 20 {
		case 0, 1, 2, 3, 4, 5, 6, 7:
			ind.Kind, ind.Value = intel.KindIP, pub().String()
		case 8, 9, 10, 11, 12, 13:
			bits := []int{16, 20, 24, 28}[r.IntN(4)]
			p, _ := pub().Prefix(bits)
			ind.Kind, ind.Value = intel.KindCIDR, p.String()
		case 14, 15:
			ind.Kind, ind.Value = intel.KindDomain, fmt.Sprintf("d%d.example%d.net", i, r.IntN(1000))
		case 16:
			ind.Kind, ind.Value = intel.KindURL, fmt.Sprintf("http://d%d.example%d.net/p/%d", i, r.IntN(1000), r.IntN(1<<20))
		case 17:
			ind.Kind, ind.Value = intel.KindMD5, hex(32)
		case 18:
			ind.Kind, ind.Value = intel.KindSHA1, hex(40)
		default:
			ind.Kind, ind.Value = intel.KindSHA256, hex(64)
		}
		inds = append(inds, ind)
	}
	// The line-rate set serve and scan use.
	m := &intel.Set{}
	if err := m.Replace("bench", inds); err != nil {
		panic(err)
	}
	return m
}

// BenchmarkEnrichmentCost is a worker's cost per Windows event without
// enrichment and with the chain serve runs (1,000,000 indicators, the
// embedded GeoIP database; and the behavioural baselines of a standard
// workspace). The difference is the enrichment step's cost;
// issue 11 budgets 0.5 µs an event. cpu-ns/event counts the worker
// thread's CPU time only, which a busy machine does not inflate.
func BenchmarkEnrichmentCost(b *testing.B) {
	batches, n := mordorBatches(b)
	rs := builtinRules(b)
	db, err := geoip.Default()
	if err != nil {
		b.Fatal(err)
	}
	ind := indicators.New(millionIndicators())
	chain := enrich.NewChain(ind, geoip.New(db))
	// The baselines learn the corpus's process creations (host.process)
	// and run the chain whole on them; no loaded rule makes it eager.
	base, err := baseline.New(baseline.Config{Workspace: "w"})
	if err != nil {
		b.Fatal(err)
	}
	withBase := enrich.NewChain(ind, geoip.New(db), base)
	for _, c := range []struct {
		name  string
		chain *enrich.Chain
	}{{"none", nil}, {"intel+geoip", chain}, {"intel+geoip+baseline", withBase}} {
		b.Run(c.name, func(b *testing.B) {
			p := NewProcessor(rs)
			if c.chain != nil {
				p.Enrichers = func(string) *enrich.Chain { return c.chain }
			}
			for _, bt := range batches {
				p.Process(bt, tenant.Source{}) // warm: routes, decoders, caches
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			cpu := threadCPU()
			for b.Loop() {
				for _, bt := range batches {
					p.Process(bt, tenant.Source{})
				}
			}
			cpu = threadCPU() - cpu
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(cpu)/float64(b.N*n), "cpu-ns/event")
		})
	}
	// paired: each round passes the corpus through all three processors
	// in turn (the order rotating) and takes the differences within the
	// round, so that the machine's drift between sub-benchmarks, larger
	// than the cost measured on a shared machine, cancels out. A pass
	// starts after a collection and is timed on the process's CPU, so
	// that it pays for its own garbage, not for the pass before's.
	// Reported: the median over the rounds of each chain's cost an event.
	b.Run("paired", func(b *testing.B) {
		procs := make([]*Processor, 3)
		for i, c := range []*enrich.Chain{nil, chain, withBase} {
			procs[i] = NewProcessor(rs)
			if c != nil {
				procs[i].Enrichers = func(string) *enrich.Chain { return c }
			}
			for _, bt := range batches {
				procs[i].Process(bt, tenant.Source{})
			}
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var intelCost, baseCost []float64
		round := 0
		for b.Loop() {
			var took [3]float64
			for j := range 3 {
				i := (j + round) % 3
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				cpu := processCPU()
				for _, bt := range batches {
					procs[i].Process(bt, tenant.Source{})
				}
				took[i] = float64(processCPU() - cpu)
			}
			round++
			intelCost = append(intelCost, (took[1]-took[0])/float64(n))
			baseCost = append(baseCost, (took[2]-took[0])/float64(n))
		}
		b.ReportMetric(median(intelCost), "intel+geoip-cpu-ns/event")
		b.ReportMetric(median(baseCost), "intel+geoip+baseline-cpu-ns/event")
	})
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
