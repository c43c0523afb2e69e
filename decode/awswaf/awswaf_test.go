package awswaf

import (
	"bufio"
	"errors"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

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
			file: "block_sqli.json", time: "2024-05-06T08:00:00.123Z",
			common: map[string]string{
				"event.action": "block", "event.outcome": "failure", "event.category": "web", "source.ip": "198.51.100.31",
				"url.original": "/products?id=1%20OR%201=1", "url.path": "/products", "url.domain": "shop.example.com",
				"http.request.method": "GET", "http.response.status_code": "403", "user_agent.original": "sqlmap/1.8.4#stable (https://sqlmap.org)",
				"cloud.provider": "aws", "cloud.region": "eu-west-1", "cloud.account.id": "111122223333",
			},
			fields: map[string][]string{
				"terminatingRuleId": {"AWS-AWSManagedRulesSQLiRuleSet"}, "ruleGroupList.terminatingRule.ruleId": {"SQLi_QUERYARGUMENTS"},
				"httpRequest.header.user-agent": {"sqlmap/1.8.4#stable (https://sqlmap.org)"}, "httpRequest.header.host": {"shop.example.com"},
				"httpRequest.headers.name": {"Host", "User-Agent", "Accept"}, "terminatingRuleMatchDetails.matchedData": {"1", "OR", "1=1"},
				"labels.name": {"awswaf:managed:aws:sql-database:SQLi_QueryArguments"}, "timestamp": {"1714982400123"},
			},
			absent: []string{"ruleGroupList.excludedRules", "requestHeadersInserted"},
		},
		{
			file: "allow_count.json", time: "2024-05-06T08:01:00Z",
			common: map[string]string{
				"event.action": "allow", "event.outcome": "success", "source.ip": "2001:db8:ff::20", "url.original": "/upload",
				"url.domain": "cdn.example.com", "http.response.status_code": "", "cloud.region": "us-east-1",
			},
			fields: map[string][]string{
				"httpRequest.header.x-forwarded-for": {"203.0.113.5", "10.0.0.1"}, "ruleGroupList.nonTerminatingMatchingRules.action": {"COUNT"},
			},
			absent: []string{"httpRequest.header.X-Forwarded-For"},
		},
		{
			file: "captcha_iso_time.json", time: "2024-05-06T08:05:00Z",
			common: map[string]string{"event.action": "captcha", "event.outcome": "unknown", "source.ip": "192.0.2.200", "url.domain": "", "cloud.account.id": "444455556666"},
			fields: map[string][]string{"captchaResponse.failureReason": {"TOKEN_MISSING"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decodeFile(t, tt.file, event.NewOpenDict())
			if want := (event.Logsource{Product: "aws", Service: "waf"}); ev.Logsource != want {
				t.Errorf("logsource %+v", ev.Logsource)
			}
			want, _ := time.Parse(time.RFC3339Nano, tt.time)
			if !ev.Time.Equal(want) {
				t.Errorf("time %v, want %v", ev.Time, want)
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

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{`{"action":"BLOCK"`, "", "invalid JSON", 16},
		{`[]`, "", "want an object", 0},
		{`{"action":"BLOCK","timestamp":"12"}`, "timestamp", "unreadable time", -1},
		{`{"timestamp":true}`, "timestamp", "unreadable time", -1},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().Decode([]byte(tt.rec), &ev)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v", tt.rec, err)
			continue
		}
		if de.Field != tt.field || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%s: got %v (offset %d field %q)", tt.rec, de, de.Offset, de.Field)
		}
	}
}

// TestPanther decodes every WAF event of Panther's rule tests (none is
// malformed) and checks the mapping against the record.
func TestPanther(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "web", "aws_waf", "panther_rule_tests.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared data not available (%v)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var p fastjson.Parser
	d := New()
	dict := event.NewOpenDict()
	n := 0
	for sc.Scan() {
		n++
		line, err := p.ParseBytes(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		rec := line.Get("event").MarshalTo(nil)
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			t.Errorf("record %d: %v", n, err)
			continue
		}
		e := line.Get("event")
		if ip := string(e.GetStringBytes("httpRequest", "clientIp")); ev.Common[event.SourceIP] != ip {
			t.Errorf("record %d: source.ip %q, want %q", n, ev.Common[event.SourceIP], ip)
		}
		if a := strings.ToLower(string(e.GetStringBytes("action"))); ev.Common[event.EventAction] != a {
			t.Errorf("record %d: event.action %q, want %q", n, ev.Common[event.EventAction], a)
		}
		if uri := string(e.GetStringBytes("httpRequest", "uri")); ev.Common[event.URLOriginal] != uri {
			t.Errorf("record %d: url.original %q, want %q", n, ev.Common[event.URLOriginal], uri)
		}
		if ev.Time.IsZero() || ev.Common[event.CloudAccountID] != "123456789012" {
			t.Errorf("record %d: time %v account %q", n, ev.Time, ev.Common[event.CloudAccountID])
		}
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("record %d: sniffed as %q", n, f)
		}
	}
	if n != 27 {
		t.Errorf("%d records, want 27", n)
	}
}

func TestSniff(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		rec, _ := os.ReadFile(file)
		if f, score := decode.Sniff(rec); f != Format {
			t.Errorf("%s: sniffed as %q (%d)", file, f, score)
		}
	}
	if s := Sniff([]byte(`{"action":"ALLOW","uri":"/"}`)); s != 0 {
		t.Errorf("score %d", s)
	}
}

var benchDict = event.NewDict("terminatingRuleId", "action", "httpRequest.uri", "httpRequest.args", "httpRequest.header.user-agent", "ruleGroupList.terminatingRule.ruleId")

func TestZeroAllocs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		rec, _ := os.ReadFile(file)
		d := New()
		var ev event.Event
		ev.Fields.Bind(benchDict)
		if a := testing.AllocsPerRun(100, func() {
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
	recs := dectest.Fixtures(b, "*.json")
	dectest.BenchDecode(b, New(), benchDict, recs)
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
	f.Add([]byte(`{"webaclId":"arn:a:b:c","httpRequest":{"headers":[{"value":"x"},{"name":"HOST"},{"name":1,"value":null}]}}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		Sniff(rec)
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			if de.Offset > len(rec) {
				t.Fatalf("offset %d beyond %d bytes", de.Offset, len(rec))
			}
			return
		}
		if ev.Logsource.Product != "aws" || ev.Common[event.CloudProvider] != "aws" {
			t.Fatalf("logsource %+v", ev.Logsource)
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
