package list

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

func parse(t *testing.T, format Format, o Options, text string) ([]intel.Indicator, []intel.Problem) {
	t.Helper()
	p, err := New(string(format), o)
	if err != nil {
		t.Fatal(err)
	}
	var probs []intel.Problem
	inds, err := p.Parse(strings.NewReader(text), "test", func(pr intel.Problem) { probs = append(probs, pr) })
	if err != nil {
		t.Fatal(err)
	}
	return inds, probs
}

func vals(inds []intel.Indicator) []string {
	out := make([]string, len(inds))
	for i, ind := range inds {
		out[i] = string(ind.Kind) + ":" + ind.Value
	}
	return out
}

func TestIPListSpamhausDROP(t *testing.T) {
	text := "; Spamhaus DROP List 2026/06/01 - (c) 2026 The Spamhaus Project SLU\r\n" +
		"; Last-Modified: Mon, 01 Jun 2026 12:00:00 GMT\r\n" +
		"; Expires: Mon, 01 Jun 2026 13:00:00 GMT\r\n" +
		"1.10.16.0/20 ; SBL256894\r\n" +
		"2.56.192.0/22;SBL459831\r\n" +
		"2001:DB8:1234::/48 ; SBL999\r\n" +
		"not-a-net ; SBL1\r\n"
	inds, probs := parse(t, FormatIP, Options{ThreatType: intel.ThreatSpam}, text)
	want := []string{"cidr:1.10.16.0/20", "cidr:2.56.192.0/22", "cidr:2001:db8:1234::/48"}
	if !slices.Equal(vals(inds), want) {
		t.Fatalf("got %v, want %v", vals(inds), want)
	}
	if inds[0].Ref != "SBL256894" || inds[1].Ref != "SBL459831" || inds[0].ThreatType != intel.ThreatSpam || inds[0].Confidence != 50 || inds[0].Feed != "test" {
		t.Errorf("first two: %+v %+v", inds[0], inds[1])
	}
	if len(probs) != 1 || probs[0].Where != "line 7" || !strings.Contains(probs[0].Reason, "not-a-net") {
		t.Errorf("problems: %v", probs)
	}
}

func TestIPListSpamhausDROPJSON(t *testing.T) {
	text := `{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}
{"cidr":"2001:db8::/32","sblid":"SBL1","rir":"ripencc"}
{"cidr":"1.2.3.4/40","sblid":"SBL2"}
{"cidr":
{"type":"metadata","timestamp":1717243200,"size":2,"records":2}
`
	inds, probs := parse(t, FormatIP, Options{}, text)
	if !slices.Equal(vals(inds), []string{"cidr:1.10.16.0/20", "cidr:2001:db8::/32"}) || inds[0].Ref != "SBL256894" || inds[0].ThreatType != intel.ThreatSpam {
		t.Fatalf("got %v %+v", vals(inds), inds)
	}
	if len(probs) != 2 || probs[0].Where != "line 3" || probs[1].Where != "line 4" {
		t.Errorf("problems: %v", probs)
	}
}

func TestIPListFireHOLNetset(t *testing.T) {
	text := `#
# sample
#
# ipv4 hash:net ipset
#
# Category        : attacks
#
# This File Date  : Sat Nov  7 22:45:02 UTC 2015
# Entries         : 3 subnets
#
198.51.100.0/24
203.0.113.7
192.0.2.0/25 # a trailing comment
10.0.0.0/33

   
192.0.2.200-192.0.2.203
`
	inds, probs := parse(t, FormatIP, Options{}, text)
	want := []string{"cidr:198.51.100.0/24", "ip:203.0.113.7", "cidr:192.0.2.0/25", "cidr:192.0.2.200/30"}
	if !slices.Equal(vals(inds), want) {
		t.Fatalf("got %v, want %v", vals(inds), want)
	}
	wantDate := time.Date(2015, 11, 7, 22, 45, 2, 0, time.UTC)
	for _, ind := range inds {
		if ind.ThreatType != intel.ThreatScanner || !ind.LastSeen.Equal(wantDate) {
			t.Errorf("%s: threat %s last seen %v, want scanner and %v", ind.Value, ind.ThreatType, ind.LastSeen, wantDate)
		}
	}
	if len(probs) != 1 || probs[0].Where != "line 14" {
		t.Errorf("problems: %v", probs)
	}
}

