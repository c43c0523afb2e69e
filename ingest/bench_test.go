package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
)

type discardPub struct{}

func (discardPub) Publish(context.Context, *bus.Batch) error { return nil }

// benchBody is 1000 Windows events of ≈ 1.2 KB as NDJSON: from the shared
// corpus when present, else synthetic events of the same shape.
func benchBody(b *testing.B) []byte {
	recs := mordorLines(b, 1000)
	if recs == nil {
		b.Log("windows-mordor.jsonl.gz not found under ../../shared/data/events: synthetic events")
		for i := range 1000 {
			recs = append(recs, fmt.Appendf(nil,
				`{"EventID":4688,"Channel":"Security","Provider_Name":"Microsoft-Windows-Security-Auditing","Provider_Guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}","Computer":"WORKSTATION%d.mordor.local","TimeCreated":"2020-06-10T02:50:56.537Z","EventRecordID":%d,"Task":13312,"Opcode":0,"Keywords":"0x8020000000000000","Version":2,"Execution_ProcessID":4,"Execution_ThreadID":%d,"CommandLine":"\"C:\\Windows\\system32\\cmd.exe\" /c whoami /all \u0026\u0026 net user administrator /domain","MandatoryLabel":"S-1-16-12288","NewProcessId":"0x1a2c","NewProcessName":"C:\\Windows\\System32\\cmd.exe","ParentProcessName":"C:\\Windows\\explorer.exe","ProcessId":"0x13f0","SubjectDomainName":"MORDOR","SubjectLogonId":"0x3e7","SubjectUserName":"WORKSTATION5$","SubjectUserSid":"S-1-5-18","TargetDomainName":"MORDOR","TargetLogonId":"0x5f2b1","TargetUserName":"pgustavo","TargetUserSid":"S-1-0-0","TokenElevationType":"%%%%1936","Hostname":"WORKSTATION5","Message":"A new process has been created. Creator Subject: Security ID: S-1-5-18 Account Name: WORKSTATION5$ Account Domain: MORDOR Logon ID: 0x3E7 Target Subject: Security ID: S-1-0-0 Account Name: pgustavo"}`,
				i%30, 700000+i, 4000+i))
		}
	}
	return append(bytes.Join(recs, []byte("\n")), '\n')
}

func benchHandler(b *testing.B) *Handler {
	e := newEnv(b, func(c *Config) { c.Publisher = discardPub{}; c.Registerer = nil })
	return e.h
}

// runIngest posts body until done; MB/s counts raw bytes, decompressed.
func runIngest(b *testing.B, h *Handler, ct string, body []byte, headers map[string]string, records, raw int) {
	b.SetBytes(int64(raw))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, Path+"?source=win", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records*b.N), "ns/record")
	// CPU time, not wall time: the benchmark shares its cores, and what
	// ingest costs the server is the CPU it burns per record.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(records*b.N), "cpu-ns/record")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkIngestNDJSON(b *testing.B) {
	body := benchBody(b)
	runIngest(b, benchHandler(b), ndjson, body, nil, bytes.Count(body, []byte("\n")), len(body))
}

func BenchmarkIngestNDJSONGzip(b *testing.B) {
	body := benchBody(b)
	n := bytes.Count(body, []byte("\n"))
	runIngest(b, benchHandler(b), ndjson, gz(b, string(body)), map[string]string{"Content-Encoding": "gzip"}, n, len(body))
}

func BenchmarkIngestJSONArray(b *testing.B) {
	body := benchBody(b)
	n := bytes.Count(body, []byte("\n"))
	arr := append([]byte{'['}, bytes.ReplaceAll(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"), []byte(",\n"))...)
	arr = append(arr, ']')
	runIngest(b, benchHandler(b), "application/json", arr, nil, n, len(arr))
}

func BenchmarkIngestIdempotent(b *testing.B) {
	body := benchBody(b)
	runIngest(b, benchHandler(b), ndjson, body, map[string]string{"Idempotency-Key": "bench"}, bytes.Count(body, []byte("\n")), len(body))
}
