package geoip

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// testdata is the shared folder of small MaxMind-layout test databases.
func testdata(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", "geoip", "testdata_mmdb", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("test database absent (%v): skipping", err)
	}
	return p
}

func open(t testing.TB, name string) *Database {
	t.Helper()
	db, err := Open(testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestEmbeddedDatabase(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]string{
		"8.8.8.8": "US", "92.55.146.245": "RO", "2001:4860:4860::8888": "US", "::ffff:8.8.8.8": "US",
	} {
		rec, ok, err := db.Lookup(netip.MustParseAddr(ip))
		if err != nil || !ok || rec.Country != want {
			t.Errorf("%s: got %+v found=%v err=%v, want country %s", ip, rec, ok, err, want)
		}
	}
	i := db.Info()
	t.Logf("embedded database: %+v", i)
	if got := i.Built.Format(time.DateOnly); got != "2026-06-17" {
		t.Errorf("build date %s, want 2026-06-17 (the pinned package's)", got)
	}
	if i.Attribution == "" || i.Path != Embedded {
		t.Errorf("info %+v: want the embedded name and an attribution", i)
	}
}

func TestMaxMindLayouts(t *testing.T) {
	city := open(t, "GeoIP2-City-Test.mmdb")
	rec, ok, err := city.Lookup(netip.MustParseAddr("80.100.47.45"))
	if err != nil || !ok {
		t.Fatalf("city lookup: found=%v err=%v", ok, err)
	}
	if rec.Country != "NL" || rec.CountryName != "Netherlands" || rec.City != "Amstelveen" || !rec.HasLocation || rec.Lat != 52.5 || rec.Lon != 5.75 {
		t.Errorf("city record %+v", rec)
	}
	asn := open(t, "GeoLite2-ASN-Test.mmdb")
	rec, ok, err = asn.Lookup(netip.MustParseAddr("2001:980:91c0::1"))
	if err != nil || !ok || rec.ASN != 6666 || rec.ASOrg != "Basjes Global Network IPv6" || rec.Country != "" {
		t.Errorf("asn record %+v found=%v err=%v", rec, ok, err)
	}
	if _, ok, _ := asn.Lookup(netip.MustParseAddr("1.2.3.4")); ok {
		t.Error("1.2.3.4 found in the ASN test database, which holds two networks")
	}
}

func TestEnrichMergesDatabasesAndFillsFields(t *testing.T) {
	e := New(open(t, "GeoIP2-Country-Test.mmdb"), open(t, "GeoLite2-ASN-Test.mmdb"))
	var ev event.Event
	ev.Common[event.SourceIP] = "80.100.47.45"
	ev.Common[event.DestinationIP] = "10.0.0.5"
	var out enrich.Result
	out.Reset(time.Now())
	e.Enrich(&ev, &out)
	if out.Source.Country != "NL" || out.Source.ASN != 4444 || out.Source.Scope != enrich.ScopePublic {
		t.Errorf("source geo %+v", out.Source)
	}
	if ev.Common[event.SourceGeoCountryISOCode] != "NL" || ev.Common[event.SourceASNumber] != "4444" ||
		ev.Common[event.SourceASOrganizationName] != "Basjes Global Network" {
		t.Errorf("source fields: %q %q %q", ev.Common[event.SourceGeoCountryISOCode], ev.Common[event.SourceASNumber], ev.Common[event.SourceASOrganizationName])
	}
	if out.Destination.Scope != enrich.ScopePrivate || out.Destination.Country != "" || ev.Common[event.DestinationGeoCountryISOCode] != "" {
		t.Errorf("private destination looked up: %+v", out.Destination)
	}
	// A second event from the same address comes from the worker's cache
	// and gives the same answer.
	ev.Common[event.SourceGeoCountryISOCode], ev.Common[event.SourceASNumber] = "", ""
	out.Reset(time.Now())
	e.Enrich(&ev, &out)
	if ev.Common[event.SourceGeoCountryISOCode] != "NL" || ev.Common[event.SourceASNumber] != "4444" {
		t.Errorf("cached lookup lost fields: %+v", out.Source)
	}
	// A value the source set is kept.
	ev.Common[event.SourceGeoCountryISOCode] = "BE"
	e.Enrich(&ev, &out)
	if ev.Common[event.SourceGeoCountryISOCode] != "BE" {
		t.Error("the source's own country was overwritten")
	}
}

func TestNotAnAddress(t *testing.T) {
	e := New(open(t, "GeoIP2-Country-Test.mmdb"))
	var ev event.Event
	ev.Common[event.SourceIP] = "-"
	var out enrich.Result
	e.Enrich(&ev, &out)
	if out.Source.IP.IsValid() || ev.Common[event.SourceGeoCountryISOCode] != "" {
		t.Errorf("%+v", out.Source)
	}
}

func TestReloadOnChange(t *testing.T) {
	country := testdata(t, "GeoIP2-Country-Test.mmdb")
	city := testdata(t, "GeoIP2-City-Test.mmdb")
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	cp := func(src string, mtime time.Time) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	cp(country, time.Now().Add(-time.Hour))
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e := New(db)
	lookupCity := func() string {
		var ev event.Event
		ev.Common[event.SourceIP] = "80.100.47.45"
		var out enrich.Result
		e.Enrich(&ev, &out)
		return out.Source.City
	}
	if c := lookupCity(); c != "" {
		t.Fatalf("country database gave city %q", c)
	}
	if n, err := e.Reload(); n != 0 || err != nil {
		t.Fatalf("unchanged file reloaded: %d %v", n, err)
	}
	cp(city, time.Now())
	if n, err := e.Reload(); n != 1 || err != nil {
		t.Fatalf("changed file: reloaded %d, err %v", n, err)
	}
	if c := lookupCity(); c != "Amstelveen" {
		t.Errorf("after reload city %q, want Amstelveen", c)
	}
	// A broken file keeps the database in use, and says which file.
	if err := os.WriteFile(path, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Reload(); n != 0 || err == nil {
		t.Errorf("broken file: reloaded %d, err %v", n, err)
	}
	if c := lookupCity(); c != "Amstelveen" {
		t.Errorf("after a failed reload city %q", c)
	}
}

func BenchmarkEnrichEmbedded(b *testing.B) {
	db, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	e := New(db)
	addrs := []string{"8.8.8.8", "92.55.146.245", "185.222.209.151", "1.1.1.1", "10.0.0.1", "2001:4860:4860::8888"}
	var ev event.Event
	var out enrich.Result
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Common[event.SourceIP] = addrs[i%len(addrs)]
		ev.Common[event.SourceGeoCountryISOCode] = ""
		out.Reset(time.Time{})
		e.Enrich(&ev, &out)
	}
}