func TestIPListDShieldBlockAndRanges(t *testing.T) {
	text := "#   DShield.org Recommended Block List\n" +
		"Start\tEnd\tNetblock\tAttacks\tName\tCountry\temail\n" +
		"64.62.156.0\t64.62.156.255\t24\t3122\tEXAMPLE\tUS\tabuse@example.net\n" +
		"10.0.0.1-10.0.0.6\n" +
		"10.0.0.9-10.0.0.1\n" +
		"10.0.0.1-2001:db8::1\n"
	inds, probs := parse(t, FormatIP, Options{}, text)
	want := []string{"cidr:64.62.156.0/24", "ip:10.0.0.1", "cidr:10.0.0.2/31", "cidr:10.0.0.4/31", "ip:10.0.0.6"}
	if !slices.Equal(vals(inds), want) {
		t.Fatalf("got %v, want %v", vals(inds), want)
	}
	if len(probs) != 2 || !strings.Contains(probs[0].Reason, "ends before") || !strings.Contains(probs[1].Reason, "mixes") {
		t.Errorf("problems: %v", probs)
	}
}

func TestRangePrefixesCoverExactly(t *testing.T) {
	cases := []struct{ a, b string }{
		{"0.0.0.0", "255.255.255.255"}, {"10.0.0.1", "10.0.0.1"}, {"10.0.0.0", "10.0.1.255"},
		{"10.0.0.3", "10.0.2.17"}, {"255.255.255.250", "255.255.255.255"}, {"2001:db8::ffff", "2001:db8::1:3"},
	}
	for _, c := range cases {
		a, b := netip.MustParseAddr(c.a), netip.MustParseAddr(c.b)
		ps := rangePrefixes(a, b)
		// Contiguous, in order, starting at a and ending at b.
		next := a
		for _, p := range ps {
			if p.Addr() != next || p.Masked() != p {
				t.Fatalf("%s-%s: %v not contiguous or not aligned at %s", c.a, c.b, ps, p)
			}
			next = lastOf(p).Next()
		}
		if lastOf(ps[len(ps)-1]) != b {
			t.Fatalf("%s-%s: %v ends at %s", c.a, c.b, ps, lastOf(ps[len(ps)-1]))
		}
	}
}

func TestFeodoCSV(t *testing.T) {
	text := `################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #
# Last updated: 2026-06-01 10:00:00 UTC                        #
################################################################
#
"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
"2026-05-01 10:00:00","203.0.113.10","443","online","2026-05-31","Dridex"
"2026-05-02 11:00:00","198.51.100.22","8080","offline","2026-05-30","QakBot"
"2026-05-03 12:00:00","not-an-ip","443","offline","2026-05-30","Emotet"
"2026-05-03 12:00:00","198.51.100.23","99999","offline","yesterday","Emotet"
"broken,"quote"
# END 4 entries
`
	inds, probs := parse(t, FormatFeodo, Options{}, text)
	if !slices.Equal(vals(inds), []string{"ip:203.0.113.10", "ip:198.51.100.22", "ip:198.51.100.23"}) {
		t.Fatalf("got %v", vals(inds))
	}
	first := inds[0]
	if first.ThreatType != intel.ThreatC2 || first.Threat != "Dridex" || !first.FirstSeen.Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) ||
		!first.LastSeen.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) || first.Description != "C2 server, port 443, status online" {
		t.Errorf("first row: %+v", first)
	}
	where := func(i int) string { return probs[i].Where + " " + probs[i].Reason }
	if len(probs) != 4 || !strings.HasPrefix(where(0), "line 9 dst_ip") || !strings.HasPrefix(where(1), "line 10 last_online") ||
		!strings.HasPrefix(where(2), "line 10 dst_port") || !strings.HasPrefix(where(3), "line 11 CSV") {
		t.Errorf("problems: %v", probs)
	}
}

