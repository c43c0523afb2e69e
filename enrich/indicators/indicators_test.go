package indicators

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/enrichtest"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
)

var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func matcher() *enrichtest.Matcher {
	return enrichtest.NewMatcher(
		intel.Indicator{Kind: intel.KindIP, Value: "45.9.148.7", ThreatType: intel.ThreatC2, Confidence: 90, Feed: "feodo"},
		intel.Indicator{Kind: intel.KindCIDR, Value: "185.220.101.0/24", ThreatType: intel.ThreatScanner, Confidence: 60, Feed: "drop"},
		intel.Indicator{Kind: intel.KindCIDR, Value: "10.0.0.0/8", ThreatType: intel.ThreatUnknown, Confidence: 50, Feed: "bogons"},
		intel.Indicator{Kind: intel.KindIP, Value: "192.0.2.99", ThreatType: intel.ThreatC2, Confidence: 80, Feed: "old", ValidUntil: now.Add(-time.Hour)},
		intel.Indicator{Kind: intel.KindDomain, Value: "evil.example", ThreatType: intel.ThreatPhishing, Confidence: 70, Feed: "phish"},
		intel.Indicator{Kind: intel.KindURL, Value: "http://x.test/a.exe", ThreatType: intel.ThreatMalware, Confidence: 75, Feed: "urlhaus"},
		intel.Indicator{Kind: intel.KindSHA256, Value: "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233", ThreatType: intel.ThreatMalware, Confidence: 95, Feed: "bazaar"},
		intel.Indicator{Kind: intel.KindMD5, Value: "0123456789abcdef0123456789abcdef", ThreatType: intel.ThreatMalware, Confidence: 40, Feed: "bazaar"},
		intel.Indicator{Kind: intel.KindEmail, Value: "boss@evil.example", ThreatType: intel.ThreatPhishing, Confidence: 60, Feed: "phish"},
		intel.Indicator{Kind: intel.KindUserAgent, Value: "EvilBot/1.0", ThreatType: intel.ThreatScanner, Confidence: 60, Feed: "ua"},
	)
}

// run enriches one event whose Dict holds the hash fields.
func run(t *testing.T, set func(ev *event.Event, d *event.Dict)) ([]enrich.Match, *event.Event) {
	t.Helper()
	d := event.NewDict(HashFields...)
	ev := &event.Event{}
	ev.Fields.Bind(d)
	set(ev, d)
	e := New(matcher())
	var out enrich.Result
	out.Reset(now)
	e.Enrich(ev, &out)
	return out.Matches, ev
}

func feeds(ms []enrich.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Field+"="+m.Indicator.Feed)
	}
	slices.Sort(out)
	return out
}

func TestAddresses(t *testing.T) {
	ms, ev := run(t, func(ev *event.Event, _ *event.Dict) {
		ev.Common[event.SourceIP] = "45.9.148.7"
		ev.Common[event.DestinationIP] = "::ffff:185.220.101.40"
		ev.Common[event.HostIP] = "10.1.1.1" // private: never matched, though a bogon list holds it
	})
	if got, want := feeds(ms), []string{"destination.ip=drop", "source.ip=feodo"}; !slices.Equal(got, want) {
		t.Fatalf("matches %v, want %v", got, want)
	}
	if ev.Common[event.ThreatIndicatorName] != "45.9.148.7" || ev.Common[event.ThreatFeedName] != "feodo" ||
		ev.Common[event.ThreatIndicatorConfidence] != "90" || ev.Common[event.ThreatIndicatorThreatType] != "c2" ||
		ev.Common[event.ThreatIndicatorType] != "ip" {
		t.Errorf("threat fields: %q %q %q %q", ev.Common[event.ThreatIndicatorName], ev.Common[event.ThreatFeedName], ev.Common[event.ThreatIndicatorConfidence], ev.Common[event.ThreatIndicatorType])
	}
	if ev.Common[event.ThreatEnrichments] == "" {
		t.Error("no threat.enrichments summary")
	}
}

func TestExpiredIndicatorDoesNotMatch(t *testing.T) {
	ms, ev := run(t, func(ev *event.Event, _ *event.Dict) { ev.Common[event.SourceIP] = "192.0.2.99" })
	if len(ms) != 0 || ev.Common[event.ThreatIndicatorName] != "" {
		t.Errorf("expired indicator matched: %v", feeds(ms))
	}
}

