package intel

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks load 1,000,000 generated indicators of mixed kinds —
// 30% CIDR ranges (IPv4 and IPv6), 25% addresses, 15% domains, 10% URLs,
// 12% hashes, 5% e-mail addresses, 3% user agents — and look up a mix
// of values as events carry them, most of which match nothing.
//
//	GOMAXPROCS=1 go test ./intel -run '^$' -bench Match -benchtime 2s

const benchSize = 1_000_000

var tlds = []string{"com", "net", "org", "ru", "cn", "info", "top", "xyz", "de", "io"}

// genIndicators makes n indicators; seed picks the values, round is put
// in ThreatType so that refreshes are told apart.
func genIndicators(n int, seed uint64, round string) []Indicator {
	rng := rand.New(rand.NewPCG(seed, 7))
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	inds := make([]Indicator, n)
	for i := range inds {
		ind := &inds[i]
		ind.ThreatType, ind.Confidence, ind.TLP, ind.Threat = round, 50+rng.IntN(50), "clear", "Emotet"
		ind.FirstSeen = first.Add(time.Duration(rng.IntN(1e6)) * time.Second)
		ind.LastSeen = ind.FirstSeen.Add(time.Hour)
		if i%4 == 0 {
			ind.ValidUntil = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		switch r := i % 100; {
		case r < 20:
			ind.Kind = KindCIDR
			a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			bits := 24
			if x := rng.IntN(10); x < 2 {
				bits = 16 + rng.IntN(8)
			} else if x < 4 {
				bits = 25 + rng.IntN(6)
			}
			ind.Value = netip.PrefixFrom(a, bits).Masked().String()
		case r < 30:
			ind.Kind = KindCIDR
			ind.Value = netip.PrefixFrom(randV6(rng), 32+rng.IntN(33)).Masked().String()
		case r < 50:
			ind.Kind = KindIP
			ind.Value = netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}).String()
		case r < 55:
			ind.Kind = KindIP
			ind.Value = randV6(rng).String()
		case r < 70:
			ind.Kind = KindDomain
			ind.Value = randName(rng)
		case r < 80:
			ind.Kind = KindURL
			ind.Value = "http://" + randName(rng) + "/" + strconv.FormatUint(rng.Uint64(), 36) + "/payload.exe"
		case r < 84:
			ind.Kind, ind.Value = KindMD5, randHex(rng, 32)
		case r < 88:
			ind.Kind, ind.Value = KindSHA1, randHex(rng, 40)
		case r < 92:
			ind.Kind, ind.Value = KindSHA256, randHex(rng, 64)
		case r < 97:
			ind.Kind = KindEmail
			ind.Value = strconv.FormatUint(rng.Uint64()%1e9, 36) + "@" + randName(rng)
		default:
			ind.Kind = KindUserAgent
			ind.Value = "Mozilla/5.0 (compatible; bot-" + strconv.FormatUint(rng.Uint64(), 36) + ")"
		}
	}
	return inds
}

func randV6(rng *rand.Rand) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0x20, byte(rng.IntN(16))
	for i := 2; i < 16; i++ {
		b[i] = byte(rng.IntN(256))
	}
	return netip.AddrFrom16(b)
}

func randName(rng *rand.Rand) string {
	return strconv.FormatUint(rng.Uint64()%(1<<40), 36) + "." + tlds[rng.IntN(len(tlds))]
}

func randHex(rng *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rng.IntN(16)]
	}
	return string(b)
}

type probe struct {
	kind  Kind
	value string
	addr  netip.Addr
}

