package evtx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzEVTX reads fuzzed records: the input is the records area of a chunk
// (from offset 512, where names and templates are referred to), or a
// whole file when it starts with the file signature. Reading must end,
// never panic, and every record it returns must be valid JSON.
func FuzzEVTX(f *testing.F) {
	f.Add(chunkOf(1, fullRecord)[recordsAt:4096])
	for _, name := range []string{"security.evtx", "sysmon.evtx", "E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", "MSExchange_Management_wec.evtx"} {
		if data, err := os.ReadFile(samples + "/" + name); err == nil && len(data) > headerBlock+8192 {
			f.Add(data[headerBlock+recordsAt : headerBlock+8192])
		}
	}
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
		}
	})
}
