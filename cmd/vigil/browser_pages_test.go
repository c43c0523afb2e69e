package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPages: the databases, sources, rules, feeds and assets pages
// load with the demo's data and no console error; the databases page
// lists the demo's SQL Server database and opens its alerts.
func TestBrowserPages(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")

	for _, p := range []struct{ path, h1 string }{
		{"/databases", "Databases"}, {"/sources", "Sources"}, {"/rules", "Rules"},
		{"/intel", "Threat-intelligence feeds"}, {"/assets", "Assets"},
	} {
		b.do(t, "open "+p.path, chromedp.Navigate(d.url+p.path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		if got := b.text(t, "main h1"); got != p.h1 {
			t.Errorf("%s: heading %q, want %q", p.path, got, p.h1)
		}
		if n := b.count(t, `header.top nav a[aria-current=page]`); n != 1 {
			t.Errorf("%s: %d current navigation entries, want 1", p.path, n)
		}
		if n := b.count(t, ".flash.error"); n != 0 {
			t.Errorf("%s: shows an error: %s", p.path, b.text(t, ".flash.error"))
		}
	}

	// The demo replays a SQL Server audit log of server SQL-ORDERS-01,
	// database orders.
	b.do(t, "databases", chromedp.Navigate(d.url+"/databases"), chromedp.WaitVisible(chromedp.CSS(`table.databases`)))
	table := b.text(t, "table.databases")
	for _, want := range []string{"SQL-ORDERS-01", "orders", "Shell Execution from SQL"} {
		if !strings.Contains(table, want) {
			t.Errorf("databases table lacks %q:\n%s", want, table)
		}
	}
	if n := b.count(t, `table.databases a[href^="/alerts/"]`); n == 0 {
		t.Error("the databases table links to no alert")
	}
	if !strings.Contains(b.text(t, ".pager"), "of") {
		t.Error("the databases list says no total")
	}
	b.screenshot(t, "databases")
	b.do(t, "open the orders database",
		chromedp.Click(chromedp.CSS(`table.databases td.db-name a`)),
		chromedp.WaitVisible(chromedp.CSS(`main table tbody tr`)))
	b.screenshot(t, "database")
	if h := b.text(t, "main h1"); !strings.Contains(h, "orders") || !strings.Contains(h, "SQL-ORDERS-01") {
		t.Errorf("database page heading %q", h)
	}
	rows := b.count(t, `main table tbody tr`)
	stat := b.text(t, ".stat")
	if rows == 0 || stat != strconv.Itoa(rows) {
		t.Errorf("database page lists %d alerts and counts %s", rows, stat)
	}
	if n := b.count(t, `main table tbody a[href^="/alerts/"]`); n != rows {
		t.Errorf("%d of %d alert rows link to their alert", n, rows)
	}
	b.do(t, "filter to critical", chromedp.Navigate(d.url+"/databases/SQL-ORDERS-01/orders?severity=critical"),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if n := b.count(t, `main table tbody tr`); n >= rows {
		t.Errorf("severity at least critical keeps %d of %d alerts (the demo's are high and medium)", n, rows)
	}

	b.do(t, "sources", chromedp.Navigate(d.url+"/sources"), chromedp.WaitVisible(chromedp.CSS(`table.sources`)))
	src := b.text(t, "table.sources")
	for _, want := range []string{"orders-db", "mssql-audit", "bastion"} {
		if !strings.Contains(src, want) {
			t.Errorf("sources table lacks %q", want)
		}
	}
	b.screenshot(t, "sources")
	b.do(t, "a source", chromedp.Navigate(d.url+"/sources/orders-db"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	b.screenshot(t, "source")

	b.do(t, "rules", chromedp.Navigate(d.url+"/rules"), chromedp.WaitVisible(chromedp.CSS(`table.rules`)))
	if !strings.Contains(b.text(t, "table.rules"), "Potential SQL Injection") {
		t.Error("rules table lacks the demo's Potential SQL Injection")
	}
	b.screenshot(t, "rules")

	// The dark theme, on the source page with its cards and form.
	eval[bool](t, b, `localStorage.setItem("vigil-theme", "dark"), true`)
	b.do(t, "dark source page", chromedp.Navigate(d.url+"/sources/orders-db"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	b.screenshot(t, "source-dark")
	eval[bool](t, b, `localStorage.removeItem("vigil-theme"), true`)
}

// TestBrowserPagesQuarantine: an admin quarantines a source and releases
// it; the page says which it is after each.
func TestBrowserPagesQuarantine(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")
	b.do(t, "source page", chromedp.Navigate(d.url+"/sources/bastion"),
		chromedp.WaitVisible(chromedp.CSS(`.admin-controls button`)))
	eval[bool](t, b, "window.confirm = () => true, true")
	b.do(t, "quarantine",
		chromedp.Click(chromedp.CSS(`.admin-controls button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`.admin-controls button.primary`)))
	if !strings.Contains(b.text(t, ".page-head"), "quarantined") {
		t.Error("a quarantined source's page does not say so")
	}
	b.do(t, "sources list", chromedp.Navigate(d.url+"/sources"), chromedp.WaitVisible(chromedp.CSS(`table.sources`)))
	if !strings.Contains(b.text(t, "table.sources"), "quarantined") {
		t.Error("the sources list does not show the quarantine")
	}
	b.do(t, "release",
		chromedp.Navigate(d.url+"/sources/bastion"),
		chromedp.WaitVisible(chromedp.CSS(`.admin-controls button.primary`)),
		chromedp.Click(chromedp.CSS(`.admin-controls button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`.admin-controls button.danger`)))
	if strings.Contains(b.text(t, ".page-head"), "quarantined") {
		t.Error("a released source's page still says quarantined")
	}
}

// TestBrowserPagesReader: a reader sees the pages but none of their admin
// controls, and the API refuses the change anyway.
func TestBrowserPagesReader(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rita")
	for _, p := range []struct{ path, admin string }{
		{"/sources/orders-db", ".admin-controls, button[data-api]"},
		{"/intel", "#add-indicator, button[data-api]"},
		{"/assets", "#add-asset, details.asset-edit, button[data-api]"},
		{"/databases", "button[data-api], form[data-api]"},
		{"/rules", "button[data-api], form[data-api]"},
	} {
		b.do(t, "open "+p.path, chromedp.Navigate(d.url+p.path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		if n := b.count(t, p.admin); n != 0 {
			t.Errorf("%s shows a reader %d admin controls (%s)", p.path, n, p.admin)
		}
	}
	status, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`fetch("/api/v1/sources/orders-db", {method: "PATCH",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
		body: JSON.stringify({quarantined: true})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	b.allowErrors("403")
	if err != nil {
		t.Fatalf("reader's quarantine request: %v", err)
	}
	if status != 403 {
		t.Errorf("a reader's quarantine answered %v, want 403", status)
	}
}

// TestBrowserPagesRuleSwitch: an admin turns a rule off and on again from
// the rules page, which shows its state after each.
func TestBrowserPagesRuleSwitch(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")
	// The demo's Potential SQL Injection rule.
	page := d.url + "/rules?q=5b0e2f61-7c3a-4d8e-9a10-3f6c2d1e0a01"
	b.do(t, "rules page", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`button.rule-switch`)))
	if n := b.count(t, "table.rules tbody tr"); n != 1 {
		t.Fatalf("the id filter shows %d rules, want 1", n)
	}
	eval[bool](t, b, "window.confirm = () => true, true")
	b.do(t, "turn off", chromedp.Click(chromedp.CSS(`button.rule-switch`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.rule-off`)))
	if !strings.Contains(b.text(t, "table.rules tbody tr"), "off") || !strings.Contains(b.text(t, ".page-head"), "1 turned off") {
		t.Errorf("after turning off: %q / %q", b.text(t, "table.rules tbody tr"), b.text(t, ".page-head"))
	}
	b.do(t, "list of rules off", chromedp.Navigate(d.url+"/rules?show=off"), chromedp.WaitVisible(chromedp.CSS(`table.rules`)))
	if n := b.count(t, "table.rules tbody tr"); n != 1 {
		t.Errorf("show=off lists %d rules, want 1", n)
	}
	b.do(t, "turn on", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`tr.rule-off button.rule-switch`)),
		chromedp.Click(chromedp.CSS(`button.rule-switch`)),
		chromedp.WaitVisible(chromedp.CSS(`tr:not(.rule-off) button.rule-switch`)))
	if n := b.count(t, "tr.rule-off"); n != 0 {
		t.Error("a rule turned on again still shows off")
	}
}

// TestBrowserPagesSilence: an admin sets a source's silence alert and
// clears it again; the page shows the setting after each.
func TestBrowserPagesSilence(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")
	b.do(t, "set 2h, alert off", chromedp.Navigate(d.url+"/sources/vpc"),
		chromedp.WaitVisible(chromedp.CSS(`form.silence-form`)),
		chromedp.SendKeys(chromedp.CSS(`#silent-after`), "2h"),
		chromedp.Click(chromedp.CSS(`#silence-alert`)),
		chromedp.Click(chromedp.CSS(`form.silence-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.silence-state[data-silence="off-2h0m0s"]`)))
	if got := b.text(t, "form.silence-form"); eval[bool](t, b, `document.getElementById("silence-alert").checked`) {
		t.Errorf("alert still on after turning it off: %q", got)
	}
	if !strings.Contains(b.text(t, "main"), "Off for this source") {
		t.Error("the page does not say the silence alert is off")
	}
	b.do(t, "clear", chromedp.Clear(chromedp.CSS(`#silent-after`)),
		chromedp.Click(chromedp.CSS(`#silence-alert`)),
		chromedp.Click(chromedp.CSS(`form.silence-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.silence-state[data-silence="on"]`)))
	if !strings.Contains(b.text(t, "main"), "the server's threshold") || !eval[bool](t, b, `document.getElementById("silence-alert").checked`) {
		t.Error("after clearing, the page does not show the server's threshold with the alert on")
	}
}

// TestBrowserPagesAssets: an admin adds an asset, edits it and deletes it;
// an indicator added by hand is found by the lookup.
func TestBrowserPagesAssets(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")
	b.do(t, "add an asset", chromedp.Navigate(d.url+"/assets"),
		chromedp.WaitVisible(chromedp.CSS(`#add-asset`)),
		chromedp.SendKeys(chromedp.CSS(`#new-name`), "pages-test-web-01"),
		chromedp.SetValue(chromedp.CSS(`#new-crit`), "high"),
		chromedp.SendKeys(chromedp.CSS(`#new-owner`), "web team"),
		chromedp.SendKeys(chromedp.CSS(`#new-match`), "10.1.2.3, web-01.shop.example"),
		chromedp.SendKeys(chromedp.CSS(`#new-tags`), "pci, frontend"),
		chromedp.Click(chromedp.CSS(`#add-asset button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.assets`)))
	row := b.text(t, "table.assets tbody")
	for _, want := range []string{"pages-test-web-01", "host", "high", "web team", "10.1.2.3", "pci"} {
		if !strings.Contains(row, want) {
			t.Errorf("added asset's row lacks %q: %q", want, row)
		}
	}
	b.screenshot(t, "assets")
	b.do(t, "edit it",
		chromedp.Click(chromedp.CSS(`details.asset-edit summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.asset-edit[open] form`)),
		chromedp.Clear(chromedp.CSS(`#a0-owner`)),
		chromedp.SendKeys(chromedp.CSS(`#a0-owner`), "platform team"),
		chromedp.Click(chromedp.CSS(`details.asset-edit form button[type=submit]`)),
		// The page reloads with the edit form closed.
		chromedp.WaitVisible(chromedp.CSS(`details.asset-edit:not([open]) summary`)))
	if row := b.text(t, "table.assets tbody"); !strings.Contains(row, "platform team") || strings.Contains(row, "web team") {
		t.Errorf("after the edit the row is %q", row)
	}
	b.do(t, "delete it",
		chromedp.Click(chromedp.CSS(`details.asset-edit summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.asset-edit[open] .delete-asset button`)))
	eval[bool](t, b, "window.confirm = () => true, true")
	// The only asset gone, the page reloads without a table.
	b.do(t, "confirm the deletion", chromedp.Click(chromedp.CSS(`.delete-asset button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`table.assets`)))

	b.do(t, "add an indicator", chromedp.Navigate(d.url+"/intel"),
		chromedp.WaitVisible(chromedp.CSS(`#add-indicator`)),
		chromedp.SendKeys(chromedp.CSS(`#add-indicator input[name=value]`), "198.51.100.77"),
		chromedp.SendKeys(chromedp.CSS(`#add-indicator input[name=threat_type]`), "scanner"),
		chromedp.Click(chromedp.CSS(`#add-indicator button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.lookup`)))
	if got := b.text(t, "table.lookup"); !strings.Contains(got, "198.51.100.77") || !strings.Contains(got, "scanner") || !strings.Contains(got, "manual") {
		t.Errorf("lookup after adding: %q", got)
	}
	if !strings.Contains(b.text(t, "table.feeds"), "manual") {
		t.Error("the feeds list lacks the manual feed")
	}
	b.screenshot(t, "intel")
}

// TestBrowserPagesRuleTest: an admin runs a rule over two sample records
// from the rules page and sees which one it matched.
func TestBrowserPagesRuleTest(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")
	b.do(t, "open the test form", chromedp.Navigate(d.url+"/rules?q=Log+Cleared"),
		chromedp.WaitVisible(chromedp.CSS(`table.rules a[href*="test="]`)),
		chromedp.Click(chromedp.CSS(`table.rules a[href*="test="]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rule-test-form`)))
	if h := b.text(t, "#rule-test h2"); !strings.Contains(h, "Windows Security Event Log Cleared") {
		t.Fatalf("test form for %q", h)
	}
	b.do(t, "run it",
		chromedp.SendKeys(chromedp.CSS(`#rule-test-format`), "windows"),
		chromedp.SendKeys(chromedp.CSS(`#rule-test-records`),
			`{"EventID":4624,"Channel":"Security","Computer":"dc1","TimeCreated":"2026-01-01T00:00:01Z"}`+"\n"+
				`{"EventID":1102,"Channel":"Security","Computer":"dc1","TimeCreated":"2026-01-01T00:00:02Z"}`),
		chromedp.Click(chromedp.CSS(`#rule-test-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rule-test-result p`)))
	if got := b.text(t, "#rule-test-result"); !strings.Contains(got, "Matched 1 of 2 records: line 2") || !strings.Contains(got, "dc1") {
		t.Errorf("test result %q", got)
	}
	b.screenshot(t, "rule-test")
}
