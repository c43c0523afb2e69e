package web

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

func TestSteps(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Block the address.", []string{"Block the address."}},
		{"1. Block it.\n2) Reset the password.\n\n- Review 2FA logs", []string{"Block it.", "Reset the password.", "Review 2FA logs"}},
		{"* one\n• two", []string{"one", "two"}},
		// A number that is no list mark stays.
		{"10.0.0.1 is the scanner", []string{"10.0.0.1 is the scanner"}},
	} {
		if got := steps(c.in); !slices.Equal(got, c.want) {
			t.Errorf("steps(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestShortEntities(t *testing.T) {
	es := []alert.Entity{{Type: "ip", Value: "10.0.0.1"}, {Type: "host", Value: "web-1"}, {Type: "account", Value: "root"}, {Type: "account", Value: "bob"}}
	if got, want := shortEntities(es), "10.0.0.1, web-1 +2"; got != want {
		t.Errorf("shortEntities = %q, want %q", got, want)
	}
	if got := shortEntities(es[:1]); got != "10.0.0.1" {
		t.Errorf("shortEntities of one = %q", got)
	}
	long := alert.Entity{Type: "url", Value: "/äöüabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"}
	got := shortEntities([]alert.Entity{long})
	if r := []rune(got); len(r) != 40 || r[39] != '…' {
		t.Errorf("a long value is cut to %q (%d runes), want 40 runes ending in …", got, len(r))
	}
}

func TestParseFormTime(t *testing.T) {
	want := time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)
	for _, v := range []string{"2026-11-26T14:05", "2026-11-26T14:05:00Z", "2026-11-26T15:05:00+01:00"} {
		got, ok := parseFormTime(v)
		if !ok || !got.Equal(want) {
			t.Errorf("parseFormTime(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "yesterday", "2026-11-26"} {
		if _, ok := parseFormTime(v); ok {
			t.Errorf("parseFormTime(%q) read a time", v)
		}
	}
}

func TestFlattenAndSummary(t *testing.T) {
	ev := map[string]any{"id": "x", "workspace": "w", "source": "auth", "@timestamp": "2026-11-26T14:05:00Z",
		"source.ip": "10.0.0.1", "logsource": map[string]any{"product": "linux"},
		"event.action": "logon", "event.outcome": "failure",
		"fields": map[string]any{"port": float64(22), "user": "root", "tags": []any{"a", "b"}}}
	got, own := flatten(ev)
	want := [][2]string{{"@timestamp", "2026-11-26T14:05:00Z"}, {"event.action", "logon"}, {"event.outcome", "failure"},
		{"logsource.product", "linux"}, {"source", "auth"}, {"source.ip", "10.0.0.1"}}
	wantOwn := [][2]string{{"port", "22"}, {"tags", `["a","b"]`}, {"user", "root"}}
	if !slices.Equal(got, want) || !slices.Equal(own, wantOwn) {
		t.Errorf("flatten =\n%q\n%q\nwant\n%q\n%q", got, own, want, wantOwn)
	}
	if s := summary(got); s != "logon (failure)" {
		t.Errorf("summary = %q, want logon (failure)", s)
	}
	if s := summary(append(got, [2]string{"message", "Failed password for root"})); s != "Failed password for root" {
		t.Errorf("summary with a message = %q", s)
	}
}

func TestSameStatuses(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{{"new,active", true}, {"active, new", true}, {"new,active,", true}, {"new", false}, {"new,active,resolved", false}, {"new,resolved", false}} {
		if got := sameStatuses(c.v, "new", "active"); got != c.want {
			t.Errorf("sameStatuses(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