func TestDomainsURLsAgentsEmails(t *testing.T) {
	ms, _ := run(t, func(ev *event.Event, _ *event.Dict) {
		ev.Common[event.URLOriginal] = "https://user@Login.EVIL.example:8443/path?q=1"
		ev.Common[event.UserAgentOriginal] = "EvilBot/1.0"
		ev.Common[event.UserName] = "Boss@Evil.Example"
	})
	if got, want := feeds(ms), []string{"url.original=phish", "user.name=phish", "user_agent.original=ua"}; !slices.Equal(got, want) {
		t.Fatalf("matches %v, want %v", got, want)
	}
	ms, _ = run(t, func(ev *event.Event, _ *event.Dict) {
		ev.Common[event.URLOriginal] = "http://x.test/a.exe"
		ev.Common[event.URLDomain] = "a.b.evil.example."
	})
	if got, want := feeds(ms), []string{"url.domain=phish", "url.original=urlhaus"}; !slices.Equal(got, want) {
		t.Fatalf("matches %v, want %v", got, want)
	}
	ms, _ = run(t, func(ev *event.Event, _ *event.Dict) { ev.Common[event.URLOriginal] = "http://[2001:db8::1]:80/x" })
	if len(ms) != 0 {
		t.Errorf("documentation address in a URL matched: %v", feeds(ms))
	}
	ms, _ = run(t, func(ev *event.Event, _ *event.Dict) { ev.Common[event.URLOriginal] = "http://45.9.148.7/gate.php" })
	if got, want := feeds(ms), []string{"url.original=feodo"}; !slices.Equal(got, want) {
		t.Errorf("address host of a URL: %v, want %v", got, want)
	}
}

func TestSysmonHashes(t *testing.T) {
	ms, _ := run(t, func(ev *event.Event, d *event.Dict) {
		id, _ := d.ID("Hashes")
		ev.Fields.Set(id, "SHA1=0000000000000000000000000000000000000000,MD5=0123456789ABCDEF0123456789ABCDEF,SHA256=AA11BB22CC33DD44EE55FF6600112233445566778899AABBCCDDEEFF00112233,IMPHASH=FFFF")
	})
	if len(ms) != 2 || ms[0].Indicator.Kind != intel.KindMD5 || ms[1].Indicator.Kind != intel.KindSHA256 || ms[0].Value != "0123456789ABCDEF0123456789ABCDEF" {
		t.Fatalf("matches %+v", ms)
	}
	ms, _ = run(t, func(ev *event.Event, d *event.Dict) {
		id, _ := d.ID("file.hash.sha256")
		ev.Fields.Set(id, "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233")
	})
	if len(ms) != 1 || ms[0].Field != "file.hash.sha256" {
		t.Fatalf("ECS hash field: %+v", ms)
	}
	// A field written twice (a repeated key) is matched in each value, and
	// the algorithm names in any case.
	ms, _ = run(t, func(ev *event.Event, d *event.Dict) {
		id, _ := d.ID("Hashes")
		ev.Fields.Set(id, "sha1=0000000000000000000000000000000000000000")
		ev.Fields.Set(id, "Md5=0123456789abcdef0123456789abcdef")
	})
	if len(ms) != 1 || ms[0].Indicator.Kind != intel.KindMD5 || ms[0].Field != "Hashes" {
		t.Fatalf("second value of a repeated field: %+v", ms)
	}
	// Malformed lists are skipped, not fatal.
	ms, _ = run(t, func(ev *event.Event, d *event.Dict) {
		id, _ := d.ID("Hashes")
		ev.Fields.Set(id, "garbage,=,MD5=,SHA256")
	})
	if len(ms) != 0 {
		t.Errorf("malformed list matched %+v", ms)
	}
}

func TestNoMatcherAndSwap(t *testing.T) {
	e := New(nil)
	var ev event.Event
	ev.Common[event.SourceIP] = "45.9.148.7"
	var out enrich.Result
	out.Reset(now)
	e.Enrich(&ev, &out)
	if len(out.Matches) != 0 {
		t.Fatal("matched without a matcher")
	}
	e.Set(matcher())
	e.Enrich(&ev, &out)
	if len(out.Matches) != 1 {
		t.Fatalf("after Set: %d matches", len(out.Matches))
	}
}

func FuzzURLHost(f *testing.F) {
	for _, s := range []string{"http://a.b/c", "https://u:p@[::1]:80/", "x://", "://a", "http://a:b:c@d:1?x#y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		h := urlHost(u)
		if len(h) > len(u) {
			t.Fatalf("host %q longer than URL %q", h, u)
		}
	})
}
