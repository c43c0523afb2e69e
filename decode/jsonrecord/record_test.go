package jsonrecord

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

type testCapture struct{ user, host string }

func (c *testCapture) slot(name []byte) *string {
	switch string(name) {
	case "user":
		return &c.user
	case "host.name":
		return &c.host
	}
	return nil
}

func TestRecord(t *testing.T) {
	spelling := NewSpelling("userName", "host")
	for _, tt := range []struct {
		name   string
		hooks  Hooks[testCapture]
		rec    string
		want   testCapture
		fields map[string][]string
	}{
		{"slots: the first value counts", Hooks[testCapture]{Slot: (*testCapture).slot},
			`{"user":["a","b"],"host":{"name":7}}`, testCapture{"a", "7"}, map[string][]string{"user": {"a", "b"}, "host.name": {"7"}}},
		{"any case respelled", Hooks[testCapture]{Slot: (*testCapture).slot, Spelling: spelling},
			`{"USERNAME":"x","HoSt":{"name":"h"}}`, testCapture{host: "h"}, map[string][]string{"userName": {"x"}, "host.name": {"h"}, "USERNAME": nil}},
		{"lower case only respelled", Hooks[testCapture]{Slot: (*testCapture).slot, Spelling: spelling, LowerOnly: true},
			`{"username":"x","HOST":{"name":"h"}}`, testCapture{}, map[string][]string{"userName": {"x"}, "HOST.name": {"h"}}},
		{"unprefixed second name", Hooks[testCapture]{Slot: (*testCapture).slot, Unprefix: []byte("p.")},
			`{"p":{"user":"u"},"user":"v"}`, testCapture{user: "v"}, map[string][]string{"p.user": {"u"}, "user": {"u", "v"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecord("test", tt.hooks)
			var ev event.Event
			ev.Fields.Bind(event.NewOpenDict())
			if err := r.Decode([]byte(tt.rec), &ev); err != nil {
				t.Fatal(err)
			}
			if r.C != tt.want {
				t.Errorf("captured %+v, want %+v", r.C, tt.want)
			}
			for name, want := range tt.fields {
				if got := dectest.Values(&ev, name); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("field %s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestRecordKeepAndFilled(t *testing.T) {
	var filled []string
	r := NewRecord("test", Hooks[testCapture]{
		Slot:    (*testCapture).slot,
		Keep:    true,
		Watched: func(c *testCapture) *string { return &c.user },
		Filled: func(_ *testCapture, _ *event.Event, name []byte, s string) {
			filled = append(filled, string(name)+"="+s)
		},
	})
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := r.Decode([]byte(`{"user":"a","x":1}`), &ev); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, k := range r.Kept() {
		kept = append(kept, k.Value)
	}
	if strings.Join(kept, ",") != "a,1" || ev.Fields.Len() != 0 || strings.Join(filled, ",") != "user=a" {
		t.Errorf("kept %q, %d fields set, filled %q", kept, ev.Fields.Len(), filled)
	}
	if err := r.Decode([]byte(`[1]`), &ev); err == nil || !strings.Contains(err.Error(), "want an object") {
		t.Errorf("array: %v", err)
	}
}
