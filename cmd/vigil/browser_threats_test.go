package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserThreats: the threat-intelligence pane opens on data (the
// demo's alerts are in the past, so the default range moves to them —
// unless another test raised a live alert in the last 24 hours), and over
// the 30 days around the demo's attacks its chart, tables and GeoIP credit are there, the map
// shades the demo's attacker countries and no other, and a country reached
// by keyboard leads to its alerts in the range.
func TestBrowserThreats(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rita") // a reader: the pane only reads
	b.do(t, "open the pane",
		chromedp.Navigate(d.url+"/threats"),
		chromedp.WaitVisible(chromedp.CSS(`figure.worldmap svg.map`)),
	)
	if title := eval[string](t, b, "document.title"); !strings.Contains(title, "Threat intelligence") {
		t.Errorf("title %q", title)
	}
	if n := b.count(t, `svg.chart rect`); n == 0 {
		t.Error("the threat types chart has no bars: the default range shows no data")
	}
	// The demo's newest attack from abroad, as the API knows it.
	last, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`fetch("/api/v1/alerts?country=DE&sort=last_seen&limit=1").then(r => r.json()).then(j => j.alerts[0].last_seen)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("the demo's newest alert from DE: %v", err)
	}
	to, err := time.Parse(time.RFC3339Nano, last)
	if err != nil {
		t.Fatalf("last_seen %q: %v", last, err)
	}
	to = to.Add(24 * time.Hour) // the sample's attacks span a day; live alerts raised by other tests are days later
	q := url.Values{"from": {to.Add(-30 * 24 * time.Hour).Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	b.do(t, "the demo's month", chromedp.Navigate(d.url+"/threats?"+q.Encode()), chromedp.WaitVisible(chromedp.CSS(`figure.worldmap svg.map`)))
	if n := b.count(t, `#h-types ~ .table-wrap tbody tr`); n == 0 {
		t.Error("no threat types in the totals table")
	}
	if n := b.count(t, `#cpage tbody tr`); n < 3 {
		t.Errorf("%d origin countries listed, want the demo's (at least 3)", n)
	}
	if geo := b.text(t, `#h-geoip + *`); strings.TrimSpace(geo) == "" {
		t.Error("the GeoIP section is empty")
	}

	// The map's shaded countries are links to their alerts; their
	// country codes are the demo's attackers' (content/demo/README.md).
	links := eval[[]string](t, b, `[...document.querySelectorAll("svg.map .countries a")].map(a => a.getAttribute("href"))`)
	demo := map[string]bool{"DE": true, "JP": true, "FR": true, "BR": true, "NL": true, "CA": true, "FI": true}
	shaded := map[string]bool{}
	for _, l := range links {
		u, err := url.Parse(l)
		if err != nil || u.Path != "/alerts" {
			t.Errorf("map link %q, want /alerts?country=…", l)
			continue
		}
		c := u.Query().Get("country")
		if !demo[c] || u.Query().Get("since") == "" || u.Query().Get("until") == "" {
			t.Errorf("map link %q: want a demo country with the range's since and until", l)
		}
		shaded[c] = true
	}
	if len(shaded) < 3 {
		t.Errorf("the map shades %d countries (%v), want at least 3 of the demo's", len(shaded), links)
	}
	if n := b.count(t, `svg.map .countries a path[class*="shade-"]`); n != len(links) {
		t.Errorf("%d shaded shapes for %d links", n, len(links))
	}
	tip := eval[string](t, b, `document.querySelector("svg.map .countries a title").textContent`)
	if !strings.Contains(tip, "alert") || !strings.Contains(tip, "worst") {
		t.Errorf("a country's tooltip says %q, want its alerts and worst severity", tip)
	}
	b.screenshot(t, "threats")
	eval[string](t, b, `document.documentElement.dataset.theme = "dark"`)
	b.screenshot(t, "threats-dark")

	// Keyboard: the most alerted country (drawn last) takes the focus and
	// Enter follows it.
	want := links[len(links)-1]
	b.do(t, "focus a country", chromedp.Focus(chromedp.CSS(`svg.map .countries a:last-of-type`)))
	if w := eval[string](t, b, `getComputedStyle(document.activeElement.querySelector("path")).strokeWidth`); w != "2px" {
		t.Errorf("the focused country's outline is %s wide, want 2px: focus must show", w)
	}
	b.do(t, "follow a country by keyboard",
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`header.top nav a[href="/alerts"][aria-current=page]`)),
	)
	loc := eval[string](t, b, "location.pathname + location.search")
	if loc != want {
		t.Errorf("Enter on the country led to %s, want %s", loc, want)
	}
}
