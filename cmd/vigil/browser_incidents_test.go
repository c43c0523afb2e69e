package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// incAPI reads an API path in the page's session (same origin) and decodes
// the JSON answer into out.
func incAPI(t *testing.T, b *browser, path string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	js := `fetch(` + strconv.Quote(path) + `, {headers: {Accept: "application/json"}}).then(r => r.ok ? r.text() : Promise.reject(new Error(r.status + " " + r.statusText)))`
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
}

// incWait waits until the JavaScript expression cond is true in the page,
// across the reloads a change makes.
func incWait(t *testing.T, b *browser, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !!(`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			flash := eval[string](t, b, `[...document.querySelectorAll(".flash, .form-error")].map(e => e.textContent).join(" | ")`)
			t.Fatalf("%s: not so after 30 s (%v); the page says %q", what, err, flash)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// incRefused forgets the console's report of the refusals a test
// provoked (status, e.g. "403"): the report comes a moment after the
// request, so it waits a little for it.
func incRefused(b *browser, status string) {
	for range 30 {
		b.mu.Lock()
		seen := slices.ContainsFunc(b.errors, func(e string) bool { return strings.Contains(e, status) })
		b.mu.Unlock()
		if seen {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.allowErrors(status)
}

// incTimeline is the text of the incident page's timeline entries.
func incTimeline(t *testing.T, b *browser) []string {
	t.Helper()
	return eval[[]string](t, b, `[...document.querySelectorAll("#incident-timeline li")].map(li => li.textContent.replace(/\s+/g, " ").trim())`)
}

func incTimelineHas(entries []string, part string) bool {
	return slices.ContainsFunc(entries, func(e string) bool { return strings.Contains(e, part) })
}

// incOffered checks that the incident page offers exactly the moves the
// incident package allows from stage: a button a move, and the close form
// with the classifications CheckClose accepts.
func incOffered(t *testing.T, b *browser, from incident.Stage) {
	t.Helper()
	var want []string
	canClose := false
	for _, to := range from.Next() {
		if to == incident.StageClose {
			canClose = true
			continue
		}
		want = append(want, string(to))
	}
	got := eval[[]string](t, b, `[...document.querySelectorAll("button[data-move]")].map(e => e.dataset.move)`)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("in %s the page offers moves %v, the workflow allows %v", from, got, want)
	}
	for _, s := range incident.Stages {
		if !slices.Contains(from.Next(), s) && b.count(t, fmt.Sprintf(`button[data-move=%q]`, s)) > 0 {
			t.Errorf("in %s the page offers the illegal move to %s", from, s)
		}
	}
	if n := b.count(t, "#close-form"); (n == 1) != canClose {
		t.Errorf("in %s: %d close forms, closing legal: %v", from, n, canClose)
	}
	if !canClose {
		return
	}
	var classes []string
	for _, c := range incident.Classifications {
		if incident.CheckClose(from, c, "a reason") == nil {
			classes = append(classes, string(c))
		}
	}
	got = eval[[]string](t, b, `[...document.querySelectorAll("#close-form input[name=classification]")].map(e => e.value)`)
	if !slices.Equal(got, classes) {
		t.Errorf("closing from %s offers %v, the workflow accepts %v", from, got, classes)
	}
}

// TestBrowserIncidents: the board shows the demo's incidents in their
// stage columns; a responder works one through the stages, assigns,
// comments and closes it, each in the timeline and still there after a
// reload, offered only legal moves; a reader sees no control and is
// refused; a change posted from another origin is refused.
func TestBrowserIncidents(t *testing.T) {
	d := sharedDashboard(t)
	b := newBrowser(t)
	b.signIn(t, d, "rob")

	// The board: each column counts its stage's incidents as the API
	// does, and holds only incidents of its stage.
	b.do(t, "open the board", chromedp.Navigate(d.url+"/incidents"), chromedp.WaitVisible(chromedp.CSS(`#incident-board`)))
	var all struct {
		Incidents []incident.Incident `json:"incidents"`
		Total     int                 `json:"total"`
	}
	incAPI(t, b, "/api/v1/incidents?limit=1000&sort=priority", &all)
	if all.Total == 0 {
		t.Fatal("the demo has no incidents")
	}
	stageOf := map[string]incident.Stage{}
	perStage := map[incident.Stage]int{}
	for _, i := range all.Incidents {
		stageOf[i.ID] = i.Stage
		perStage[i.Stage]++
	}
	for _, st := range incident.Stages {
		col := fmt.Sprintf(`#incident-board .column.stage-%s`, st)
		if got := b.text(t, col+" h2 .badge"); got != strconv.Itoa(perStage[st]) {
			t.Errorf("column %s counts %q, the API %d", st, got, perStage[st])
		}
		ids := eval[[]string](t, b, `[...document.querySelectorAll(`+strconv.Quote(col+" [data-incident]")+`)].map(e => e.dataset.incident)`)
		for _, id := range ids {
			if stageOf[id] != st {
				t.Errorf("incident %s (in %s) shows in column %s", id, stageOf[id], st)
			}
		}
		if st != incident.StageClose && perStage[st] <= 8 && len(ids) != perStage[st] {
			t.Errorf("column %s shows %d cards of %d", st, len(ids), perStage[st])
		}
	}
	b.screenshot(t, "incidents")

	// Rob takes the least urgent incident in detect.
	var target, other incident.Incident
	for _, i := range all.Incidents {
		if i.Stage == incident.StageDetect && i.MergedInto == "" {
			other, target = target, i
		}
	}
	if target.ID == "" || other.ID == "" {
		t.Fatalf("the demo has fewer than two incidents in detect: %+v", all.Incidents)
	}
	page := d.url + "/incidents/" + target.ID
	b.do(t, "open the incident", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#incident-stage`)))
	from := incident.StageDetect
	for _, to := range []incident.Stage{incident.StageAssess, incident.StageDiagnose, incident.StageStabilize, incident.StageDiagnose} {
		incOffered(t, b, from)
		b.do(t, "move to "+string(to), chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-move=%q]`, to))))
		incWait(t, b, "the page shows stage "+string(to),
			fmt.Sprintf(`document.querySelector("#incident-stage")?.textContent === %q`, strings.ToUpper(string(to)[:1])+string(to)[1:]))
		if tl := incTimeline(t, b); !incTimelineHas(tl, fmt.Sprintf("moved from %s to %s", from, to)) {
			t.Errorf("the timeline does not show the move %s → %s: %q", from, to, tl)
		}
		from = to
	}
	incOffered(t, b, from)

	b.do(t, "assign to self", chromedp.Click(chromedp.CSS(`#assign-me`)))
	incWait(t, b, "the owner is rob", `document.querySelector("#incident-owner")?.textContent === "rob"`)
	comment := "checked the web logs " + strconv.FormatInt(time.Now().UnixNano(), 36)
	b.do(t, "comment",
		chromedp.SendKeys(chromedp.CSS(`.comment-form textarea[name=comment]`), comment),
		chromedp.Click(chromedp.CSS(`.comment-form button[type=submit]`)))
	incWait(t, b, "the comment shows", `document.querySelector("#incident-timeline").textContent.includes(`+strconv.Quote(comment)+`)`)
	b.do(t, "judge the intent",
		chromedp.Click(chromedp.CSS(`.intent-edit summary`)),
		chromedp.SetValue(chromedp.CSS(`#intent-form select[name=estimate]`), "random"),
		chromedp.SetValue(chromedp.CSS(`#intent-form textarea[name=reasons]`), "one of many scanners\nno account targeted"),
		chromedp.Click(chromedp.CSS(`#intent-form button[type=submit]`)))
	incWait(t, b, "the intent edit shows", `document.querySelector("#incident-timeline").textContent.includes("assessment edited: intent")`)
	if txt := b.text(t, "#assessment"); !strings.Contains(txt, "random") || !strings.Contains(txt, "no account targeted") {
		t.Errorf("after the intent edit the assessment reads %q", txt)
	}
	b.screenshot(t, "incident")

	reason := "sqlmap run by an outside scanner, blocked at the WAF"
	b.do(t, "close as a true positive",
		chromedp.Click(chromedp.CSS(`.close-form summary`)),
		chromedp.Click(chromedp.CSS(`#close-form input[value=true_positive_no_impact]`)),
		chromedp.SendKeys(chromedp.CSS(`#close-form textarea[name=reason]`), reason),
		chromedp.Click(chromedp.CSS(`#close-form button[type=submit]`)))
	incWait(t, b, "the page shows stage close", `document.querySelector("#incident-stage")?.textContent === "Close"`)
	incOffered(t, b, incident.StageClose)

	// All of it persists: a fresh load shows it, the API has it.
	b.do(t, "reload the incident", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#incident-timeline`)))
	tl := incTimeline(t, b)
	for _, part := range []string{"moved from detect to assess", "moved from assess to diagnose", "moved from diagnose to stabilize",
		"moved from stabilize to diagnose", "assigned to rob", comment, "closed as true_positive_no_impact", reason} {
		if !incTimelineHas(tl, part) {
			t.Errorf("after a reload the timeline lacks %q: %q", part, tl)
		}
	}
	var got incident.Incident
	incAPI(t, b, "/api/v1/incidents/"+target.ID, &got)
	if got.Stage != incident.StageClose || got.Owner != "rob" || got.Classification != incident.TruePositiveNoImpact || got.CloseReason != reason {
		t.Errorf("the API has stage %s owner %q classification %q reason %q", got.Stage, got.Owner, got.Classification, got.CloseReason)
	}
	if txt := b.text(t, "#incident-owner"); txt != "rob" {
		t.Errorf("after a reload the owner reads %q", txt)
	}
	b.do(t, "find similar incidents", chromedp.Click(chromedp.CSS(`#similar a`)), chromedp.WaitVisible(chromedp.CSS(`ul.similar`)))
	var sim struct {
		Similar []incident.Similar `json:"similar"`
	}
	incAPI(t, b, "/api/v1/incidents/"+target.ID+"/similar?limit=5", &sim)
	if n := b.count(t, `ul.similar li a`); n != len(sim.Similar) {
		t.Errorf("the page lists %d similar incidents, the API %d", n, len(sim.Similar))
	}

	// The board has it in Close, and the closed list with its verdict.
	b.do(t, "the closed list", chromedp.Navigate(d.url+"/incidents?stage=close"), chromedp.WaitVisible(chromedp.CSS(`#incident-board`)))
	row := eval[string](t, b, `[...document.querySelectorAll("#incident-board tbody tr")].map(r => r.textContent).find(t => t.includes(`+strconv.Quote(target.Title)+`)) || ""`)
	if !strings.Contains(row, "True positive, no impact") || !strings.Contains(row, "rob") {
		t.Errorf("the closed list's row of the incident reads %q", row)
	}
	b.screenshot(t, "incidents-closed")
	// The text filter keeps the incidents whose title holds the words.
	words := strings.Fields(target.Title)[0]
	b.do(t, "filter the board by text", chromedp.Navigate(d.url+"/incidents"), chromedp.WaitVisible(chromedp.CSS(`#incident-board`)),
		chromedp.SendKeys(chromedp.CSS(`form.filters input[name=q]`), words),
		chromedp.Submit(chromedp.CSS(`form.filters input[name=q]`)))
	incWait(t, b, "the board is filtered", `location.search.includes("q=")`)
	titles := eval[[]string](t, b, `[...document.querySelectorAll("#incident-board .card-title")].map(e => e.textContent)`)
	var wantTitles int
	var mine bool
	for _, i := range all.Incidents {
		if strings.Contains(strings.ToLower(i.Title), strings.ToLower(words)) || slices.ContainsFunc(i.Entities, func(e alert.Entity) bool {
			return strings.Contains(strings.ToLower(e.Value), strings.ToLower(words))
		}) {
			wantTitles++
		}
	}
	for _, ti := range titles {
		mine = mine || ti == target.Title
	}
	if !mine || len(titles) != wantTitles {
		t.Errorf("filtered by %q the board shows %q; want %d incidents with %q among them", words, titles, wantTitles, target.Title)
	}

	// Another origin's page posts to the API with rob's cookie: a
	// fetch PATCH reopening the incident, then a form merging another
	// incident into it (JSON smuggled in a text/plain form). Both refused.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		api := d.url + "/api/v1/incidents/" + target.ID
		fmt.Fprintf(w, `<!doctype html><title>prize</title>
<form id="f" method="post" action="%s/merge" enctype="text/plain"><input name='{"from":["%s"],"x":"' value='"}'></form>
<script>
fetch(%q, {method: "PATCH", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"}, body: '{"stage":"assess"}'})
  .catch(() => {}).finally(() => { window.patched = true; document.getElementById("f").submit(); });
</script>`, api, other.ID, api)
	}))
	defer attacker.Close()
	b.do(t, "visit the other origin", chromedp.Navigate(attacker.URL))
	incWait(t, b, "the cross-site form was posted", `location.href.includes("/merge")`)
	incRefused(b, "403")
	b.allowErrors("401")
	b.do(t, "back to the incident", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#incident-stage`)))
	incAPI(t, b, "/api/v1/incidents/"+target.ID, &got)
	if got.Stage != incident.StageClose {
		t.Errorf("a cross-origin PATCH moved the incident to %s", got.Stage)
	}
	var o incident.Incident
	incAPI(t, b, "/api/v1/incidents/"+other.ID, &o)
	if o.MergedInto != "" || o.Stage != other.Stage {
		t.Errorf("a cross-origin form merged or moved incident %s: merged into %q, stage %s", other.ID, o.MergedInto, o.Stage)
	}

	// Rita reads: no controls, and a change she forges is refused.
	r := newBrowser(t)
	r.signIn(t, d, "rita")
	r.do(t, "rita opens the incident", chromedp.Navigate(d.url+"/incidents/"+other.ID), chromedp.WaitVisible(chromedp.CSS(`#incident-timeline`)))
	for _, sel := range []string{"[data-api]", "button[data-move]", "#close-form", ".comment-form", "#assign-me", ".task-toggle", "#merge-form button", "#split-form button"} {
		if n := r.count(t, sel); n != 0 {
			t.Errorf("the reader sees %d of %s", n, sel)
		}
	}
	if n := r.count(t, "#tasks li"); n == 0 {
		t.Error("the reader sees no tasks")
	}
	ctx, cancel := context.WithTimeout(r.ctx, browserStep)
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/v1/incidents/`+other.ID+`", {method: "PATCH",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
		body: JSON.stringify({stage: "assess", owner: "rita"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	incRefused(r, "403")
	if status != http.StatusForbidden {
		t.Errorf("rita's PATCH answered %d, want 403", status)
	}
	incAPI(t, b, "/api/v1/incidents/"+other.ID, &o)
	if o.Stage != other.Stage || o.Owner == "rita" {
		t.Errorf("rita's PATCH changed the incident: stage %s owner %q", o.Stage, o.Owner)
	}
	// The most urgent incident with a search run, as a reader sees it, in
	// dark.
	r.do(t, "rita searches the top incident", chromedp.Navigate(d.url+"/incidents/"+all.Incidents[0].ID+"?q="),
		chromedp.WaitVisible(chromedp.CSS(`#investigate`)))
	if n := r.count(t, "#investigate table.events tbody tr"); n == 0 {
		t.Errorf("the search over incident %s's entities finds no events", all.Incidents[0].ID)
	}
	eval[bool](t, r, `(document.documentElement.dataset.theme = "dark") === "dark"`)
	r.screenshot(t, "incident-reader-dark")
	r.do(t, "rita opens the board", chromedp.Navigate(d.url+"/incidents"), chromedp.WaitVisible(chromedp.CSS(`#incident-board`)))
	if n := r.count(t, "#incident-board [data-incident]"); n == 0 {
		t.Error("the reader's board is empty")
	}
	// Refusals reported late (the cross-site form's answer) are expected.
	time.Sleep(300 * time.Millisecond)
	b.allowErrors("403")
	b.allowErrors("401")
}
