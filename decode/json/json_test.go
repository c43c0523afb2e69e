package json

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

func decodeFile(t testing.TB, name string, dict *event.Dict) *event.Event {
	t.Helper()
	rec, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	ev.Fields.Bind(dict)
	if err := New().Decode(rec, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &ev
}

func values(ev *event.Event, name string) []string {
	id, ok := ev.Fields.Dict().ID(name)
	if !ok {
		return nil
	}
	var vs []string
	ev.Fields.Each(id, func(v string) bool { vs = append(vs, v); return true })
	return vs
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file   string
		time   string
		common map[string]string
		fields map[string][]string
		absent []string
	}{
		{
			file: "ecs_nested.json", time: "2024-05-06T08:00:00.123Z",
			common: map[string]string{
				"event.action": "user-login", "event.outcome": "failure", "event.category": "authentication",
				"source.ip": "203.0.113.9", "source.port": "40222", "user.name": "alice", "host.name": "web-01",
				"message": "login failed for alice",
			},
			fields: map[string][]string{
				"event.category": {"authentication", "iam"}, "source.geo.country_iso_code": {"NL"}, "labels.env": {"prod"},
				"tags": {"vpn", "mfa"}, "retry": {"false"}, "score": {"1.50"}, "@timestamp": {"2024-05-06T08:00:00.123Z"},
			},
			absent: []string{"empty", "none", "gone", "source", "tags.1"},
		},
		{
			file: "ecs_dotted.json", time: "2024-05-06T07:15:00Z",
			common: map[string]string{
				"source.ip": "198.51.100.1", "destination.ip": "192.0.2.7", "destination.port": "443",
				"url.original": "https://example.org/login?next=%2F", "http.request.method": "POST",
				"http.response.status_code": "401", "user_agent.original": "curl/8.5.0", "event.action": "http-request",
			},
			fields: map[string][]string{"http.response.status_code": {"401"}},
		},
		{
			file: "app_epoch_ms.json", time: "2024-05-06T08:00:00.123Z",
			fields: map[string][]string{
				"msg": {"quota \"exceeded\"\tfor tenanté"}, "tenant.id": {"42"}, "tenant.plan.name": {"pro"},
				"tenant.plan.seats": {"5", "10"}, "keys.a.b": {"dotted key"}, "keys.": {"empty key"}, "time": {"1714982400123"},
			},
		},
		{
			// "time" holds a duration: eventTime, the next best, is taken.
			file: "event_time.json", time: "2024-05-06T10:00:00Z",
			fields: map[string][]string{"detail.eventName": {"x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decodeFile(t, tt.file, event.NewOpenDict())
			want, _ := time.Parse(time.RFC3339Nano, tt.time)
			if !ev.Time.Equal(want) {
				t.Errorf("time %v, want %v", ev.Time, want)
			}
			if !ev.Logsource.IsZero() {
				t.Errorf("logsource %+v, want none", ev.Logsource)
			}
			for name, w := range tt.common {
				id, _ := event.CommonID(name)
				if got := ev.Common[id]; got != w {
					t.Errorf("%s = %q, want %q", name, got, w)
				}
			}
			for name, w := range tt.fields {
				if got := values(ev, name); strings.Join(got, "\x00") != strings.Join(w, "\x00") {
					t.Errorf("field %s = %q, want %q", name, got, w)
				}
			}
			for _, name := range tt.absent {
				if got := values(ev, name); got != nil {
					t.Errorf("field %s = %q, want absent", name, got)
				}
			}
		})
	}
}

func TestCommonIndependentOfDict(t *testing.T) {
	ev := decodeFile(t, "ecs_nested.json", event.NewDict("labels.env"))
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
	for _, tt := range []struct {
		rec, reason string
		offset      int
	}{
		{`{"a":1,}`, "invalid JSON", 7},
		{`{"a":tru}`, "invalid JSON", 8},
		{`{"a":"unterminated`, "invalid JSON", 17},
		{``, "invalid JSON", 0},
		{`  [1,2]`, "JSON array, want an object", 2},
		{`42`, "JSON number, want an object", 0},
		{`{"a":1} {"b":2}`, "invalid JSON", 8},
		{strings.Repeat("[", 400) + strings.Repeat("]", 400), "invalid JSON", -1},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().Decode([]byte(tt.rec), &ev)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%.20q: err = %v, want *decode.Error", tt.rec, err)
			continue
		}
		if de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%.20q: got %v (offset %d), want offset %d reason ~%q", tt.rec, de, de.Offset, tt.offset, tt.reason)
		}
	}
}

var benchDict = event.NewDict("event.action", "source.ip", "user.name", "tenant.plan.name", "msg", "labels.env", "tags", "url.original")

func TestZeroAllocs(t *testing.T) {
	for _, file := range []string{"ecs_nested.json", "ecs_dotted.json", "app_epoch_ms.json"} {
		rec, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		d := New()
		var ev event.Event
		ev.Fields.Bind(benchDict)
		if a := testing.AllocsPerRun(200, func() {
			ev.Reset()
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %.1f allocs per record, want 0", file, a)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	var recs [][]byte
	size := 0
	for _, f := range files {
		r, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
		size += len(r)
	}
	d := New()
	var ev event.Event
	ev.Fields.Bind(benchDict)
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		if err := d.Decode(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"time":"2024-02-30T00:00:00+14:59","@timestamp":9999999999999999999,"a":[[[{"b":NaN}]]]}`))
	f.Add([]byte(`{"\u0000":"\ud800","k\"":"\\"}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			if de.Offset > len(rec) {
				t.Fatalf("offset %d beyond the record's %d bytes", de.Offset, len(rec))
			}
			return
		}
		if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", ev.Time)
		}
	})
}

func TestRegistered(t *testing.T) {
	d, err := decode.New(Format)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*Decoder); !ok {
		t.Errorf("decode.New(%q) gave a %T", Format, d)
	}
}

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
