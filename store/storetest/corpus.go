package storetest

import (
	"bufio"
	"compress/gzip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// WindowsEvents reads up to n events of the Mordor corpus at path (JSON
// lines, gzipped) as the detect stage would store them for source
// "windows", received at received, with the common fields a Windows
// decoder fills: the stores' benchmarks commit the same real events. ok is
// false when the corpus is absent.
func WindowsEvents(tb testing.TB, path string, n int, received time.Time) ([]store.StoredEvent, bool) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("windows corpus: %v", err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var p fastjson.Parser
	var out []store.StoredEvent
	for len(out) < n && sc.Scan() {
		raw := append([]byte(nil), sc.Bytes()...)
		v, err := p.ParseBytes(raw)
		if err != nil {
			tb.Fatalf("windows corpus line %d: %v", len(out)+1, err)
		}
		get := func(k string) string { return string(v.GetStringBytes(k)) }
		tm, err := time.Parse("2006-01-02 15:04:05.999999999", get("TimeCreated"))
		if err != nil {
			if tm, err = time.Parse(time.RFC3339Nano, get("TimeCreated")); err != nil {
				tm = received // as the decoder does: no time of its own, the received time
			}
		}
		e := store.StoredEvent{
			ID: ids.New(received), Source: "windows", Format: "windows",
			Logsource: event.Logsource{Product: "windows", Service: get("Channel")},
			Time:      tm, Received: received, Raw: raw,
		}
		e.Common[event.EventCode] = strconv.Itoa(v.GetInt("EventID"))
		e.Common[event.HostName] = get("Computer")
		e.Common[event.ProcessExecutable] = get("Image")
		e.Common[event.ProcessCommandLine] = get("CommandLine")
		e.Common[event.FilePath] = get("TargetFilename")
		e.Common[event.SourceIP] = get("SourceIp")
		e.Common[event.DestinationIP] = get("DestinationIp")
		if u := get("TargetUserName"); u != "" {
			e.Common[event.UserName] = u
		} else {
			e.Common[event.UserName] = get("User")
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("windows corpus: %v", err)
	}
	return out, true
}
