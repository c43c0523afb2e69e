package store

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

func TestJoins(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	open := &alert.Alert{Status: alert.StatusNew, LastSeen: t0}
	at := func(d time.Duration, window time.Duration) alert.Signal {
		return alert.Signal{Evidence: alert.Evidence{Time: t0.Add(d)}, Window: window}
	}
	for _, tc := range []struct {
		name string
		a    *alert.Alert
		s    alert.Signal
		want bool
	}{
		{"no open alert", nil, at(time.Minute, 0), false},
		{"within the window", open, at(time.Hour, 0), true},
		{"at the window's edge", open, at(24*time.Hour, 0), true},
		{"past the window", open, at(24*time.Hour+time.Second, 0), false},
		{"earlier than the alert", open, at(-time.Hour, 0), true},
		{"the rule's own window, shorter", open, at(2*time.Hour, time.Hour), false},
		{"the rule's own window, longer", open, at(48*time.Hour, 72*time.Hour), true},
		{"resolved", &alert.Alert{Status: alert.StatusResolved, LastSeen: t0}, at(time.Minute, 0), false},
		{"active", &alert.Alert{Status: alert.StatusActive, LastSeen: t0}, at(time.Minute, 0), true},
	} {
		if got := Joins(tc.a, tc.s, 24*time.Hour); got != tc.want {
			t.Errorf("%s: Joins = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSignalOf(t *testing.T) {
	b := &Batch{Workspace: "acme", Received: time.Unix(100, 0)}
	ents := []alert.Entity{{Type: alert.EntityHost, Value: "h"}}
	s := SignalOf(alert.Signal{Workspace: "other", Rule: alert.RuleRef{ID: "r"}, Entities: ents}, b)
	if s.Workspace != "acme" || !s.Evidence.Time.Equal(b.Received) || s.DedupKey != alert.DedupKey("acme", "r", ents) {
		t.Errorf("SignalOf: %+v", s)
	}
	s = SignalOf(alert.Signal{DedupKey: "k", Evidence: alert.Evidence{Time: time.Unix(5, 0)}}, b)
	if s.DedupKey != "k" || !s.Evidence.Time.Equal(time.Unix(5, 0)) {
		t.Errorf("SignalOf changed what was set: %+v", s)
	}
}

func TestCheckBatch(t *testing.T) {
	good := func() *Batch {
		return &Batch{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json",
			Events:  []StoredEvent{{ID: event.NewID(), Workspace: "acme"}},
			Signals: []alert.Signal{{Rule: alert.RuleRef{ID: "r"}, Severity: alert.High}}}
	}
	if err := CheckBatch(good()); err != nil {
		t.Fatalf("a good batch: %v", err)
	}
	for name, spoil := range map[string]func(*Batch){
		"no id":             func(b *Batch) { b.ID = event.ID{} },
		"no source":         func(b *Batch) { b.Source = "" },
		"negative rejected": func(b *Batch) { b.Rejected = -1 },
		"foreign event":     func(b *Batch) { b.Events[0].Workspace = "beta" },
		"event without id":  func(b *Batch) { b.Events[0].ID = event.ID{} },
		"foreign signal":    func(b *Batch) { b.Signals[0].Workspace = "beta" },
		"no rule":           func(b *Batch) { b.Signals[0].Rule.ID = "" },
		"severity":          func(b *Batch) { b.Signals[0].Severity = alert.Critical + 1 },
	} {
		b := good()
		spoil(b)
		if err := CheckBatch(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if err := CheckBatch(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil batch: %v", err)
	}
}

func TestCursor(t *testing.T) {
	c := Cursor{N: -5, M: 999, S: "a|b"}
	got, err := DecodeCursor(EncodeCursor("alert", c), "alert")
	if err != nil || got != c {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	if _, err := DecodeCursor(EncodeCursor("alert", c), "event"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a cursor of another kind: %v", err)
	}
	for _, bad := range []string{"!!", EncodeCursor("alert", c)[:3], "YWxlcnR8eHwxfA"} {
		if _, err := DecodeCursor(bad, "alert"); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeCursor(%q): %v", bad, err)
		}
	}
	if PageLimit(0) != 100 || PageLimit(5000) != 1000 || PageLimit(7) != 7 {
		t.Error("PageLimit")
	}
}

func TestQueryEntities(t *testing.T) {
	vals, folded, err := QueryEntities([]string{"Web1", "web1", "-", "WEB1"})
	if err != nil || len(vals) != 3 || len(folded) != 1 || folded[0] != "web1" {
		t.Errorf("QueryEntities: %+v %v %v", vals, folded, err)
	}
	vals, _, _ = QueryEntities([]string{"-", ""})
	e := StoredEvent{}
	e.Common[event.HostName] = "-"
	if len(vals) != 1 || e.HasAnyEntity(vals) {
		t.Errorf("placeholders only: %+v must match nothing", vals)
	}
	e.Common[event.HostName] = "WEB1"
	if !e.HasEntity(NewEntityValue("web1")) || e.HasEntity(NewEntityValue("web2")) {
		t.Error("HasEntity on a host name ignores case")
	}
	e.Common[event.FilePath] = "/tmp/A"
	if e.HasEntity(NewEntityValue("/tmp/a")) {
		t.Error("a Unix path compares exactly")
	}
	if _, _, err := QueryEntities(make([]string, MaxEventEntities+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("too many: %v", err)
	}
}