func TestFeodoCSVOldHeaderAndColumnOrder(t *testing.T) {
	// The older file: header as a comment, no status column.
	text := "# Firstseen,DstIP,DstPort,LastOnline,Malware\n2015-03-01 10:00:00,192.0.2.5,8080,2015-10-20,Dridex\n"
	inds, probs := parse(t, FormatFeodo, Options{}, text)
	if len(probs) != 0 || !slices.Equal(vals(inds), []string{"ip:192.0.2.5"}) || inds[0].Threat != "Dridex" || inds[0].Description != "C2 server, port 8080" {
		t.Fatalf("got %v %+v, problems %v", vals(inds), inds, probs)
	}
	// No header at all: the current order.
	inds, _ = parse(t, FormatFeodo, Options{Threat: "Feodo"}, `"2026-05-01 10:00:00","192.0.2.6","443","online","2026-05-31","Dridex"`)
	if !slices.Equal(vals(inds), []string{"ip:192.0.2.6"}) || inds[0].Threat != "Feodo" {
		t.Fatalf("headerless: %v %+v", vals(inds), inds)
	}
}

func TestTorLists(t *testing.T) {
	bulk := "171.25.193.77\n2001:DB8::77\n\n185.220.101.1 extra\n"
	inds, probs := parse(t, FormatTor, Options{}, bulk)
	if !slices.Equal(vals(inds), []string{"ip:171.25.193.77", "ip:2001:db8::77"}) || inds[0].ThreatType != intel.ThreatTorExit || inds[0].Threat != "Tor" {
		t.Fatalf("bulk: %v %+v", vals(inds), inds)
	}
	if len(probs) != 1 || probs[0].Where != "line 4" {
		t.Errorf("bulk problems: %v", probs)
	}
	exits := `ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2026-06-01 08:00:00
LastStatus 2026-06-01 09:00:00
ExitAddress 162.247.74.201 2026-06-01 09:10:11
ExitNode 0091174DE56EA5E3A0B7E3B5C8AA54B5A1F53C5C
Published 2026-06-01 07:00:00
LastStatus 2026-06-01 08:00:00
ExitAddress 185.220.101.6 2026-06-01 08:03:04
ExitAddress 2001:db8::6 2026-06-01 08:04:05
ExitAddress 300.1.1.1 2026-06-01 08:04:05
ExitAddress 185.220.101.7 yesterday noon
`
	inds, probs = parse(t, FormatTor, Options{Confidence: 90}, exits)
	if !slices.Equal(vals(inds), []string{"ip:162.247.74.201", "ip:185.220.101.6", "ip:2001:db8::6", "ip:185.220.101.7"}) {
		t.Fatalf("exit-addresses: %v", vals(inds))
	}
	if inds[0].Ref != "0011BD2485AD45D984EC4159C88FC066E5E3300E" || inds[1].Ref != "0091174DE56EA5E3A0B7E3B5C8AA54B5A1F53C5C" ||
		!inds[1].LastSeen.Equal(time.Date(2026, 6, 1, 8, 3, 4, 0, time.UTC)) || inds[1].Confidence != 90 {
		t.Errorf("exit-addresses: %+v %+v", inds[0], inds[1])
	}
	if len(probs) != 2 || probs[0].Where != "line 10" || probs[1].Where != "line 11" {
		t.Errorf("exit-addresses problems: %v", probs)
	}
}

