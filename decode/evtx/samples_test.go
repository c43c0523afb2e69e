package evtx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// samples is the directory of real .evtx files and their expected
// renderings (../shared, never copied into the repository).
const samples = "../../../shared/data/events/evtx_samples"

func sample(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(samples, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("sample %s absent (%v): the .evtx samples live in ../shared/data/events/evtx_samples", name, err)
	}
	return p
}

// readAll reads every record of the file at path, returning their JSON
// renderings and the problems that skipped something (warnings apart).
func readAll(t testing.TB, path string) (recs [][]byte, errs []*Problem) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return recs, errs
		}
		var p *Problem
		if errors.As(err, &p) {
			if !p.Warning {
				errs = append(errs, p)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(r.JSON) {
			t.Fatalf("%s: record %d renders invalid JSON: %s", path, r.ID, r.JSON)
		}
		recs = append(recs, bytes.Clone(r.JSON))
	}
}

// TestSampleCounts reads every sample and counts its good records and
// its errors as the samples' README gives them (the counts the upstream
// parser's tests assert), damaged files included.
func TestSampleCounts(t *testing.T) {
	for _, tc := range []struct {
		file    string
		ok, bad int
	}{
		{"sample-with-irregular-bool-values.evtx", 3028, 0},
		{"2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 1910, 4},
		{"2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1774, 2},
		{"2-vss_7-System.evtx", 1160, 0},
		{"sample_with_a_bad_chunk_magic.evtx", 270, 2},
		{"Microsoft-Windows-HelloForBusiness%4Operational.evtx", 6, 0},
		{"Microsoft-Windows-LanguagePackSetup%4Operational.evtx", 17, 0},
		{"E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx", 1146, 0},
		{"E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 340, 0},
		{"E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 459, 0},
		{"Application_no_crc32.evtx", 17, 0},
		{"post-Security.evtx", 126, 0},
		{"sample-with-zero-data-size-event.evtx", 335, 1}, // 336 records seen, the bad one an error
	} {
		t.Run(tc.file, func(t *testing.T) {
			recs, errs := readAll(t, sample(t, tc.file))
			if len(recs) != tc.ok || len(errs) != tc.bad {
				t.Errorf("%d records and %d errors, want %d and %d; errors: %v", len(recs), len(errs), tc.ok, tc.bad, errs)
			}
			for _, p := range errs {
				if p.Offset < headerBlock || p.Reason == "" {
					t.Errorf("problem without its place or reason: %+v", p)
				}
			}
		})
	}
}

// TestSampleRenderings compares records with the renderings the samples'
// README gives (expected_json/*.snap, written by evtx_dump's JSON
// output), as JSON values: same members, same types.
func TestSampleRenderings(t *testing.T) {
	for _, tc := range []struct {
		snap, file string
		record     []string // what the record's rendering holds
		part       []string // compare only this member path
	}{
		{"test_record_samples__event_json_sample.snap", "security.evtx", []string{`"EventRecordID":1,`}, nil},
		{"test_record_samples__event_json_sample_with_event_data_with_attributes_and_text.snap", "system.evtx", []string{`"EventRecordID":1,`}, nil},
		{"test_record_samples__event_json_with_multiple_nodes_same_name.snap", "E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", []string{`"EventRecordID":28,`}, nil},
		{"test_record_samples__event_json_with_size_t.snap", "Security_with_size_t.evtx", []string{`"EventRecordID":196,`}, nil},
		// Written with attributes apart; its EventData is the same.
		{"test_record_samples__event_json_multiple_empty_data_nodes_not_ignored.snap", "MSExchange_Management_wec.evtx", []string{`"EventRecordID":"3229"`}, []string{"Event", "EventData"}},
	} {
		t.Run(tc.snap, func(t *testing.T) {
			snap, err := os.ReadFile(filepath.Join(sample(t, "expected_json"), tc.snap))
			if err != nil {
				t.Fatal(err)
			}
			// A .snap holds a header between --- lines, then the value.
			parts := strings.SplitN(string(snap), "---\n", 3)
			var want any
			if err := json.Unmarshal([]byte(parts[2]), &want); err != nil {
				t.Fatalf("%s: %v", tc.snap, err)
			}
			recs, _ := readAll(t, sample(t, tc.file))
			var got any
		next:
			for _, r := range recs {
				for _, want := range tc.record {
					if !bytes.Contains(r, []byte(want)) {
						continue next
					}
				}
				{
					if err := json.Unmarshal(r, &got); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			if got == nil {
				t.Fatalf("no record with %s in %s", tc.record, tc.file)
			}
			for _, k := range tc.part {
				got, want = got.(map[string]any)[k], want.(map[string]any)[k]
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("rendering differs\n got: %s\nwant: %s", g, w)
			}
		})
	}
}

// TestSampleTrailingSpaces: a value keeps the spaces it ends with
// (expected_json/…string_with_trailing_spaces.snap, record 2260).
func TestSampleTrailingSpaces(t *testing.T) {
	recs, _ := readAll(t, sample(t, "security.evtx"))
	for _, r := range recs {
		if bytes.Contains(r, []byte(`"EventRecordID":2260,`)) {
			if !bytes.Contains(r, []byte(`"LogonProcessName":"Advapi  ",`)) {
				t.Errorf("LogonProcessName lost its trailing spaces: %s", r)
			}
			return
		}
	}
	t.Fatal("record 2260 not found")
}

// TestSamplesDecode decodes every record of every sample as scan does:
// none is refused, and each has its EventID (a record read from damaged
// data may lack the rest: upstream counts those as read too).
func TestSamplesDecode(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samples, "*.evtx"))
	if len(files) == 0 {
		t.Skip("no .evtx samples in ../shared/data/events/evtx_samples")
	}
	dec := New()
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	total := 0
	for _, f := range files {
		recs, _ := readAll(t, f)
		for _, r := range recs {
			ev.Reset()
			if err := dec.Decode(r, &ev); err != nil {
				t.Errorf("%s: %v: %s", filepath.Base(f), err, r)
				continue
			}
			if id, _ := ev.Get("EventID"); id == "" {
				t.Errorf("%s: no EventID: %s", filepath.Base(f), r)
			}
			total++
		}
	}
	t.Logf("%d records of %d files decoded", total, len(files))
}
