package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserKeysAndTheme: the dashboard works from the keyboard — g then
// a letter goes to a page, ? shows the keys — and the theme toggle
// switches light and dark and keeps the choice across pages.
func TestBrowserKeysAndTheme(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rita")
	b.do(t, "g i", chromedp.KeyEvent("g"), chromedp.KeyEvent("i"), chromedp.WaitVisible(chromedp.CSS(`nav a[aria-current=page][href="/incidents"]`)))
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/incidents") {
		t.Errorf("g i went to %q (%v), want /incidents", loc, err)
	}
	b.do(t, "?", chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.CSS(`#keys-help`)))
	if help := b.text(t, "#keys-help"); !strings.Contains(help, "g a") || !strings.Contains(help, "alerts") {
		t.Errorf("the keys help says %q", help)
	}
	dark := func() string { return eval[string](t, b, "document.documentElement.dataset.theme || ''") }
	bg := func() string { return eval[string](t, b, "getComputedStyle(document.documentElement).backgroundColor") }
	light := bg()
	b.do(t, "toggle theme", chromedp.Click(chromedp.CSS(`[data-theme-toggle]`)))
	if dark() != "dark" {
		t.Fatalf("after the toggle the theme is %q, want dark (headless Chromium prefers light)", dark())
	}
	if bg() == light {
		t.Errorf("the dark theme has the light background %s", light)
	}
	b.do(t, "next page", chromedp.Navigate(d.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`header.top`)))
	if dark() != "dark" || bg() == light {
		t.Errorf("the theme did not stay dark on the next page: %q %s", dark(), bg())
	}
	b.screenshot(t, "dark")
}
