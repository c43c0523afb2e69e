package bus

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

var (
	windowsOnce  sync.Once
	windowsLines [][]byte
)

// windowsEvents returns up to n real Windows events (JSON lines) from the
// shared data set, or nil when it is absent.
func windowsEvents(tb testing.TB, n int) [][]byte {
	windowsOnce.Do(func() {
		path := filepath.Join("..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() && len(windowsLines) < 5000 {
			windowsLines = append(windowsLines, append([]byte(nil), sc.Bytes()...))
		}
	})
	if len(windowsLines) == 0 {
		tb.Logf("../../shared/data/events/windows-mordor.jsonl.gz absent: using synthetic events")
		return nil
	}
	if n > len(windowsLines) {
		n = len(windowsLines)
	}
	return windowsLines[:n]
}

// benchBatch returns a batch of n records: real Windows events when present,
// else synthetic ones of similar size and shape.
func benchBatch(tb testing.TB, n int) *Batch {
	lines := windowsEvents(tb, 5000)
	now := time.Now()
	b := &Batch{ID: testIDs.New(now), Workspace: "bench", Source: "winlog", Format: "json", Received: now,
		Records: make([]event.Raw, n)}
	for i := range b.Records {
		if lines != nil {
			b.Records[i].Data = lines[i%len(lines)]
		} else {
			b.Records[i].Data = fmt.Appendf(nil, `{"EventID":%d,"Channel":"Security","Computer":"WIN-%04d.corp.local","TargetUserName":"user%d","IpAddress":"10.0.%d.%d","LogonType":3,"ProcessName":"C:\\Windows\\System32\\svchost.exe","Message":"An account was successfully logged on. Subject: Security ID: S-1-5-18 Account Name: WIN$ Logon Information: Logon Type 3 Restricted Admin Mode: - Virtual Account: No Elevated Token: Yes Impersonation Level: Impersonation New Logon: Security ID: S-1-5-21-%d"}`,
				4624+i%7, i%500, i%97, i%256, (i*7)%256, i)
		}
		b.Records[i].Line = i + 1
	}
	testIDs.Fill(now, b.Records)
	return b
}
