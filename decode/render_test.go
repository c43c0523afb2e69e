package decode_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// TestRendererStoredPartsWin: the stored place, time, logsource and
// common fields are what detection saw; decoding adds the own fields.
func TestRendererStoredPartsWin(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	stored := event.Event{
		ID: event.NewID(), Workspace: "acme", Source: "app", Format: "json",
		Logsource: event.Logsource{Product: "stored"},
		Time:      at, Received: at.Add(time.Second),
		Raw: []byte(`{"user":{"name":"bob"},"action":"login","count":3}`),
	}
	stored.Common[event.UserName] = "alice" // what detection saw
	r := decode.NewRenderer()
	ev, err := r.Render(&stored)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Common[event.UserName] != "alice" || ev.Logsource.Product != "stored" || !ev.Time.Equal(at) {
		t.Errorf("stored parts lost: user %q logsource %+v time %v", ev.Common[event.UserName], ev.Logsource, ev.Time)
	}
	if v, ok := ev.Get("action"); !ok || v != "login" {
		t.Errorf("own field action = %q, %v; want login", v, ok)
	}
	var got map[string]any
	if err := json.Unmarshal(decode.AppendJSON(nil, ev, err), &got); err != nil {
		t.Fatal(err)
	}
	if got["user.name"] != "alice" || got["raw"] != nil {
		t.Errorf("json form: %v", got)
	}
	fields, _ := got["fields"].(map[string]any)
	if fields["action"] != "login" {
		t.Errorf("json fields: %v", fields)
	}

	// The renderer is reused: a record that no longer decodes keeps no
	// field of the previous one, and shows raw with the reason.
	bad := stored
	bad.Format = "no-such-format"
	bad.Raw = []byte(`a > b & c`)
	ev, err = r.Render(&bad)
	if err == nil {
		t.Fatal("unknown format rendered without error")
	}
	if ev.Fields.Len() != 0 {
		t.Errorf("fields kept from the previous record: %d", ev.Fields.Len())
	}
	got = nil
	b := decode.AppendJSON(nil, ev, err)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got["raw"] != "a > b & c" || got["decode_error"] == nil || got["user.name"] != "alice" {
		t.Errorf("undecodable record: %s", b)
	}
}
