package evtx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// FuzzEVTX reads fuzzed records: the input is the records area of a chunk
// (from offset 512, where names and templates are referred to), or a
// whole file when it starts with the file signature. Reading must end,
// never panic, and every record it returns must be valid JSON that the
// decoder reads (refusing it only for what it holds: no EventID, an
// unreadable time).
func FuzzEVTX(f *testing.F) {
	f.Add(chunkOf(1, fullRecord)[recordsAt:4096])
	for _, name := range []string{"security.evtx", "sysmon.evtx", "E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", "MSExchange_Management_wec.evtx"} {
		if data, err := os.ReadFile(samples + "/" + name); err == nil && len(data) > headerBlock+8192 {
			f.Add(data[headerBlock+recordsAt : headerBlock+8192])
		}
	}
	dec := New()
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	f.Fuzz(func(t *testing.T, in []byte) {
		data := in
		if !IsEVTX(in) {
			if len(in) > chunkSize-recordsAt {
				return
			}
			c := make([]byte, chunkSize)
			copy(c, chunkMagic)
			copy(c[recordsAt:], in)
			c[48], c[49] = byte((recordsAt+len(in))&0xff), byte((recordsAt+len(in))>>8)
			data = fileOf(c)
		}
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatal("more results than bytes: reading does not end")
			}
			r, err := rd.Next()
			if err == io.EOF {
				return
			}
			var p *Problem
			if errors.As(err, &p) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(r.JSON) {
				t.Fatalf("record %d renders invalid JSON: %s", r.ID, r.JSON)
			}
			// The decoder walks the rendering in one pass (an Event is
			// not indexed first): it must take whatever the reader gives.
			ev.Reset()
			var de *decode.Error
			if err := dec.Decode(r.JSON, &ev); err != nil && (!errors.As(err, &de) || strings.HasPrefix(de.Reason, "invalid JSON")) {
				t.Fatalf("record %d: %v: %s", r.ID, err, r.JSON)
			}
		}
	})
}
