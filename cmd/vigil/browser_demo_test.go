package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// demoLinkLine and demoPasswordLine are what `vigil demo` prints after its
// alerts: the dashboard's one-time sign-in link, and the user and
// password to sign in with once it is spent.
var (
	demoLinkLine     = regexp.MustCompile(`Dashboard \(signed in as demo\): (http://\S+/welcome\?ticket=\S+)`)
	demoPasswordLine = regexp.MustCompile(`or sign in at (http://\S+)/signin as demo with password (\S+)`)
)

// TestBrowserDemoLink: the link the demo prints opens the overview of
// workspace demo, signed in as demo (an admin); it works once — opened
// again it shows the sign-in page saying so — and the printed password
// signs in instead.
func TestBrowserDemoLink(t *testing.T) {
	d := sharedDashboard(t)
	out := d.out.String()
	link := demoLinkLine.FindStringSubmatch(out)
	pw := demoPasswordLine.FindStringSubmatch(out)
	if link == nil || pw == nil {
		t.Fatalf("the demo printed no sign-in link or password:\n%s", out)
	}
	if !strings.HasPrefix(link[1], d.url+"/") || pw[1] != d.url {
		t.Errorf("the demo's link %s or sign-in page %s is not on %s", link[1], pw[1], d.url)
	}
	// The lines come right after the alerts, before the key.
	if i, j := strings.Index(out, "Dashboard (signed in"), strings.Index(out, "Admin key of workspace"); i < 0 || j < i {
		t.Errorf("the dashboard link is not printed before the admin key:\n%s", out)
	}

	b := newBrowser(t)
	b.do(t, "open the demo's link",
		chromedp.Navigate(link[1]),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
	who := b.text(t, "header.top .who")
	if !strings.Contains(who, "demo") || !strings.Contains(who, "admin") {
		t.Errorf("header says %q, want workspace demo, user demo, admin", who)
	}
	if cur := b.text(t, `header.top nav a[aria-current="page"]`); cur != "Overview" {
		t.Errorf("the link opens %q, want the overview", cur)
	}
	if p := eval[string](t, b, "location.pathname + location.search"); p != "/" {
		t.Errorf("after the link the address is %q, want / (the ticket gone from it)", p)
	}
	b.screenshot(t, "demo-link-overview")

	// Another visitor with the same link: it is spent.
	b2 := newBrowser(t)
	b2.do(t, "open the link again",
		chromedp.Navigate(link[1]),
		chromedp.WaitVisible(chromedp.CSS(`.flash.error`)),
	)
	b2.allowErrors("401")
	msg := b2.text(t, ".flash.error")
	if !strings.Contains(msg, "sign-in link") || !strings.Contains(msg, "used already") {
		t.Errorf("a spent link says %q", msg)
	}
	if n := b2.count(t, "header.top"); n != 0 {
		t.Fatal("a spent link signed the visitor in")
	}
	if n := b2.count(t, `form[action="/signin"] input[name=user]`); n != 1 {
		t.Errorf("a spent link shows %d sign-in forms", n)
	}
	b2.screenshot(t, "demo-link-used")

	// The printed password signs in instead.
	b2.do(t, "sign in as demo with the printed password",
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw[2]),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
	if who := b2.text(t, "header.top .who"); !strings.Contains(who, "demo") || !strings.Contains(who, "admin") {
		t.Errorf("signed in with the printed password, the header says %q", who)
	}
}
