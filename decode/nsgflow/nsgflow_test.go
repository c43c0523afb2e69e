package nsgflow

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// expandAll expands rec with a new decoder. The events' ids are SubIDs of
// the record's by tuple position, so a record with no bad tuple gives 0,
// 1, 2…
func expandAll(t testing.TB, rec []byte) ([]dectest.Snapshot, error) {
	t.Helper()
	evs, err := dectest.Expand(t, New(), [][]byte{rec})
	for i, e := range evs {
		if err == nil && e.ID != event.SubID(evs[0].ID, i) {
			t.Errorf("event %d: id %v, want SubID(%v, %d)", i, e.ID, evs[0].ID, i)
		}
	}
	return evs, err
}

func TestExpandFixtures(t *testing.T) {
	type tup struct {
		time, src, dst, sport, dport, transport, action, rule, owner, state string
		counts                                                              []string
	}
	tests := []struct {
		file, service, account, ownerField string
		tuples                             []tup
	}{
		{
			file: "nsg_v1_record.json", service: "nsgflowlogs", account: "6C2B9F3E-1A4D-4C8E-9F00-1234567890AB", ownerField: "mac",
			tuples: []tup{
				{"2024-05-06T08:00:01Z", "198.51.100.7", "10.0.1.4", "51529", "445", "tcp", "deny", "DefaultRule_DenyAllInBound", "000D3A1B2C3D", "", nil},
				{"2024-05-06T08:00:10Z", "203.0.113.9", "10.0.1.4", "61771", "3389", "tcp", "allow", "UserRule_allow-rdp", "000D3A1B2C3D", "", nil},
				{"2024-05-06T08:00:15Z", "203.0.113.10", "10.0.1.4", "58596", "3389", "tcp", "allow", "UserRule_allow-rdp", "000D3A1B2C3D", "", nil},
			},
		},
		{
			file: "nsg_v2_record.json", service: "nsgflowlogs", account: "11111111-2222-3333-4444-555555555555", ownerField: "mac",
			tuples: []tup{
				{"2024-05-06T09:00:02Z", "192.0.2.50", "10.5.16.4", "28746", "1433", "udp", "deny", "DefaultRule_DenyAllInBound", "000D3A4E5F60", "B", nil},
				{"2024-05-06T09:00:10Z", "10.5.16.4", "2001:db8::80", "59831", "443", "tcp", "allow", "DefaultRule_AllowInternetOutBound", "000D3A4E5F60", "B", nil},
				{"2024-05-06T09:00:20Z", "10.5.16.4", "2001:db8::80", "59831", "443", "tcp", "allow", "DefaultRule_AllowInternetOutBound", "000D3A4E5F60", "C", []string{"30", "16978", "24", "14008"}},
				{"2024-05-06T09:00:30Z", "10.5.16.4", "2001:db8::80", "59831", "443", "tcp", "allow", "DefaultRule_AllowInternetOutBound", "000D3A4E5F60", "E", []string{"15", "8489", "12", "7054"}},
			},
		},
		{
			file: "vnet_v4_record.json", service: "vnetflowlogs", account: "11111111-2222-3333-4444-555555555555", ownerField: "aclID",
			tuples: []tup{
				{"2024-05-06T10:59:23.718Z", "10.0.0.4", "192.0.2.53", "43652", "53", "udp", "allow", "DefaultRule_AllowInternetOutBound", "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4", "B", []string{"0", "0", "0", "0"}},
				{"2024-05-06T10:59:24.718Z", "10.0.0.4", "192.0.2.53", "43652", "53", "udp", "allow", "DefaultRule_AllowInternetOutBound", "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4", "E", []string{"1", "74", "1", "130"}},
				{"2024-05-06T10:59:25Z", "198.51.100.66", "10.0.0.4", "50022", "22", "tcp", "deny", "UserRule_DenySSH", "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4", "D", []string{"1", "60", "0", "0"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			evs, err := expandAll(t, dectest.Fixtures(t, tt.file)[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(tt.tuples) {
				t.Fatalf("%d events, want %d", len(evs), len(tt.tuples))
			}
			for i, w := range tt.tuples {
				e := evs[i]
				wt, _ := time.Parse(time.RFC3339Nano, w.time)
				if !e.Time.Equal(wt) {
					t.Errorf("tuple %d: time %v, want %v", i, e.Time, wt)
				}
				if e.Logsource != (event.Logsource{Product: "azure", Service: tt.service}) {
					t.Errorf("tuple %d: logsource %+v", i, e.Logsource)
				}
				outcome := map[string]string{"allow": "success", "deny": "failure"}[w.action]
				want := map[string]string{
					"source.ip": w.src, "destination.ip": w.dst, "source.port": w.sport, "destination.port": w.dport,
					"network.transport": w.transport, "event.action": w.action, "event.outcome": outcome, "event.category": "network",
					"cloud.provider": "azure", "cloud.account.id": tt.account,
					"f:rule": w.rule, "f:" + tt.ownerField: w.owner, "f:sourceAddress": w.src, "f:destinationPort": w.dport,
					"f:category": map[bool]string{true: "FlowLogFlowEvent", false: "NetworkSecurityGroupFlowEvent"}[tt.service == "vnetflowlogs"],
				}
				if w.state != "" {
					want["f:flowState"] = w.state
				}
				for j, c := range w.counts {
					want["f:"+fieldNames[fPktsS2D+j]] = c
				}
				for k, v := range want {
					got := e.Common[k]
					if name, ok := strings.CutPrefix(k, "f:"); ok {
						got = e.Field(name)
					}
					if got != v {
						t.Errorf("tuple %d: %s = %q, want %q", i, k, got, v)
					}
				}
				if w.counts == nil && e.Fields["bytesSrcToDst"] != nil {
					t.Errorf("tuple %d: bytesSrcToDst %v, want absent", i, e.Fields["bytesSrcToDst"])
				}
				if !strings.HasPrefix(e.Field("flowTuple"), e.Field("timestamp")+",") {
					t.Errorf("tuple %d: flowTuple %q", i, e.Field("flowTuple"))
				}
			}
		})
	}
}

// countTuples counts the strings in every flowTuples array of v, walking
// the JSON independently of the decoder.
func countTuples(v *fastjson.Value) int {
	n := 0
	switch v.Type() {
	case fastjson.TypeObject:
		v.GetObject().Visit(func(k []byte, c *fastjson.Value) {
			if string(k) == "flowTuples" {
				n += len(c.GetArray())
				return
			}
			n += countTuples(c)
		})
	case fastjson.TypeArray:
		for _, c := range v.GetArray() {
			n += countTuples(c)
		}
	}
	return n
}

// TestSharedData expands every record of the Microsoft documentation and
// OpenTelemetry samples: each must yield exactly as many events as it holds
// flow tuples, with no error.
func TestSharedData(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "network_flow", "azure_nsg")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skipf("shared data not available in %s", dir)
	}
	total := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var p fastjson.Parser
		env, err := p.ParseBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range env.GetArray("records") {
			rec := r.MarshalTo(nil)
			want := countTuples(r)
			evs, err := expandAll(t, rec)
			if err != nil {
				t.Errorf("%s record %d: %v", filepath.Base(file), i, err)
			}
			if len(evs) != want || want == 0 {
				t.Errorf("%s record %d: %d events, want %d flow tuples", filepath.Base(file), i, len(evs), want)
			}
			total += len(evs)
			if f, _ := decode.Sniff(rec); f != Format {
				t.Errorf("%s record %d: sniffed as %q", filepath.Base(file), i, f)
			}
		}
	}
	// v1: 5 + 4 tuples, v2: 7, v4: 2.
	if total != 18 {
		t.Errorf("%d tuples in all, want 18", total)
	}
}

func TestDecodeFirstTuple(t *testing.T) {
	rec, _ := os.ReadFile(filepath.Join("testdata", "vnet_v4_record.json"))
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	ev.ID = event.NewID()
	id := ev.ID
	if err := New().Decode(rec, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != id || ev.Common[event.DestinationPort] != "53" || ev.Time.UnixMilli() != 1714993163718 {
		t.Errorf("Decode gave id %v port %q time %v; want the first tuple", ev.ID, ev.Common[event.DestinationPort], ev.Time)
	}
	ev.Reset()
	if err := New().Decode([]byte(`{"time":"2024-05-06T00:00:00Z","resourceId":"/subscriptions/abc/x","properties":{"Version":2,"flows":[]}}`), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Common[event.CloudAccountID] != "abc" || ev.Time.IsZero() || ev.Common[event.SourceIP] != "" {
		t.Errorf("record without tuples: %+v", ev.Common)
	}
}

func TestBadInput(t *testing.T) {
	const head = `{"time":"2024-05-06T00:00:00Z","properties":{"Version":2,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":[`
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
		good               int // events emitted despite the fault
	}{
		{`{"properties":`, "", "invalid JSON", 13, 0},
		{`"x"`, "", "want an object", 0, 0},
		{`{"time":"2024-05-06T00:00:00Z","properties":{"Version":1}}`, "properties.flows", "no flows array", -1, 0},
		{`{"time":"noon","properties":{"flows":[]}}`, "time", "unreadable time", -1, 0},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,2,T,I,A","1714982401,1.2.3.999,10.0.0.1,1,2,T,I,A","1714982402,1.2.3.4,10.0.0.1,1,2,T,I,A"]}]}]}}`,
			"flowTuples", "flow tuple 2: bad IP address", len(head) + 52, 2},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,70000,T,I,A"]}]}]}}`, "flowTuples", "flow tuple 1: bad port", len(head) + 1 + 30, 0},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,2,X,I,A"]}]}]}}`, "flowTuples", "bad protocol", len(head) + 1 + 32, 0},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,2,T,X,A"]}]}]}}`, "flowTuples", "bad direction", len(head) + 1 + 34, 0},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,2,T,I,Q"]}]}]}}`, "flowTuples", "bad decision", len(head) + 1 + 36, 0},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,2,T,I,A,Z,,,,"]}]}]}}`, "flowTuples", "bad flow state", len(head) + 1 + 38, 0},
		{head + `"1714982401,1.2.3.4,10.0.0.1,1,2,T,I,A,C,1,x,1,1"]}]}]}}`, "flowTuples", "bad packet or byte count", len(head) + 1 + 42, 0},
		{head + `"1714982401,1.2.3.4"]}]}]}}`, "flowTuples", "has 2 parts", len(head) + 1, 0},
		{head + `"now,1.2.3.4,10.0.0.1,1,2,T,I,A"]}]}]}}`, "flowTuples", "bad time stamp", len(head) + 1, 0},
		{head + `7,"1714982401,1.2.3.4,10.0.0.1,1,2,T,I,A"]}]}]}}`, "flowTuples", "flow tuple 1 is not a string", -1, 1},
	} {
		good, err := dectest.Expand(t, New(), [][]byte{[]byte(tt.rec)})
		dectest.WantError(t, tt.rec, err, decode.Error{Format: Format, Offset: tt.offset, Field: tt.field, Reason: tt.reason})
		if len(good) != tt.good {
			t.Errorf("%.80s: %d good events, want %d", tt.rec, len(good), tt.good)
		}
	}
}

func TestSniff(t *testing.T) {
	dectest.Sniffed(t, Format, dectest.Fixtures(t, "*.json"))
	if s := Sniff([]byte(`{"operationName":"x","resourceId":"y"}`)); s != 0 {
		t.Errorf("activity record scored %d", s)
	}
}

var benchDict = event.NewDict("rule", "trafficDecision", "destinationPort", "category", "bytesSrcToDst")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocs(t, New(), benchDict, dectest.Fixtures(t, "*.json"))
}

// BenchmarkDecode expands the fixtures and reports flow tuples a second.
func BenchmarkDecode(b *testing.B) {
	dectest.BenchExpand(b, New().(decode.Expander), benchDict, dectest.Fixtures(b, "*.json"), "tuples")
}

func FuzzDecode(f *testing.F) {
	for _, rec := range dectest.Fixtures(f, "*.json") {
		f.Add(rec)
	}
	f.Add([]byte(`{"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":["1,::1,::2,,,255,O,D,X,,,,"]}]}]}}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		Sniff(rec)
		var ev event.Event
		ev.Fields.Bind(dict)
		dectest.Refused(t, rec, d.(decode.Expander).Expand(rec, &ev, func(e *event.Event) {
			if e.Common[event.SourceIP] == "" || e.Logsource.Product != "azure" {
				t.Fatalf("event without source: %+v", e.Common)
			}
		}))
		ev.Reset()
		dectest.Refused(t, rec, d.Decode(rec, &ev))
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[decode.Expander](t, Format) }