func TestMixedList(t *testing.T) {
	text := `# phishing and malware
Evil.Example.
http://evil.example/dl/a.exe#frag
D41D8CD98F00B204E9800998ECF8427E
da39a3ee5e6b4b0d3255bfef95601890afd80709 # sha-1 of nothing
bad@evil.example
198.51.100.9
198.51.100.0/24 ; SBL123
0.0.0.0 ads.example
two words here
http://
http://evil.example/a;jsessionid=1
`
	inds, probs := parse(t, FormatMixed, Options{ThreatType: intel.ThreatPhishing}, text)
	want := []string{"domain:evil.example", "url:http://evil.example/dl/a.exe", "md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", "email:bad@evil.example", "ip:198.51.100.9", "cidr:198.51.100.0/24", "domain:ads.example", "url:http://evil.example/a;jsessionid=1"}
	if !slices.Equal(vals(inds), want) {
		t.Fatalf("got %v, want %v", vals(inds), want)
	}
	if inds[0].ThreatType != intel.ThreatPhishing {
		t.Errorf("threat type %q", inds[0].ThreatType)
	}
	if len(probs) != 2 || probs[0].Where != "line 10" || probs[1].Where != "line 11" {
		t.Errorf("problems: %v", probs)
	}
}

func TestLongLineIsReportedAndTheRestRead(t *testing.T) {
	text := "192.0.2.1\n" + strings.Repeat("9", MaxLine+10) + "\n192.0.2.2\n" + strings.Repeat("x", 70<<10) + "\n192.0.2.3"
	inds, probs := parse(t, FormatIP, Options{}, text)
	if !slices.Equal(vals(inds), []string{"ip:192.0.2.1", "ip:192.0.2.2", "ip:192.0.2.3"}) {
		t.Fatalf("got %v", vals(inds))
	}
	if len(probs) != 2 || probs[0].Where != "line 2" || probs[1].Where != "line 4" {
		t.Errorf("problems: %v", probs)
	}
}

func TestNewRefusesUnknownFormatAndBadConfidence(t *testing.T) {
	if _, err := New("stix", Options{}); err == nil || !strings.Contains(err.Error(), "stix") {
		t.Errorf("New(stix): %v", err)
	}
	if _, err := New("ip", Options{Confidence: 101}); err == nil {
		t.Error("confidence 101 accepted")
	}
	var _ intel.Parser = Parser{}
}

func FuzzParse(f *testing.F) {
	f.Add("1.2.3.0/24 ; SBL1\n# Category : malware\n10.0.0.1-10.0.0.9\n")
	f.Add(`"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"` + "\n\"2026-05-01 10:00:00\",\"192.0.2.1\",\"443\",\"online\",\"2026-05-31\",\"Dridex\"\n")
	f.Add("ExitNode AB\nExitAddress 192.0.2.1 2026-06-01 08:03:04\n")
	f.Add("evil.example\nhttp://x.example/#a\n0.0.0.0 ads.example\n")
	f.Add(`{"cidr":"1.10.16.0/20","sblid":"SBL256894"}`)
	f.Fuzz(func(t *testing.T, text string) {
		for _, format := range Formats {
			p := Parser{Format: format}
			var probs []intel.Problem
			inds, err := p.Parse(strings.NewReader(text), "fuzz", func(pr intel.Problem) { probs = append(probs, pr) })
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			for _, pr := range probs {
				if !strings.HasPrefix(pr.Where, "line ") {
					t.Fatalf("%s: problem without a line: %v", format, pr)
				}
			}
			// What a parser yields is normalized: the Set takes it as is.
			for _, ind := range inds {
				if n, err := intel.Normalize(ind.Kind, ind.Value); err != nil || n != ind.Value {
					t.Fatalf("%s: %s %q not normal (%q, %v)", format, ind.Kind, ind.Value, n, err)
				}
			}
			var s intel.Set
			if err := s.Replace("fuzz", inds); err != nil {
				t.Fatalf("%s: Replace: %v", format, err)
			}
			if s.Len() != len(inds) {
				t.Fatal(fmt.Sprintf("%s: Set holds %d of %d", format, s.Len(), len(inds)))
			}
		}
	})
}
