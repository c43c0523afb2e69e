package jsonrecord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestDecodeFixtures(t *testing.T) {
	tests := []dectest.Case{
		{
			File: "ecs_nested.json", Time: "2024-05-06T08:00:00.123Z",
			Common: map[string]string{
				"event.action": "user-login", "event.outcome": "failure", "event.category": "authentication",
				"source.ip": "203.0.113.9", "source.port": "40222", "user.name": "alice", "host.name": "web-01",
				"message": "login failed for alice",
			},
			Fields: map[string][]string{
				"event.category": {"authentication", "iam"}, "source.geo.country_iso_code": {"NL"}, "labels.env": {"prod"},
				"tags": {"vpn", "mfa"}, "retry": {"false"}, "score": {"1.50"}, "@timestamp": {"2024-05-06T08:00:00.123Z"},
			},
			Absent: []string{"empty", "none", "gone", "source", "tags.1"},
		},
		{
			File: "ecs_dotted.json", Time: "2024-05-06T07:15:00Z",
			Common: map[string]string{
				"source.ip": "198.51.100.1", "destination.ip": "192.0.2.7", "destination.port": "443",
				"url.original": "https://example.org/login?next=%2F", "http.request.method": "POST",
				"http.response.status_code": "401", "user_agent.original": "curl/8.5.0", "event.action": "http-request",
			},
			Fields: map[string][]string{"http.response.status_code": {"401"}},
		},
		{
			File: "app_epoch_ms.json", Time: "2024-05-06T08:00:00.123Z",
			Fields: map[string][]string{
				"msg": {"quota \"exceeded\"\tfor tenanté"}, "tenant.id": {"42"}, "tenant.plan.name": {"pro"},
				"tenant.plan.seats": {"5", "10"}, "keys.a.b": {"dotted key"}, "keys.": {"empty key"}, "time": {"1714982400123"},
			},
		},
		{
			// "time" holds a duration: eventTime, the next best, is taken.
			File: "event_time.json", Time: "2024-05-06T10:00:00Z",
			Fields: map[string][]string{"detail.eventName": {"x"}},
		},
	}
	dectest.CheckFixtures(t, New, event.Logsource{}, tests)
}

