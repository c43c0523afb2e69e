package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSignIn: a user signs in through the form and lands on the
// overview of their workspace; a wrong password says so and signs nobody
// in.
func TestBrowserSignIn(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.do(t, "wrong password",
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "not-it"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.error`)),
	)
	msg := b.text(t, ".flash.error")
	b.allowErrors("401")
	if !strings.Contains(msg, "wrong user name or password") {
		t.Errorf("wrong password says %q", msg)
	}
	if n := b.count(t, "header.top"); n != 0 {
		t.Fatal("a wrong password shows the signed-in header")
	}
	b.signIn(t, d, "alice")
	who := b.text(t, "header.top .who")
	if !strings.Contains(who, "demo") || !strings.Contains(who, "alice") || !strings.Contains(who, "admin") {
		t.Errorf("header says %q, want workspace demo, alice, admin", who)
	}
}
