package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium (apt-get install chromium)
// with chromedp against one `vigil demo`, shared by all of them: the
// dashboard with the demo's data, as a newcomer sees it.

// dashboardDemo is the shared demo: its URL, data directory and users
// (name → password), one of each role.
type dashboardDemo struct {
	url     string
	dataDir string
	out     *syncBuffer
	// password of each user the harness made: "alice" (admin), "rob"
	// (responder), "rita" (reader), all in workspace demo.
	password map[string]string
}

var (
	dashOnce sync.Once
	dash     *dashboardDemo
	dashErr  error
)

// browserUsers are the users the harness makes in the demo's workspace.
var browserUsers = map[string]string{"alice": "admin", "rob": "responder", "rita": "reader"}

// sharedDashboard starts the shared demo on first use and makes its users.
func sharedDashboard(t *testing.T) *dashboardDemo {
	t.Helper()
	dashOnce.Do(func() { dash, dashErr = startDashboardDemo() })
	if dashErr != nil {
		t.Fatal(dashErr)
	}
	return dash
}

func startDashboardDemo() (*dashboardDemo, error) {
	dir, err := os.MkdirTemp("", "vigil-browser-")
	if err != nil {
		return nil, err
	}
	ln := mustFreeAddr()
	d := &dashboardDemo{url: "http://" + ln, dataDir: filepath.Join(dir, "data"), out: &syncBuffer{}, password: map[string]string{}}
	cmd := exec.Command(vigilBin, "demo", "--listen", ln, "--log-level", "warn", "--data-dir", d.dataDir)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	afterTests = append(afterTests, func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(d.out.String(), "Ctrl-C") {
		select {
		case err := <-done:
			return nil, fmt.Errorf("vigil demo exited: %v\n%s", err, d.out.String())
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("vigil demo not ready in 3 min:\n%s", d.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, role := range browserUsers {
		pw := "pw-" + name + "-" + fmt.Sprint(time.Now().UnixNano())
		c := exec.Command(vigilBin, "users", "create", name, "--data-dir", d.dataDir, "--role", "demo="+role)
		c.Stdin = strings.NewReader(pw + "\n")
		if out, err := c.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("users create %s: %v\n%s", name, err, out)
		}
		d.password[name] = pw
	}
	return d, nil
}

func mustFreeAddr() string {
	var t testing.T
	return freePort(&t)
}

// chromiumPath finds Chromium: $VIGIL_CHROMIUM, else chromium,
// chromium-browser or google-chrome on the PATH.
func chromiumPath() string {
	if p := os.Getenv("VIGIL_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium with a fresh profile, and what its
// pages logged as errors (console errors, uncaught exceptions, refused
// resources and CSP violations).
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
	// allowed are the substrings of errors the test expects: the console
	// reports a failed request when it gets to it, which may be after the
	// request's promise resolved, so they are kept out from then on.
	allowed []string
}

// newBrowser starts Chromium at 1280×800 for the test. Without Chromium
// the test is skipped with the reason, unless VIGIL_REQUIRE_BROWSER=1
// (CI sets it), where that is a failure. The test fails at its end when a
// page logged an error, unless it called allowErrors.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("VIGIL_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium found (apt-get install chromium, or set VIGIL_CHROMIUM)")
		}
		t.Skip("browser test skipped: no Chromium found (apt-get install chromium, or set VIGIL_CHROMIUM)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a timeout (it would stop it)
		cancel()
		cancelA()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.addError(string(m.Type) + ": " + m.Text + " " + m.URL)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelA()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("browser: %s", e)
		}
	})
	return b
}

func (b *browser) addError(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.allowed {
		if strings.Contains(s, a) {
			return
		}
	}
	b.errors = append(b.errors, s)
}

// allowErrors forgets the errors logged so far whose text contains
// substr, and keeps out those logged later (a test that provokes a
// refusal expects its 403 in the log, whenever the console reports it).
func (b *browser) allowErrors(substr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, substr)
	keep := b.errors[:0]
	for _, e := range b.errors {
		if !strings.Contains(e, substr) {
			keep = append(keep, e)
		}
	}
	b.errors = keep
}

// timeout bounds one step of a browser test.
const browserStep = 60 * time.Second

// do runs chromedp steps, failing the test with what went wrong and where.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// text is the visible text of the first element sel matches.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// count counts the elements that match the CSS selector sel now.
func (b *browser) count(t *testing.T, sel string) int {
	t.Helper()
	return eval[int](t, b, "document.querySelectorAll("+strconv.Quote(sel)+").length")
}

// signIn signs user in through the sign-in form and waits for the
// overview.
func (b *browser) signIn(t *testing.T, d *dashboardDemo, user string) {
	t.Helper()
	b.do(t, "sign in as "+user,
		chromedp.Navigate(d.url+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), d.password[user]),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
}

// screenshot writes the page as screenshots/NAME.png beside the tests
// (kept out of git: look at them).
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
