package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSettings: alice (admin) adds a user as reader, makes it a
// responder and removes it; creates an API key, whose secret is shown
// once, and revokes it. rita (reader) sees no admin section, and her
// forged request to add a user is refused.
func TestBrowserSettings(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "alice")
	// Confirmations say yes.
	b.do(t, "open settings",
		chromedp.Navigate(d.url+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#users`)),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
	)
	for _, sel := range []string{"#workspace", "#session", "#users", "#keys", "#suppressions", "#audit"} {
		if b.count(t, sel) != 1 {
			t.Errorf("alice's settings page has no %s", sel)
		}
	}

	// A user: added as reader, made responder, removed.
	name := "carol-" + time.Now().Format("150405")
	row := `tr[data-user="` + name + `"]`
	q := func(sel string) string { return "document.querySelector(" + jsString(sel) + ")" }
	b.do(t, "fill in the new user",
		chromedp.SendKeys(chromedp.CSS(`#user-add input[name=name]`), name),
		chromedp.SendKeys(chromedp.CSS(`#user-add input[name=password]`), "a long password for carol"),
		chromedp.SetValue(chromedp.CSS(`#user-add select[name=role]`), "reader"),
	)
	clickAndReload(t, b, "add user", `#user-add button[type=submit]`, q(row))
	if got := eval[string](t, b, `document.querySelector('`+row+` select[name=role]').value`); got != "reader" {
		t.Errorf("new user's role shows %q, want reader", got)
	}
	b.do(t, "choose responder", chromedp.SetValue(chromedp.CSS(row+` select[name=role]`), "responder"))
	clickAndReload(t, b, "make responder", row+` form button[type=submit]`, q(row))
	if got := eval[string](t, b, `document.querySelector('`+row+` select[name=role]').value`); got != "responder" {
		t.Errorf("after the change the role shows %q, want responder", got)
	}
	clickAndReload(t, b, "remove user", row+` button.danger`, q("#users")+` && !`+q(row))
	audit := b.text(t, "#audit")
	for _, a := range []string{"user.created", "user.role", "user.removed"} {
		if !strings.Contains(audit, a) {
			t.Errorf("audit log on the page lacks %s", a)
		}
	}

	// A key: created, its secret shown once, revoked.
	keyName := "browser key " + time.Now().Format("150405")
	b.do(t, "create key",
		chromedp.SendKeys(chromedp.CSS(`#key-create input[name=name]`), keyName),
		chromedp.SetValue(chromedp.CSS(`#key-create select[name=scope]`), "read"),
		chromedp.Click(chromedp.CSS(`#key-create button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#secret-box`)),
	)
	secret := b.text(t, "#secret-value")
	if !strings.HasPrefix(secret, "vgl_") || len(secret) < 40 {
		t.Errorf("secret shown: %q", secret)
	}
	b.do(t, "back to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.screenshot(t, "settings")
	clickAndReload(t, b, "done with the secret", `[data-secret-done]`, q("#keys"))
	if strings.Contains(eval[string](t, b, `document.body.innerText`), secret) {
		t.Error("the secret is still on the page after reload")
	}
	keyRow := eval[string](t, b, `(() => { for (const tr of document.querySelectorAll('#keys tr[data-key]')) if (tr.innerText.includes(`+jsString(keyName)+`)) return tr.dataset.key; return ""; })()`)
	if keyRow == "" {
		t.Fatalf("key %q not listed", keyName)
	}
	krow := `tr[data-key="` + keyRow + `"]`
	clickAndReload(t, b, "revoke key", krow+` button.danger`, q("#keys")+` && !`+q(krow+` button.danger`))
	if got := b.text(t, krow); !strings.Contains(got, "revoked") {
		t.Errorf("revoked key's row says %q", got)
	}

	// rita: her session and suppressions, nothing of an admin's; a forged
	// request is refused.
	r := newBrowser(t)
	r.signIn(t, d, "rita")
	r.do(t, "rita opens settings",
		chromedp.Navigate(d.url+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#session`)),
	)
	for _, sel := range []string{"#users", "#keys", "#audit", "#user-add", "#key-create", "[data-api^='PATCH /api/v1/workspace']", ".sup-form"} {
		if n := r.count(t, sel); n != 0 {
			t.Errorf("rita's settings page has %s", sel)
		}
	}
	if r.count(t, `[data-api="DELETE /api/v1/sessions"]`) != 1 {
		t.Error("rita is not offered to sign out everywhere")
	}
	ctx, cancel := context.WithTimeout(r.ctx, browserStep)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(async () => (await fetch("/api/v1/users", {method: "POST", credentials: "same-origin",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
		body: JSON.stringify({name: "mallory", password: "a long password for mallory", role: "admin"})})).status)()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("rita's forged request: %v", err)
	}
	if status != 403 {
		t.Errorf("rita's forged POST /api/v1/users: %v, want 403", status)
	}
	// How a reader sees it, in the dark theme.
	r.do(t, "dark theme",
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem("vigil-theme", "dark")`),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`#session`)),
	)
	r.screenshot(t, "settings-reader-dark")
	// The console's report of the refusal arrives after the answer: by
	// now it has.
	r.allowErrors("403")
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// clickAndReload clicks sel, which makes the page reload, and waits until
// the new page is loaded and cond (a JavaScript expression) holds there.
// A poll in the page dies with the page it ran in, so this asks again
// from here.
func clickAndReload(t *testing.T, b *browser, what, sel, cond string) {
	t.Helper()
	b.do(t, what,
		chromedp.Evaluate[chromedp.Void](`window.__before = true; window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(sel)),
	)
	deadline := time.Now().Add(browserStep)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.__before && document.readyState === "complete" && !!(`+cond+`)`))
		cancel()
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			t.Fatalf("%s (at %s): %s did not come true after reload (%v)", what, loc, cond, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.do(t, what+": confirmations say yes", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
}
