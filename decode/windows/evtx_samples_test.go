package windows_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/decode/evtx"
	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
)

// TestEVTXSamplesSameAsReference decodes every record of the .evtx
// samples, as the evtx reader renders it (evtx_dump's JSON), with Decoder,
// whose evtx_dump walk reads an Event in one pass, and with the reference,
// which parses the record whole and walks the tree, under the Sigma Dict
// and an open one. Both must give the same event: the fields in the order
// set with their values, the time, the logsource and the common fields.
func TestEVTXSamplesSameAsReference(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "events", "evtx_samples")
	files, _ := filepath.Glob(filepath.Join(dir, "*.evtx"))
	if len(files) == 0 {
		t.Skipf("no .evtx samples in %s (they live in ../shared/data/events/evtx_samples)", dir)
	}
	differ := windows.Differ()
	closed, open := windows.SigmaDict(t), event.NewOpenDict()
	n, bad := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := evtx.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for {
			r, err := rd.Next()
			if err == io.EOF {
				break
			}
			var p *evtx.Problem
			if errors.As(err, &p) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			n++
			for _, dict := range []*event.Dict{closed, open} {
				if diff := differ(dict, r.JSON); diff != "" {
					t.Errorf("%s record %d, open dict %v: %s", filepath.Base(f), r.ID, dict.Open(), diff)
					if bad++; bad > 5 {
						t.FailNow()
					}
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("compared only %d records", n)
	}
	t.Logf("%d records compared", n)
}
