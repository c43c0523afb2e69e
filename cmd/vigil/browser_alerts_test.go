package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageAlert is the part of an alert the alert tests read from the API.
type pageAlert struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Severity string `json:"severity"`
	Incident string `json:"incident"`
	Rule     struct {
		Title       string `json:"title"`
		Remediation string `json:"remediation"`
	} `json:"rule"`
	Entities []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"entities"`
	Evidence []struct {
		EventID string `json:"event_id"`
	} `json:"evidence"`
}

type pageAlertList struct {
	Alerts []pageAlert `json:"alerts"`
	Total  int         `json:"total"`
}

// alertAPI asks the API from the page, as the signed-in visitor (app.js's
// vigil.api), and decodes the answer into out.
func alertAPI(t *testing.T, b *browser, method, path string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	expr := fmt.Sprintf(`vigil.api(%q, %q).then((r) => JSON.stringify(r))`, method, path)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s %s from the page: %v", method, path, err)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// alertWith is the first open alert of the queue (as the API orders it)
// that ok accepts.
func alertWith(t *testing.T, b *browser, skip map[string]bool, ok func(pageAlert) bool) pageAlert {
	t.Helper()
	var l pageAlertList
	alertAPI(t, b, "GET", "/api/v1/alerts?status=new&limit=1000", &l)
	for _, a := range l.Alerts {
		if skip[a.ID] {
			continue
		}
		var full pageAlert
		alertAPI(t, b, "GET", "/api/v1/alerts/"+a.ID, &full)
		if ok(full) {
			return full
		}
	}
	t.Fatalf("no new alert of the demo's %d fits the test", l.Total)
	return pageAlert{}
}

// alertTotalText is "N alerts" as the queue writes N.
func alertTotalText(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if n == 1 {
		return s + " alert"
	}
	return s + " alerts"
}

// TestBrowserAlertsQueue: the queue lists the demo's alerts with their
// total, a severity filter narrows it, and a responder changes two
// alerts' status at once.
func TestBrowserAlertsQueue(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rob")
	b.do(t, "open the queue", chromedp.Navigate(d.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#alert-list table`)))

	var all pageAlertList
	alertAPI(t, b, "GET", "/api/v1/alerts?limit=1", &all)
	if all.Total == 0 {
		t.Fatal("the demo has no alerts")
	}
	if got := b.text(t, "#alert-total"); !strings.Contains(got, alertTotalText(all.Total)) {
		t.Errorf("queue says %q, want %q", got, alertTotalText(all.Total))
	}
	if n, want := b.count(t, "#alert-list tr[data-row]"), min(all.Total, 50); n != want {
		t.Errorf("%d rows, want %d", n, want)
	}
	b.screenshot(t, "alerts")

	var high pageAlertList
	alertAPI(t, b, "GET", "/api/v1/alerts?severity=high&limit=1", &high)
	if high.Total == 0 || high.Total >= all.Total {
		t.Fatalf("the demo has %d alerts of severity high or more out of %d: the filter test needs some and not all", high.Total, all.Total)
	}
	b.do(t, "filter by severity",
		chromedp.SetValue(chromedp.CSS(`form.filters select[name=severity]`), "high"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/alerts"].button`)), // "Clear" shows once a filter is set
	)
	if got := b.text(t, "#alert-total"); !strings.Contains(got, alertTotalText(high.Total)) {
		t.Errorf("filtered queue says %q, want %q", got, alertTotalText(high.Total))
	}
	sevs := eval[[]string](t, b, `[...document.querySelectorAll("#alert-list tr[data-row] .sev")].map((e) => e.textContent)`)
	if len(sevs) != min(high.Total, 50) {
		t.Errorf("%d rows after the filter, want %d", len(sevs), min(high.Total, 50))
	}
	for _, s := range sevs {
		if s != "high" && s != "critical" {
			t.Errorf("severity filter high shows a %s alert", s)
		}
	}

	// A filter the API refuses is said above the form, which stays.
	b.do(t, "a country of three letters", chromedp.Navigate(d.url+"/alerts?country=DEU"), chromedp.WaitVisible(chromedp.CSS(`.flash.error`)))
	if got := b.text(t, ".flash.error"); !strings.Contains(got, "country") {
		t.Errorf("a refused filter says %q, want it to name the country", got)
	}
	if n := b.count(t, `form.filters input[name=country]`); n != 1 {
		t.Error("the filter form is gone after a refused filter")
	}
	b.allowErrors("422")

	// The overview's links ask for open alerts as "new,active": the form
	// shows its "open" choice, and the total is the API's.
	b.do(t, "open alerts of severity high", chromedp.Navigate(d.url+"/alerts?severity=high&status=new%2Cactive"),
		chromedp.WaitVisible(chromedp.CSS(`#alert-total`)))
	if v := eval[string](t, b, `document.querySelector("form.filters select[name=status]").value`); v != "open" {
		t.Errorf("status new,active shows as %q in the form, want open", v)
	}
	var openHigh pageAlertList
	alertAPI(t, b, "GET", "/api/v1/alerts?severity=high&status=new,active&limit=1", &openHigh)
	if got := b.text(t, "#alert-total"); !strings.Contains(got, alertTotalText(openHigh.Total)) {
		t.Errorf("open high alerts: queue says %q, want %q", got, alertTotalText(openHigh.Total))
	}

	// Bulk: two new alerts of this page become active.
	b.do(t, "open the new alerts", chromedp.Navigate(d.url+"/alerts?status=new"), chromedp.WaitVisible(chromedp.CSS(`#alert-list table`)))
	ids := eval[[]string](t, b, `[...document.querySelectorAll('#alert-list input[name="alert"]')].slice(0, 2).map((e) => e.value)`)
	if len(ids) != 2 {
		t.Fatalf("%d new alerts on the page, want at least 2", len(ids))
	}
	b.do(t, "select two alerts and mark them active",
		chromedp.Click(chromedp.CSS(`input[name="alert"][value="`+ids[0]+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name="alert"][value="`+ids[1]+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-bulk-status="active"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`input[name="alert"][value="`+ids[0]+`"]`)), // the reload lists new alerts only
	)
	for _, id := range ids {
		var a pageAlert
		alertAPI(t, b, "GET", "/api/v1/alerts/"+id, &a)
		if a.Status != "active" {
			t.Errorf("alert %s is %s after the bulk change, want active", id, a.Status)
		}
	}
}

// TestBrowserAlertPage: the alert page shows the rule's remediation, the
// entities as links to their alerts and the evidence events; a responder
// changes the status, which holds across a reload, and makes an incident
// of an alert.
func TestBrowserAlertPage(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rob")
	a := alertWith(t, b, nil, func(a pageAlert) bool {
		return strings.TrimSpace(a.Rule.Remediation) != "" && len(a.Entities) > 0 && len(a.Evidence) > 0 && a.Evidence[0].EventID != ""
	})
	b.do(t, "open alert "+a.ID, chromedp.Navigate(d.url+"/alerts/"+a.ID), chromedp.WaitVisible(chromedp.CSS(`#status-form`)))
	if got := b.text(t, "h1"); !strings.Contains(got, a.Rule.Title) {
		t.Errorf("alert page's heading %q, want the rule's title %q", got, a.Rule.Title)
	}
	if n := b.count(t, "ol.remediation li"); n == 0 {
		t.Errorf("no remediation steps shown for %q", a.Rule.Remediation)
	}
	remediation := b.text(t, "ol.remediation")
	firstWords := strings.Fields(a.Rule.Remediation)
	if len(firstWords) > 3 {
		firstWords = firstWords[:3]
	}
	for _, w := range firstWords {
		if !strings.Contains(remediation, strings.Trim(w, "-*•0123456789.)")) {
			t.Errorf("remediation shown %q lacks %q of the rule's", remediation, w)
		}
	}
	for _, e := range a.Entities {
		links := eval[int](t, b, fmt.Sprintf(`[...document.querySelectorAll('ul.entity-list a')].filter((l) => new URL(l.href).searchParams.get("entity") === %q).length`, e.Value))
		if links != 1 {
			t.Errorf("entity %s: %d links to its alerts, want 1", e.Value, links)
		}
	}
	if n := b.count(t, "details.evidence[open] table.fields tr"); n == 0 {
		t.Error("the evidence shows no event fields")
	}
	if got := b.text(t, "details.evidence[open] p"); !strings.Contains(got, a.Evidence[0].EventID) {
		t.Errorf("first evidence heading %q, want event %s", got, a.Evidence[0].EventID)
	}
	b.screenshot(t, "alert")
	eval[bool](t, b, `(document.documentElement.dataset.theme = "dark", true)`)
	b.screenshot(t, "alert-dark")
	eval[bool](t, b, `(document.documentElement.dataset.theme = "light", true)`)

	b.do(t, "resolve it as a true positive",
		chromedp.SetValue(chromedp.CSS(`#status-select`), "resolved"),
		chromedp.SetValue(chromedp.CSS(`#reason-select`), "true_positive"),
		chromedp.Click(chromedp.CSS(`#status-form button[type=submit]`)),
		alertPoll(`document.readyState === "complete" && document.getElementById("alert-status") && document.getElementById("alert-status").textContent.includes("resolved")`),
	)
	b.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#alert-status`)))
	if got := b.text(t, "#alert-status"); !strings.Contains(got, "resolved") || !strings.Contains(got, "true_positive") {
		t.Errorf("after a reload the status says %q, want resolved · true_positive", got)
	}

	// Another alert: "create incident" (or, for an alert in one already,
	// "move to a new incident", after a confirmation) lands on the new
	// incident, which the alert then names.
	other := alertWith(t, b, map[string]bool{a.ID: true}, func(pageAlert) bool { return true })
	b.do(t, "open alert "+other.ID, chromedp.Navigate(d.url+"/alerts/"+other.ID), chromedp.WaitVisible(chromedp.CSS(`#create-incident`)))
	eval[bool](t, b, `(window.confirm = () => true, true)`)
	b.do(t, "create an incident from it",
		chromedp.Click(chromedp.CSS(`#create-incident`)),
		alertPoll(`location.pathname.startsWith("/incidents/")`),
	)
	loc := eval[string](t, b, "location.pathname")
	var after pageAlert
	alertAPI(t, b, "GET", "/api/v1/alerts/"+other.ID, &after)
	if after.Incident == "" || after.Incident == other.Incident || loc != "/incidents/"+after.Incident {
		t.Errorf("after create: at %s, alert's incident %q (before %q); want /incidents/<a new incident>", loc, after.Incident, other.Incident)
	}
	// The incident page is another part of the dashboard; until it is
	// there, its address answers 404.
	b.allowErrors("404")
}

// TestBrowserAlertsReader: a reader sees no status or incident controls,
// and a change forged from her page is refused.
func TestBrowserAlertsReader(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rita")
	b.do(t, "open the queue", chromedp.Navigate(d.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#alert-list table`)))
	for _, sel := range []string{`[data-bulk-status]`, `input[name="alert"]`, `[data-select-all]`} {
		if n := b.count(t, sel); n != 0 {
			t.Errorf("the reader's queue shows %d %s", n, sel)
		}
	}
	href := eval[string](t, b, `document.querySelector("#alert-list tr[data-row] a").getAttribute("href")`)
	id := regexp.MustCompile(`^/alerts/([^/?]+)$`).FindStringSubmatch(href)
	if id == nil {
		t.Fatalf("row link %q is not an alert page", href)
	}
	b.do(t, "open "+href, chromedp.Navigate(d.url+href), chromedp.WaitVisible(chromedp.CSS(`#alert-status`)))
	for _, sel := range []string{`#status-form`, `#create-incident`, `form[data-add-to-incident]`, `[data-api]`} {
		if n := b.count(t, sel); n != 0 {
			t.Errorf("the reader's alert page shows %d %s", n, sel)
		}
	}
	var before pageAlert
	alertAPI(t, b, "GET", "/api/v1/alerts/"+id[1], &before)
	to := "dismissed"
	if before.Status == to {
		to = "active"
	}
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		fmt.Sprintf(`vigil.api("PATCH", "/api/v1/alerts/%s", {status: %q}).then(() => 200, (e) => e.status)`, id[1], to),
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		fmt.Sprintf(`vigil.api("PATCH", "/api/v1/alerts", {ids: [%q], status: %q}).then(() => 200, (e) => e.status)`, id[1], to),
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 || bulk != 403 {
		t.Errorf("a reader's forged PATCH got %d, bulk PATCH %d; want 403", status, bulk)
	} else {
		b.expectError(t, "403")
	}
	var after pageAlert
	alertAPI(t, b, "GET", "/api/v1/alerts/"+id[1], &after)
	if after.Status != before.Status {
		t.Errorf("the refused change moved the alert from %s to %s", before.Status, after.Status)
	}
}

// alertPoll waits for a JavaScript condition, as a step of browser.do,
// across the page loads the condition waits for (a poll in a page that
// goes away fails, and is tried again in the next).
func alertPoll(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			_, err := chromedp.Poll[bool](cond)(ctx, t)
			if err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// expectError waits for the page's console to log an error containing
// substr (a refusal the test provokes; the console reports it a moment
// after the request), then forgets it.
func (b *browser) expectError(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		seen := false
		for _, e := range b.errors {
			seen = seen || strings.Contains(e, substr)
		}
		b.mu.Unlock()
		if seen {
			b.allowErrors(substr)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the console logged no error with %q", substr)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
