package vmconnection

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// Rows written from the table's schema (Azure Monitor reference,
// VMConnection), as a Log Analytics export gives them: numbers as
// strings, one object a line.
const (
	outbound = `{"TimeGenerated":"2026-11-30T10:15:00.412Z","Computer":"app-07","Direction":"outbound","ProcessName":"java","SourceIp":"10.1.4.7","DestinationIp":"203.0.113.9","DestinationPort":"1389","Protocol":"tcp","RemoteIp":"203.0.113.9","BytesSent":"129","BytesReceived":"196","LinksEstablished":"1","LinksTerminated":"1","LinksFailed":"0","LinksLive":"0","Responses":"2","ResponseTimeSum":"94","ConnectionId":"9F1C0A7E","Machine":"m-3d1c","Process":"p-77a0","RemoteCountry":"","MaliciousIp":"","Type":"VMConnection","_ResourceId":"/subscriptions/x/resourcegroups/rg/providers/microsoft.compute/virtualmachines/app-07"}`
	inbound  = `{"TimeGenerated":"2026-11-30T10:14:00Z","Computer":"app-07","Direction":"inbound","ProcessName":"java","SourceIp":"203.0.113.9","DestinationIp":"10.1.4.7","DestinationPort":"8080","Protocol":"tcp","RemoteIp":"203.0.113.9","LinksEstablished":1,"LinksFailed":0,"Type":"VMConnection"}`
	refused  = `{"TimeGenerated":"2026-11-30T10:16:00Z","Computer":"app-07","Direction":"outbound","ProcessName":"curl","SourceIp":"10.1.4.7","DestinationIp":"198.51.100.3","DestinationPort":"443","Protocol":"tcp","RemoteIp":"198.51.100.3","LinksEstablished":"0","LinksFailed":"3","MaliciousIp":null}`
)

func decodeRow(t *testing.T, row string) *event.Event {
	t.Helper()
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := New().Decode([]byte(row), &ev); err != nil {
		t.Fatalf("%.80q: %v", row, err)
	}
	return &ev
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		row  string
		want map[string]string
		time time.Time
	}{
		{outbound, map[string]string{
			"host.name": "app-07", "process.name": "java", "source.ip": "10.1.4.7", "destination.ip": "203.0.113.9",
			"destination.port": "1389", "network.transport": "tcp", "event.action": "outbound", "event.outcome": "success",
			"event.category": "network", "RemoteIp": "203.0.113.9", "Direction": "outbound", "BytesSent": "129", "ConnectionId": "9F1C0A7E",
		}, time.Date(2026, 11, 30, 10, 15, 0, 412e6, time.UTC)},
		// numbers as JSON numbers; the remote address is the source
		{inbound, map[string]string{
			"source.ip": "203.0.113.9", "destination.ip": "10.1.4.7", "destination.port": "8080", "event.action": "inbound",
			"event.outcome": "success", "LinksEstablished": "1",
		}, time.Date(2026, 11, 30, 10, 14, 0, 0, time.UTC)},
		// every link failed; a null column is no field
		{refused, map[string]string{"event.outcome": "failure", "process.name": "curl", "LinksFailed": "3"}, time.Date(2026, 11, 30, 10, 16, 0, 0, time.UTC)},
	} {
		ev := decodeRow(t, tt.row)
		if ev.Logsource != (event.Logsource{Category: "network_connection", Service: "vmconnection"}) {
			t.Errorf("logsource %+v", ev.Logsource)
		}
		if !ev.Time.Equal(tt.time) {
			t.Errorf("time %v, want %v", ev.Time, tt.time)
		}
		for k, v := range tt.want {
			if got, _ := ev.Get(k); got != v {
				t.Errorf("%.40q: %s = %q, want %q", tt.row, k, got, v)
			}
		}
		if _, ok := ev.Get("MaliciousIp"); ok && tt.row == refused {
			t.Errorf("a null column became a field")
		}
	}
}

func TestBad(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: `{"Computer":"h",`, Reason: "invalid JSON", Offset: 16},
		{Rec: `["x"]`, Reason: "invalid JSON"},
		{Rec: `{"Computer":"h","Direction":"outbound"}`, Field: "SourceIp", Reason: "not a VMConnection row"},
		{Rec: `{"SourceIp":"10.0.0.1","DestinationIp":"10.0.0.2"}`, Field: "TimeGenerated", Reason: "not a VMConnection row"},
		{Rec: `{"SourceIp":"10.0.0.1","TimeGenerated":"soon"}`, Field: "TimeGenerated", Reason: "unreadable time", Offset: -1},
	})
}

func TestSniff(t *testing.T) {
	for rec, want := range map[string]int{
		outbound: 95,
		inbound:  95,
		refused:  80, // no Type column: the connection columns
		`{"Direction":"outbound","RemoteIp":"198.51.100.3"}`:                     0,
		`{"event":{"Type":"VMConnection","Direction":"inbound","RemoteIp":"x"}}`: 0,
		`{"SyslogMessage":"x","Type":"Syslog"}`:                                  0,
		`not json`:                                                               0,
	} {
		if got := Sniff([]byte(rec)); got != want {
			t.Errorf("Sniff(%.60q) = %d, want %d", rec, got, want)
		}
	}
	if f, _ := decode.Sniff([]byte(outbound)); f != Format {
		t.Errorf("the registry sniffs a VMConnection row as %q", f)
	}
}

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), event.NewDict("DestinationPort", "ProcessName"), [][]byte{[]byte(outbound), []byte(inbound)})
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{outbound, inbound, refused, `{"SourceIp":"1","TimeGenerated":"2026-01-01T00:00:00Z"}`, `{"Type":"VMConnection"}`, `{`} {
		f.Add([]byte(s))
	}
	dectest.Fuzz(f, New(), Sniff, time.Time{}, func(t *testing.T, ev *event.Event) {
		if ev.Time.IsZero() {
			t.Errorf("an event without time")
		}
		if ev.Common[event.SourceIP] == "" && ev.Common[event.DestinationIP] == "" {
			t.Errorf("an event without either address")
		}
	})
}