// genProbes mixes what events carry: 60% addresses (a quarter listed
// exactly, a quarter inside listed ranges, half unlisted), 15% domains
// (subdomains of listed ones or unlisted), 10% URLs, 10% hashes, 5%
// e-mail addresses; about a third match.
func genProbes(inds []Indicator, n int) []probe {
	rng := rand.New(rand.NewPCG(99, 1))
	pick := func(k Kind) *Indicator {
		for {
			if ind := &inds[rng.IntN(len(inds))]; ind.Kind == k {
				return ind
			}
		}
	}
	out := make([]probe, n)
	for i := range out {
		p := &out[i]
		switch r := rng.IntN(100); {
		case r < 15:
			p.kind, p.addr = KindIP, netip.MustParseAddr(pick(KindIP).Value)
		case r < 30:
			pr := netip.MustParsePrefix(pick(KindCIDR).Value)
			p.kind, p.addr = KindIP, pr.Addr().Next()
		case r < 50:
			p.kind, p.addr = KindIP, netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		case r < 60:
			p.kind, p.addr = KindIP, randV6(rng)
		case r < 68:
			p.kind, p.value = KindDomain, "www.cdn."+pick(KindDomain).Value
		case r < 75:
			p.kind, p.value = KindDomain, "mail."+randName(rng)
		case r < 80:
			p.kind, p.value = KindURL, pick(KindURL).Value
		case r < 85:
			p.kind, p.value = KindURL, "http://"+randName(rng)+"/index.html?q=1"
		case r < 90:
			p.kind, p.value = KindSHA256, pick(KindSHA256).Value
		case r < 95:
			p.kind, p.value = KindSHA256, randHex(rng, 64)
		default:
			p.kind, p.value = KindEmail, pick(KindEmail).Value
		}
	}
	return out
}

// genTraffic is what a stream of ordinary events looks like: one value in
// a hundred listed (taken from genProbes' listed ones), the rest unlisted
// addresses (60% IPv4, 10% IPv6), domains (15%), URLs (10%) and hashes (5%).
func genTraffic(listed []probe, n int) []probe {
	rng := rand.New(rand.NewPCG(5, 5))
	out := make([]probe, n)
	for i := range out {
		p := &out[i]
		switch r := rng.IntN(100); {
		case r == 0:
			*p = listed[rng.IntN(len(listed))]
		case r < 60:
			p.kind, p.addr = KindIP, netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		case r < 70:
			p.kind, p.addr = KindIP, randV6(rng)
		case r < 85:
			p.kind, p.value = KindDomain, "www."+randName(rng)
		case r < 95:
			p.kind, p.value = KindURL, "https://"+randName(rng)+"/static/app.js?v=3"
		default:
			p.kind, p.value = KindSHA256, randHex(rng, 64)
		}
	}
	return out
}

var bench struct {
	once    sync.Once
	set     *Set
	probes  []probe
	traffic []probe
	heapMB  float64
	load    time.Duration
}

func loadBench(b *testing.B) {
	bench.once.Do(func() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		inds := genIndicators(benchSize, 1, "1")
		// The probes (about 1 MB) stay counted: a slight overestimate.
		probes := genProbes(inds, 1<<14)
		bench.set = new(Set)
		start := time.Now()
		if err := bench.set.Replace("bench", inds); err != nil {
			panic(err)
		}
		bench.load = time.Since(start)
		inds = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		bench.probes = probes
		bench.traffic = genTraffic(probes, 1<<14)
		bench.heapMB = float64(after.HeapAlloc-before.HeapAlloc) / 1e6
	})
	b.Logf("1M indicators: Replace took %v; heap after load: the set holds %.0f MB (indicators, values and index)", bench.load.Round(time.Millisecond), bench.heapMB)
}

// reportLookups reports lookups per second of wall time, and per second
// of the process's CPU time since cpu0 (with GOMAXPROCS=1, one core's).
func reportLookups(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
	}
	b.ReportMetric(bench.heapMB, "setMB")
}

