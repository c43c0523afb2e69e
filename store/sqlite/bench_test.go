package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// benchEvents returns n events: the first lines of the Windows corpus, or
// synthetic events of about the same size when it is absent.
func benchEvents(b *testing.B, n int) []store.StoredEvent {
	if evs, ok := windowsEvents(b, n); ok && len(evs) == n {
		return evs
	}
	b.Logf("windows corpus absent: synthetic events")
	evs := make([]store.StoredEvent, n)
	for i := range evs {
		e := ev("", "windows", t0.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("ws%d.corp.local", i%30), fmt.Sprintf("user%d", i%50), fmt.Sprintf("10.1.%d.%d", i%7, i%250))
		e.Raw = fmt.Appendf(nil, `{"EventID":10,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":%q,"TimeCreated":%q,"SourceImage":"C:\\Windows\\system32\\svchost.exe","TargetImage":"C:\\Program Files\\App%d\\app.exe","GrantedAccess":"0x1000","CallTrace":"C:\\Windows\\SYSTEM32\\ntdll.dll+9c584|C:\\Windows\\System32\\KERNELBASE.dll+2730e|c:\\windows\\system32\\lsm.dll+10e93|C:\\Windows\\System32\\RPCRT4.dll+76953|C:\\Windows\\System32\\RPCRT4.dll+dbaae|C:\\Windows\\System32\\RPCRT4.dll+5c7a|C:\\Windows\\System32\\RPCRT4.dll+5a45|C:\\Windows\\System32\\RPCRT4.dll+3b09c|C:\\Windows\\System32\\RPCRT4.dll+3c0ae|C:\\Windows\\System32\\RPCRT4.dll+2e9b5|C:\\Windows\\System32\\RPCRT4.dll+3dd55|C:\\Windows\\System32\\RPCRT4.dll+2f558|C:\\Windows\\System32\\ntdll.dll+358b0|C:\\Windows\\System32\\ntdll.dll+3e7a9|C:\\Windows\\System32\\KERNEL32.DLL+17bd4|C:\\Windows\\System32\\ntdll.dll+6ced1","SourceProcessGUID":"{%08x-0000-0000-0000-000000000000}","TargetProcessId":%d,"SourceThreadId":%d}`,
			e.Common[event.HostName], e.Time.Format(time.RFC3339Nano), i%40, i, i*7, i*13)
		evs[i] = e
	}
	return evs
}

// BenchmarkCommit commits one bus batch of 1000 real Windows events a
// Commit, with a signal on 1% of them, as the detect stage does.
func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct {
		name string
		comp byte
	}{{"zstd", compZstd}, {"s2", compS2}} {
		b.Run(c.name, func(b *testing.B) { benchCommit(b, c.comp) })
	}
}

func benchCommit(b *testing.B, comp byte) {
	const perBatch = 1000
	evs := benchEvents(b, 20*perBatch)
	var rawBytes int
	for _, e := range evs {
		rawBytes += len(e.Raw)
	}
	db, _ := openTest(b)
	db.now = time.Now
	db.comp = comp
	var batches []*store.Batch
	for i := 0; i < len(evs); i += perBatch {
		part := evs[i : i+perBatch]
		bt := &store.Batch{Workspace: "acme", Source: "windows", Format: "windows", Received: t0, Events: part}
		for j := 0; j < len(part); j += 100 {
			bt.Signals = append(bt.Signals, sig("acme", fmt.Sprintf("rule-%d", j%7), alert.High, part[j].Common[event.HostName], part[j]))
		}
		batches = append(batches, bt)
	}
	cpu0, cpuOK := cpuTime()
	for i := 0; b.Loop(); i++ {
		bt := batches[i%len(batches)]
		bt.ID = event.NewID() // a new bus batch each time, not a replay
		if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
			b.Fatal(err)
		}
	}
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N*perBatch), "cpu-ns/event")
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*perBatch)/sec, "events/s")
	b.ReportMetric(float64(b.N)*float64(rawBytes)/float64(len(batches))/sec/1e6, "MB/s")
	var stored int64
	db.r.QueryRowContext(ctx, `SELECT sum(length(data)) FROM event_blocks`).Scan(&stored)
	b.ReportMetric(float64(stored)/float64(b.N*perBatch), "stored-B/event")
}

// BenchmarkEvents reads the newest page of 100 events from 20 blocks, with
// and without an entity filter.
func BenchmarkEvents(b *testing.B) {
	const perBatch = 1000
	evs := benchEvents(b, 20*perBatch)
	db, _ := openTest(b)
	for i := 0; i < len(evs); i += perBatch {
		bt := &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "windows", Format: "windows", Received: t0, Events: evs[i : i+perBatch]}
		commit(b, db, bt)
	}
	host := evs[len(evs)/2].Common[event.HostName]
	for _, q := range []store.EventQuery{{Limit: 100}, {Limit: 100, Entity: host}} {
		b.Run(fmt.Sprintf("entity=%q", q.Entity), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := db.Events(ctx, "acme", q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