func TestCommonIndependentOfDict(t *testing.T) {
	ev := dectest.DecodeFile(t, New(), "ecs_nested.json", event.NewDict("labels.env"))
	if ev.Fields.Len() != 1 {
		t.Errorf("%d fields stored, want 1", ev.Fields.Len())
	}
	if ev.Common[event.UserName] != "alice" || ev.Time.IsZero() {
		t.Errorf("user.name %q, time %v: the ECS mapping must not depend on the Dict", ev.Common[event.UserName], ev.Time)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-05-06T08:00:00Z":           "2024-05-06T08:00:00Z",
		"2024-05-06t08:00:00z":           "2024-05-06T08:00:00Z",
		"2024-05-06T08:00:00.123456789Z": "2024-05-06T08:00:00.123456789Z",
		"2024-05-06 08:00:00.796":        "2024-05-06T08:00:00.796Z",
		"2024-05-06 08:00:00,5":          "2024-05-06T08:00:00.5Z",
		"2024-05-06T08:00:00+02:00":      "2024-05-06T06:00:00Z",
		"2024-05-06T08:00:00-0530":       "2024-05-06T13:30:00Z",
		"2024-05-06T08:00:00+02":         "2024-05-06T06:00:00Z",
		"2024-05-06 08:00:00 UTC":        "2024-05-06T08:00:00Z",
		"2024-05-06T08:00Z":              "2024-05-06T08:00:00Z",
		"2024-05-06":                     "2024-05-06T00:00:00Z",
		"2024-02-29T00:00:00Z":           "2024-02-29T00:00:00Z",
		"1714982400":                     "2024-05-06T08:00:00Z",
		"1714982400.25":                  "2024-05-06T08:00:00.25Z",
		"1714982400123":                  "2024-05-06T08:00:00.123Z",
		"1714982400123456":               "2024-05-06T08:00:00.123456Z",
		"1714982400123456789":            "2024-05-06T08:00:00.123456789Z",
	} {
		got, ok := ParseTime(in)
		w, _ := time.Parse(time.RFC3339Nano, want)
		if !ok || !got.Equal(w) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, ok, w)
		}
	}
	for _, in := range []string{
		"", "0.25", "42", "12345678", "yesterday", "2024-13-01", "2024-02-30", "2023-02-29T00:00:00Z",
		"2024-05-06T25:00:00Z", "2024-05-06T08:60:00Z", "2024-05-06T08:00:00.Z", "2024-05-06T08:00:00+2",
		"2024-05-06T08:00:00 PST", "2024-05-06X08:00:00", "1714982400123.5", "17149824001234567890", "1714982400.",
	} {
		if got, ok := ParseTime(in); ok {
			t.Errorf("ParseTime(%q) = %v, want failure", in, got)
		}
	}
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"a":1,}`, Reason: "invalid JSON", Offset: 7},
		{Rec: `{"a":tru}`, Reason: "invalid JSON", Offset: 8},
		{Rec: `{"a":"unterminated`, Reason: "invalid JSON", Offset: 17},
		{Rec: ``, Reason: "invalid JSON"},
		{Rec: `  [1,2]`, Reason: "JSON array, want an object", Offset: 2},
		{Rec: `42`, Reason: "JSON number, want an object"},
		{Rec: `{"a":1} {"b":2}`, Reason: "invalid JSON", Offset: 8},
		{Rec: strings.Repeat("[", 400) + strings.Repeat("]", 400), Reason: "invalid JSON", Offset: -1},
	})
}

var benchDict = event.NewDict("event.action", "source.ip", "user.name", "tenant.plan.name", "msg", "labels.env", "tags", "url.original")

func TestZeroAllocs(t *testing.T) {
	var recs [][]byte
	for _, file := range []string{"ecs_nested.json", "ecs_dotted.json", "app_epoch_ms.json"} {
		recs = append(recs, dectest.Fixtures(t, file)...)
	}
	dectest.ZeroAllocs(t, New(), benchDict, recs)
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecode(b, New(), benchDict, dectest.Fixtures(b, "*.json"))
}

func FuzzDecode(f *testing.F) {
	for _, rec := range dectest.Fixtures(f, "*.json") {
		f.Add(rec)
	}
	f.Add([]byte(`{"time":"2024-02-30T00:00:00+14:59","@timestamp":9999999999999999999,"a":[[[{"b":NaN}]]]}`))
	f.Add([]byte(`{"\u0000":"\ud800","k\"":"\\"}`))
	dectest.Fuzz(f, New(), nil, time.Time{}, func(t *testing.T, ev *event.Event) {
		if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", ev.Time)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }

// TestTimeGenerated reads Log Analytics exports' time column (a Syslog
// table row of the Log4Shell scenario), after the other names.
func TestTimeGenerated(t *testing.T) {
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	rec := `{"TimeGenerated":"2022-05-11T18:10:21.997Z","Computer":"UBUNTU5","Facility":"user","SyslogMessage":"type=AUOMS_EXECVE …"}`
	if err := New().Decode([]byte(rec), &ev); err != nil || ev.Time.Format(time.RFC3339Nano) != "2022-05-11T18:10:21.997Z" {
		t.Errorf("time %v, %v", ev.Time, err)
	}
	ev.Reset()
	if err := New().Decode([]byte(`{"TimeGenerated":"2022-05-11T18:10:21Z","time":"2024-01-01T00:00:00Z"}`), &ev); err != nil || ev.Time.Year() != 2024 {
		t.Errorf("time wins over TimeGenerated: %v, %v", ev.Time, err)
	}
}
