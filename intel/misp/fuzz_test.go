package misp

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/internal/observable"
)

func FuzzEvent(f *testing.F) {
	f.Add(eventDoc)
	f.Add(`{"uuid":"u","Attribute":[{"type":"domain|ip","value":"a.example|1.2.3.4","to_ids":"1","Tag":[{"name":"osint:certainty=\"93\""}]}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		inds, err := Parser{}.Parse(strings.NewReader(doc), "fuzz", func(intel.Problem) {})
		if err != nil {
			return
		}
		for _, i := range inds {
			k, v, err := observable.Normalize(i.Kind, i.Value)
			if err != nil || k != i.Kind || v != i.Value || i.Confidence < 0 || i.Confidence > 100 {
				t.Fatalf("indicator %+v not normalized (%s %q %v)", i, k, v, err)
			}
		}
	})
}

func FuzzManifest(f *testing.F) {
	f.Add(`{"11111111-2222-4333-8444-555555555555": {"info": "x", "timestamp": "1"}}`, eventDoc)
	f.Fuzz(func(t *testing.T, manifest, ev string) {
		fsys := fstest.MapFS{
			"manifest.json": {Data: []byte(manifest)},
			"11111111-2222-4333-8444-555555555555.json": {Data: []byte(ev)},
		}
		ReadFeed(fsys, "fuzz", func(intel.Problem) {})
	})
}
