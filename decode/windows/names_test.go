package windows

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// Windows Defender names its EventData fields with spaces ("Threat Name");
// Sigma rules write them without (ThreatName) or with underscores
// (Feature_Name). Every spelling a rule may use is reachable, in each
// shape a record may come in.
func TestNamesWithSpaces(t *testing.T) {
	records := map[string][]byte{
		"evtx_dump":     mustRead(t, "evtx_dump_defender_1116.json"),
		"flat":          []byte(`{"EventID":1116,"Channel":"Microsoft-Windows-Windows Defender/Operational","Threat Name":"HackTool:Win32/Mimikatz","Source Name":"%%818","Process Name":"C:\\Windows\\explorer.exe","Feature Name":"%%886"}`),
		"winlogbeat":    []byte(`{"winlog":{"event_id":1116,"channel":"Microsoft-Windows-Windows Defender/Operational","event_data":{"Threat Name":"HackTool:Win32/Mimikatz","Source Name":"%%818","Process Name":"C:\\Windows\\explorer.exe","Feature Name":"%%886"}}}`),
		"xml_eventdata": []byte(`{"EventID":1116,"Channel":"Microsoft-Windows-Windows Defender/Operational","EventData":"<EventData><Data Name=\"Threat Name\">HackTool:Win32/Mimikatz</Data><Data Name=\"Source Name\">%%818</Data><Data Name=\"Process Name\">C:\\Windows\\explorer.exe</Data><Data Name=\"Feature Name\">%%886</Data></EventData>"}`),
	}
	want := map[string]string{
		"Threat Name": "HackTool:Win32/Mimikatz", "ThreatName": "HackTool:Win32/Mimikatz", "Threat_Name": "HackTool:Win32/Mimikatz",
		"Source Name": "%%818", "SourceName": "%%818",
		"Process Name": `C:\Windows\explorer.exe`, "ProcessName": `C:\Windows\explorer.exe`,
		"Feature Name": "%%886", "Feature_Name": "%%886", "FeatureName": "%%886",
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	for shape, rec := range records {
		for _, dict := range []*event.Dict{event.NewDict(names...), event.NewOpenDict()} {
			var ev event.Event
			ev.Fields.Bind(dict)
			if err := New().Decode(rec, &ev); err != nil {
				t.Fatalf("%s: %v", shape, err)
			}
			for _, n := range names {
				if got := values(&ev, n); len(got) != 1 || got[0] != want[n] {
					t.Errorf("%s (open Dict %v): %s = %q, want %q", shape, dict.Open(), n, got, want[n])
				}
			}
			if ev.Logsource.Service != "windefend" {
				t.Errorf("%s: service = %q, want windefend", shape, ev.Logsource.Service)
			}
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
