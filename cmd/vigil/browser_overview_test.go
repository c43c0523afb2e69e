package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserOverview: the overview a newcomer lands on shows the demo's
// alerts in the chart, its threat types, its open incidents by stage and
// its sources; the range picker changes the range; and with the page open,
// an alert raised through the ingest API arrives without reload.
func TestBrowserOverview(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rita") // a reader sees everything the overview shows
	b.do(t, "open the overview", chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#ov-chart svg.chart`)))

	if n := b.count(t, `#ov-chart svg.chart rect`); n == 0 {
		t.Errorf("the chart has no bars: the default range shows no alerts\n%s", b.text(t, "#ov-chart"))
	}
	if s := b.text(t, "#ov-chart .legend"); !strings.Contains(s, "critical") || !strings.Contains(s, "informational") {
		t.Errorf("chart legend %q: want the severities critical to informational", s)
	}
	if n := b.count(t, `#ov-types tbody tr`); n == 0 {
		t.Errorf("no threat types: %s", b.text(t, "#ov-types"))
	}
	if s := b.text(t, "#ov-types"); !strings.Contains(s, "brute force") {
		t.Errorf("threat types %q: the demo's sshd and Windows sample are brute force", s)
	}
	// The demo's incidents are all open, in detect: the stage counts say so.
	stages := eval[[]string](t, b, `[...document.querySelectorAll("#ov-figures .ov-counts")[1].querySelectorAll("li")].map(li => li.innerText.replace(/\s+/g, " ").trim())`)
	if len(stages) != 4 || !strings.HasSuffix(stages[0], "Detect") {
		t.Fatalf("incidents by stage %q: want Detect, Assess, Diagnose, Stabilize", stages)
	}
	if n, _ := strconv.Atoi(strings.Fields(stages[0])[0]); n == 0 {
		t.Errorf("incidents by stage %q: the demo's incidents are in detect", stages)
	}
	if n := b.count(t, `#ov-incidents li a[href^="/incidents/"]`); n == 0 || n > 5 {
		t.Errorf("%d urgent incidents listed, want 1 to 5", n)
	}
	if n := b.count(t, `#ov-alerts li a[href^="/alerts/"]`); n != 5 {
		t.Errorf("%d urgent alerts listed, want 5 (the demo has more open)", n)
	}
	if n := b.count(t, `#ov-sources tbody tr`); n == 0 {
		t.Errorf("no sources: %s", b.text(t, "#ov-sources"))
	}
	if n := b.count(t, `.ov-counts a[href*="severity=critical"][href*="status=new%2Cactive"]`); n != 1 {
		t.Errorf("no link to the open critical alerts")
	}
	b.screenshot(t, "overview")

	// The picker: "all" keeps the demo's alerts in view; its link is marked.
	b.do(t, "pick all", chromedp.Click(chromedp.CSS(`.range-picker a[href="/?range=all"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.range-picker a[aria-current][href="/?range=all"]`)))
	if n := b.count(t, `#ov-chart svg.chart rect`); n == 0 {
		t.Errorf("range all: no bars")
	}
	b.do(t, "dark theme", chromedp.Click(chromedp.CSS(`[data-theme-toggle]`)))
	b.screenshot(t, "overview-dark")
	b.do(t, "back to the default", chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#ov-chart svg.chart`)))

	// Live: the stream is open (the dot shows), then records that raise a
	// new alert go in through the ingest API; the page redraws its parts
	// without reload.
	b.do(t, "the live dot", chromedp.WaitVisible(chromedp.CSS(`.live-dot`)))
	openBefore := eval[string](t, b, `document.querySelector("#ov-open-alerts .muted").textContent`)
	eval[bool](t, b, `window.__sameDocument = true`)
	src := ingestSSHBurst(t, d)
	waitJS(t, b, "the new alert arrives", `document.querySelector("#ov-open-alerts .muted").textContent !== `+strconv.Quote(openBefore))
	if !eval[bool](t, b, `window.__sameDocument === true`) {
		t.Error("the page reloaded: live updates must redraw parts, not reload")
	}
	// The new source is listed once its first redraw came (the sources
	// are drawn again with the rest).
	waitJS(t, b, "the new source is listed", `document.querySelector("#ov-sources").textContent.includes(`+strconv.Quote(src)+`)`)
	b.do(t, "the toast", chromedp.WaitVisible(chromedp.CSS(`.live-toast`)))
	if s := b.text(t, ".live-toast"); !strings.Contains(s, "new alert") {
		t.Errorf("toast %q", s)
	}
	b.screenshot(t, "overview-live")
}

// waitJS waits until expr is true in the page.
func waitJS(t *testing.T, b *browser, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ingestSSHBurst sends, with the demo's admin key, twelve failed root
// logins from a fresh address to a fresh sshd source, stamped now: SSH
// brute force and root password guessing (content/rules/ssh_bruteforce.yml).
// It returns the source's name.
func ingestSSHBurst(t *testing.T, d *dashboardDemo) string {
	t.Helper()
	key := ""
	for _, line := range strings.Split(d.out.String(), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "vgl_") && !strings.Contains(l, " ") {
			key = l
		}
	}
	if key == "" {
		t.Fatalf("no admin key in the demo's output:\n%s", d.out.String())
	}
	now := time.Now().UTC()
	ip := fmt.Sprintf("203.0.113.%d", 1+now.Nanosecond()%250)
	var body strings.Builder
	for i := range 12 {
		at := now.Add(time.Duration(i-12) * time.Second)
		fmt.Fprintf(&body, "%s live-host sshd[%d]: Failed password for root from %s port %d ssh2\n",
			at.Format(time.Stamp), 31000+i, ip, 50000+i)
	}
	src := fmt.Sprintf("live-%d", now.UnixNano())
	req, err := http.NewRequest(http.MethodPost, d.url+"/api/v1/ingest?source="+src+"&format=sshd", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("ingest: %d %s", resp.StatusCode, b)
	}
	return src
}
