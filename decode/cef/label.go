package cef

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// labels stores custom fields under their label too: "cs1=topaz
// cs1Label=policy_name" adds the field policy_name = topaz, so that rules
// can name what the vendor meant rather than the slot it used. Any key
// with a companion "<key>Label" counts (cs1…cs6, cn1…cn3, cfp1…cfp4,
// c6a1…c6a4, flexString1, deviceCustomDate1, and vendors' extra slots).
func (d *Decoder) labels(f *event.Fields) {
	for _, l := range d.kv {
		base, ok := strings.CutSuffix(l.Key, "Label")
		if !ok || base == "" {
			continue
		}
		for _, p := range d.kv {
			if p.Key == base {
				f.SetName(view.Bytes(l.Val), p.Val)
				break
			}
		}
	}
}
