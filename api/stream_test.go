package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/incident"
)

// follow runs the stream for d and answers what it sent by then: how the
// route walks (isolation) take a stream, which never ends by itself.
func (f *fixture) follow(path, key string, d time.Duration) *httptest.ResponseRecorder {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+f.secrets[key])
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return w
}

// sse is one server-sent event as a client reads it; a comment line
// (heartbeat) is an sse with comment set.
type sse struct {
	id, event, data, comment string
}

// sseClient reads a stream over HTTP, event by event.
type sseClient struct {
	t    *testing.T
	resp *http.Response
	evs  chan sse
	done chan struct{} // closed when the stream ended
}

func openStream(t *testing.T, srv *httptest.Server, secret, lastID string) *sseClient {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+streamPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", streamPath, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	c := &sseClient{t: t, resp: resp, evs: make(chan sse, 100), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur != (sse{}) {
					c.evs <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				cur.comment = strings.TrimSpace(line[1:])
			default:
				k, v, _ := strings.Cut(line, ":")
				v = strings.TrimPrefix(v, " ")
				switch k {
				case "id":
					cur.id = v
				case "event":
					cur.event = v
				case "data":
					cur.data = v
				}
			}
		}
	}()
	return c
}

// next waits for the next event (heartbeats and the retry line skipped).
func (c *sseClient) next(what string) sse {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-c.evs:
			if e.event != "" {
				return e
			}
		case <-deadline:
			c.t.Fatalf("no event for %s in 5 s", what)
		}
	}
}

// none checks that no event comes for d.
func (c *sseClient) none(d time.Duration, what string) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-c.evs:
			if e.event != "" {
				c.t.Errorf("%s: got event %+v", what, e)
			}
		case <-deadline:
			return
		}
	}
}

// TestStream follows workspace a's changes: an alert's status change and
// an incident's creation and stage arrive as events with ids, b's changes
// do not; a reconnect with Last-Event-ID goes on after it; a quiet stream
// sends heartbeats; CloseStreams ends it.
func TestStream(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	f.api.streamBeat = 100 * time.Millisecond
	srv := httptest.NewServer(f.api)
	defer srv.Close()

	c := openStream(t, srv, f.secrets["a-read"], "")
	// Nothing of the past: the seed's alerts were made before.
	c.none(300*time.Millisecond, "a stream opened after the seed")

	alertA, alertB := f.seeds["a"].alertIDs[0], f.seeds["b"].alertIDs[0]
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+alertB, "b-admin", map[string]string{"status": "active"}), http.StatusOK, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+alertA, "a-admin", map[string]string{"status": "active"}), http.StatusOK, nil)
	e := c.next("a's alert status change")
	var ae AlertEvent
	if err := json.Unmarshal([]byte(e.data), &ae); err != nil {
		t.Fatalf("alert event data %q: %v", e.data, err)
	}
	if e.event != "alert" || ae.ID != alertA || ae.Status != "active" || ae.Change != "status" || ae.Title == "" || ae.Severity == "" {
		t.Fatalf("event %+v, data %+v; want a's alert %s, status active", e, ae, alertA)
	}
	if _, err := parseStreamPos(e.id); err != nil {
		t.Errorf("event id %q: %v", e.id, err)
	}
	firstID := e.id

	var inc incident.Incident
	want(t, f.do(http.MethodPost, "/api/v1/incidents", "a-admin", map[string]any{"title": "live one", "alert_ids": []string{alertA}}), http.StatusCreated, &inc)
	var ie IncidentEvent
	for ie.ID == "" {
		e = c.next("the new incident")
		if e.event == "incident" {
			if err := json.Unmarshal([]byte(e.data), &ie); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ie.ID != inc.ID || ie.Title != "live one" || ie.Stage != "detect" || ie.Change != "created" {
		t.Errorf("incident event %+v; want %s created in detect", ie, inc.ID)
	}
	want(t, f.do(http.MethodPatch, "/api/v1/incidents/"+inc.ID, "a-admin", map[string]any{"stage": "assess"}), http.StatusOK, nil)
	for ie.Stage != "assess" {
		e = c.next("the incident's stage")
		if e.event == "incident" {
			json.Unmarshal([]byte(e.data), &ie)
		}
	}
	if ie.Change != "stage" || ie.Status != "active" {
		t.Errorf("stage event %+v", ie)
	}
	c.none(300*time.Millisecond, "no more changes")
	for _, s := range strings.Fields(e.data) {
		if strings.Contains(s, alertB) {
			t.Errorf("a's stream tells b's alert: %s", e.data)
		}
	}

	// A reconnect after the first event gets the incident's changes again,
	// not the alert it had.
	r := openStream(t, srv, f.secrets["a-read"], firstID)
	got := r.next("the incident, after a reconnect")
	if got.event != "incident" || !strings.Contains(got.data, inc.ID) {
		t.Errorf("after Last-Event-ID %s: %+v, want incident %s", firstID, got, inc.ID)
	}

	// Heartbeats on a quiet stream.
	deadline := time.After(3 * time.Second)
	for beat := false; !beat; {
		select {
		case e := <-c.evs:
			beat = e.comment == "keep-alive"
		case <-deadline:
			t.Fatal("no heartbeat in 3 s on a quiet stream")
		}
	}

	f.api.CloseStreams()
	for _, s := range []*sseClient{c, r} {
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			t.Fatal("CloseStreams did not end an open stream")
		}
	}
}

// TestStreamRefusals: the stream takes read keys and up; a bad
// Last-Event-ID is refused with what is wanted.
func TestStreamRefusals(t *testing.T) {
	f := newFixture(t, newFakeStore())
	wantProblem(t, f.do(http.MethodGet, streamPath, "", nil), http.StatusUnauthorized)
	wantProblem(t, f.do(http.MethodGet, streamPath, "a-ingest", nil), http.StatusForbidden)
	r := httptest.NewRequest(http.MethodGet, streamPath, nil)
	r.Header.Set("Authorization", "Bearer "+f.secrets["a-read"])
	r.Header.Set("Last-Event-ID", "yesterday")
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	wantProblem(t, w, http.StatusUnprocessableEntity, "two numbers")
	// The fake store keeps incidents but no alert stream: the stream
	// follows what there is.
	if w := f.follow(streamPath, "a-read", 200*time.Millisecond); w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "retry:") {
		t.Errorf("stream on a store without an alert stream: %d %q", w.Code, w.Body)
	}
}