// BenchmarkMatchIP1M: addresses only (listed, in ranges, unlisted).
func BenchmarkMatchIP1M(b *testing.B) {
	loadBench(b)
	var addrs []netip.Addr
	for _, p := range bench.probes {
		if p.kind == KindIP {
			addrs = append(addrs, p.addr)
		}
	}
	now := time.Now()
	dst := make([]*Indicator, 0, 16)
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		dst = bench.set.MatchIP(addrs[i%len(addrs)], now, dst[:0])
		hits += len(dst)
	}
	reportLookups(b, cpu0)
	b.ReportMetric(float64(hits)/float64(b.N), "matches/op")
}

// BenchmarkMatchMixed1M: the mix of genProbes, through Match and MatchIP.
func BenchmarkMatchMixed1M(b *testing.B) {
	loadBench(b)
	probes := bench.probes
	now := time.Now()
	dst := make([]*Indicator, 0, 16)
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p := &probes[i%len(probes)]
		if p.kind == KindIP {
			dst = bench.set.MatchIP(p.addr, now, dst[:0])
		} else {
			dst = bench.set.Match(p.kind, p.value, now, dst[:0])
		}
		hits += len(dst)
	}
	reportLookups(b, cpu0)
	b.ReportMetric(float64(hits)/float64(b.N), "matches/op")
}

// BenchmarkMatchTraffic1M: the mix of genTraffic, mostly unlisted values.
func BenchmarkMatchTraffic1M(b *testing.B) {
	loadBench(b)
	probes := bench.traffic
	now := time.Now()
	dst := make([]*Indicator, 0, 16)
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p := &probes[i%len(probes)]
		if p.kind == KindIP {
			dst = bench.set.MatchIP(p.addr, now, dst[:0])
		} else {
			dst = bench.set.Match(p.kind, p.value, now, dst[:0])
		}
		hits += len(dst)
	}
	reportLookups(b, cpu0)
	b.ReportMetric(float64(hits)/float64(b.N), "matches/op")
}

// BenchmarkMatchDuringReplace1M: lookups while another goroutine keeps
// replacing a 1M-indicator feed (alternating two generations). On one core
// the two share the CPU, so throughput drops; what must not happen is a
// pause: maxgap-µs is the longest time between two successive groups of
// 64 lookups, and every lookup is checked to see one whole generation.
func BenchmarkMatchDuringReplace1M(b *testing.B) {
	loadBench(b)
	gens := [2][]Indicator{genIndicators(benchSize, 1, "2"), genIndicators(benchSize, 1, "3")}
	var set Set
	gen0 := append([]Indicator(nil), gens[0]...)
	if err := set.Replace("bench", gen0); err != nil {
		b.Fatal(err)
	}
	probes := bench.probes
	var stop atomic.Bool
	var replaces atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; !stop.Load(); i++ {
			if err := set.Replace("bench", gens[i%2]); err != nil {
				panic(err)
			}
			replaces.Add(1)
		}
	}()
	now := time.Now()
	dst := make([]*Indicator, 0, 16)
	var maxGap time.Duration
	last := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := &probes[i%len(probes)]
		if p.kind == KindIP {
			dst = set.MatchIP(p.addr, now, dst[:0])
		} else {
			dst = set.Match(p.kind, p.value, now, dst[:0])
		}
		for j := 1; j < len(dst); j++ {
			if ind := dst[j]; ind.ThreatType != dst[0].ThreatType {
				b.Fatalf("a lookup saw two generations: %s and %s", dst[0].ThreatType, ind.ThreatType)
			}
		}
		if i%64 == 63 {
			t := time.Now()
			if g := t.Sub(last); g > maxGap {
				maxGap = g
			}
			last = t
		}
	}
	b.StopTimer()
	stop.Store(true)
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(maxGap.Microseconds()), "maxgap-µs")
	b.ReportMetric(float64(replaces.Load()), "replaces")
}

// BenchmarkReplace1M: building and publishing the index of a 1M feed.
func BenchmarkReplace1M(b *testing.B) {
	inds := genIndicators(benchSize, 1, "1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var s Set
		if err := s.Replace("bench", inds); err != nil {
			b.Fatal(err)
		}
	}
}
