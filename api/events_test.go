package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

type eventPage struct {
	Events []map[string]any `json:"events"`
	Next   string           `json:"next"`
}

func TestEvents(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	ids := f.seeds["a"].eventIDs

	var p eventPage
	want(t, f.do(http.MethodGet, "/api/v1/events", "a-read", nil), http.StatusOK, &p)
	if len(p.Events) != 3 || p.Next != "" {
		t.Fatalf("%d events, next %q; want 3 and none", len(p.Events), p.Next)
	}
	e := p.Events[1]
	wantFields := map[string]any{
		"id":         ids[1].String(),
		"workspace":  "a",
		"source":     "a-src",
		"format":     testFormat,
		"@timestamp": "2026-03-01T12:01:00Z",
		"received":   "2026-03-01T13:00:00Z",
		"user.name":  "a-user1",
	}
	for k, v := range wantFields {
		if e[k] != v {
			t.Errorf("event[%q] = %v, want %v", k, e[k], v)
		}
	}
	// The stored logsource wins over what the decoder says.
	if ls, _ := e["logsource"].(map[string]any); ls["product"] != "stored-product" || ls["service"] != "auth" {
		t.Errorf("logsource %v, want the stored one", e["logsource"])
	}
	// The source's own fields come from decoding the raw record again.
	if fs, _ := e["fields"].(map[string]any); fs["action"] != "login" || fs["n"] != "1" || fs["user"] != "a-user1" {
		t.Errorf("fields %v, want action, n and user decoded", e["fields"])
	}
	if _, ok := e["raw"]; ok {
		t.Errorf("a decodable event carries raw: %v", e)
	}

	at := func(m int) string {
		return url.QueryEscape(t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339))
	}
	for _, c := range []struct {
		query string
		want  []event.ID
	}{
		{"from=" + at(1), ids[1:]},
		{"to=" + at(1), ids[:1]},
		{"from=" + at(1) + "&to=" + at(2), ids[1:2]},
		{"entity=a-user2", ids[2:]},
		{"entity=b-user2", nil},
		{"source=a-src&limit=2", ids[:2]},
		{"source=b-src", nil},
	} {
		var p eventPage
		want(t, f.do(http.MethodGet, "/api/v1/events?"+c.query, "a-read", nil), http.StatusOK, &p)
		var got []string
		for _, e := range p.Events {
			got = append(got, e["id"].(string))
		}
		var wantIDs []string
		for _, id := range c.want {
			wantIDs = append(wantIDs, id.String())
		}
		if strings.Join(got, ",") != strings.Join(wantIDs, ",") {
			t.Errorf("events?%s = %v, want %v", c.query, got, wantIDs)
		}
	}
	for _, c := range []struct{ query, where string }{
		{"from=2026-03-01", "query.from"},
		{"from=" + at(2) + "&to=" + at(1), "query.to"},
		{"limit=5000", "query.limit"},
		{"severity=high", "severity"},
	} {
		wantProblem(t, f.do(http.MethodGet, "/api/v1/events?"+c.query, "a-read", nil), http.StatusUnprocessableEntity, c.where)
	}

	var one map[string]any
	want(t, f.do(http.MethodGet, "/api/v1/events/"+ids[2].String(), "a-read", nil), http.StatusOK, &one)
	if one["id"] != ids[2].String() || one["user.name"] != "a-user2" {
		t.Errorf("event %v", one)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/events/not-an-id", "a-read", nil), http.StatusUnprocessableEntity, "path.id", "ULID")
	wantProblem(t, f.do(http.MethodGet, "/api/v1/events/"+event.NewID().String(), "a-read", nil), http.StatusNotFound, "not found")
}

// An event whose record no longer decodes, or whose format this server
// does not know, is still shown: stored fields plus the raw record.
func TestEventsUndecodable(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	ids := event.NewIDSource()
	mk := func(format, raw string) store.StoredEvent {
		e := store.StoredEvent{ID: ids.New(t0), Workspace: "a", Source: "odd", Format: format, Time: t0, Received: t0, Raw: []byte(raw)}
		e.Common[event.SourceIP] = "198.51.100.7"
		return e
	}
	bad := mk(testFormat, "user=x garbage\x00\"quoted\"")
	unknown := mk("no-such-format", "<13>hello")
	if _, err := st.Commit(context.Background(), []*store.Batch{{ID: ids.New(t0), Workspace: "a", Events: []store.StoredEvent{bad, unknown}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ev      store.StoredEvent
		errPart string
	}{
		{bad, "field without '='"},
		{unknown, `unknown format "no-such-format"`},
	} {
		w := f.do(http.MethodGet, "/api/v1/events/"+c.ev.ID.String(), "a-read", nil)
		var got map[string]any
		want(t, w, http.StatusOK, &got)
		if got["raw"] != string(c.ev.Raw) {
			t.Errorf("raw %q, want %q", got["raw"], c.ev.Raw)
		}
		if msg, _ := got["decode_error"].(string); !strings.Contains(msg, c.errPart) {
			t.Errorf("decode_error %q, want it to say %q", msg, c.errPart)
		}
		if got["source.ip"] != "198.51.100.7" || got["id"] != c.ev.ID.String() || got["format"] != c.ev.Format {
			t.Errorf("stored fields missing: %v", got)
		}
		if _, ok := got["fields"]; ok {
			t.Errorf("a half-decoded record shows fields: %v", got)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Errorf("invalid JSON: %s", w.Body)
		}
	}
}