// TestFlattened decodes records some collectors forward one tuple a record
// (Sekoia's network-watcher samples): the group's rule and aclID at the
// top, the tuple under flow.0, flowLogVersion 4 (VNet: milliseconds, IANA
// protocol numbers).
func TestFlattened(t *testing.T) {
	rec := []byte(`{"time":"2025-04-30T09:07:40.986182+00:00","flowLogVersion":4,"flowLogGUID":"g","macAddress":"112233445566","operationName":"FlowLogFlowEvent","aclID":"acl2","rule":"BlockHighRiskTCPPortsFromInternet","flow.0":"1663146005503,2.3.4.5,1.2.3.4,35276,119,6,I,D,NX,0,0,0,0"}`)
	if f, _ := decode.Sniff(rec); f != Format {
		t.Errorf("sniffed as %q", f)
	}
	dict := event.NewOpenDict()
	evs, err := expandAll(t, rec)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	var ev event.Event
	ev.Fields.Bind(dict)
	if err := New().Decode(rec, &ev); err != nil {
		t.Fatal(err)
	}
	get := func(n string) string { id, _ := dict.ID(n); v, _ := ev.Fields.Get(id); return v }
	if ev.Time.UnixMilli() != 1663146005503 || ev.Common[event.SourceIP] != "2.3.4.5" || ev.Common[event.DestinationPort] != "119" ||
		ev.Common[event.EventAction] != "deny" || ev.Common[event.NetworkTransport] != "tcp" || ev.Logsource.Service != "vnetflowlogs" ||
		get("rule") != "BlockHighRiskTCPPortsFromInternet" || get("aclID") != "acl2" || get("flowLogGUID") != "g" {
		t.Errorf("got time %v common %+v rule %q acl %q", ev.Time, ev.Common, get("rule"), get("aclID"))
	}
	// NSG v2 flattened: mac at the top, seconds, T/U.
	nsg := []byte(`{"time":"2024-05-06T00:00:00Z","mac":"000D3AF87856","rule":"DefaultRule_DenyAllInBound","flow.0":"1714982401,1.2.3.4,10.0.0.1,1,2,T,I,D,B,,,,","flow.1":"1714982402,1.2.3.5,10.0.0.1,1,2,U,I,A,E,1,2,3,4"}`)
	evs, err = expandAll(t, nsg)
	if err != nil || len(evs) != 2 {
		t.Fatalf("nsg flattened: %d events, %v", len(evs), err)
	}
	// A bad flattened tuple is refused by position, as a nested one.
	var de *decode.Error
	err = New().Decode([]byte(`{"flowLogVersion":4,"flow.0":"1663146005503,2.3.4.5"}`), &ev)
	if !errors.As(err, &de) || !strings.Contains(de.Reason, "flow tuple 1: has 2 parts") {
		t.Errorf("bad flattened tuple: %v", err)
	}
}
