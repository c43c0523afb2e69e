package jsonrecord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestMapping(t *testing.T) {
	d := New()
	err := d.(decode.Configurable).Configure(decode.Options{Mapping: map[string]string{
		"client.addr": "source.ip", "who": "user.name", "ts": "@timestamp", "tags": "event.action", "user.name": "user.domain",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rec    string
		time   string
		common map[string]string
	}{
		{
			// The mapping fills what the automatic mapping cannot, and wins
			// over it whatever the order of the keys: source.ip comes
			// before client.addr. A mapped field still is its own field.
			rec:    `{"source":{"ip":"192.0.2.1"},"client":{"addr":"198.51.100.9"},"who":"alice","ts":"2024-05-06T08:00:00Z","@timestamp":"2020-01-01T00:00:00Z","tags":["a","b"]}`,
			time:   "2024-05-06T08:00:00Z",
			common: map[string]string{"source.ip": "198.51.100.9", "user.name": "alice", "event.action": "a"},
		},
		{
			// An unreadable mapped stamp is passed over like a guessed one;
			// a source field mapped elsewhere ("user.name" → user.domain)
			// no longer fills its automatic namesake.
			rec:    `{"ts":"soon","@timestamp":"2020-01-01T00:00:00Z","user":{"name":"CORP"}}`,
			time:   "2020-01-01T00:00:00Z",
			common: map[string]string{"user.domain": "CORP", "user.name": "", "source.ip": ""},
		},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		if err := d.Decode([]byte(tt.rec), &ev); err != nil {
			t.Fatal(err)
		}
		want, _ := time.Parse(time.RFC3339, tt.time)
		if !ev.Time.Equal(want) {
			t.Errorf("%.40s: time %v, want %v", tt.rec, ev.Time, want)
		}
		for name, w := range tt.common {
			id, _ := event.CommonID(name)
			if got := ev.Common[id]; got != w {
				t.Errorf("%.40s: %s = %q, want %q", tt.rec, name, got, w)
			}
		}
		if v, _ := ev.Get("client.addr"); v != "198.51.100.9" && strings.Contains(tt.rec, "client") {
			t.Errorf("field client.addr = %q", v)
		}
	}

	// An unknown target is refused when the source is configured.
	err = New().(decode.Configurable).Configure(decode.Options{Mapping: map[string]string{"x": "source.address"}})
	if err == nil || !strings.Contains(err.Error(), "source.address") {
		t.Errorf("Configure with an unknown ECS name: %v", err)
	}
}

func TestMappingZeroAllocs(t *testing.T) {
	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Mapping: map[string]string{"who": "user.name", "ts": "@timestamp"}}); err != nil {
		t.Fatal(err)
	}
	dectest.ZeroAllocs(t, d, benchDict, [][]byte{[]byte(`{"who":"alice","ts":"2024-05-06T08:00:00Z","n":{"x":1}}`)})
}
