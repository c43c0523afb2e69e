package rule

import (
	"time"

	yaml "go.yaml.in/yaml/v4"
)

// Aggregation (vigil extension, `aggregation:` on a detection rule) says
// how the rule's signals gather into alerts: By lists the event fields
// whose values make one alert (instead of the host, account and source
// address), Window how long after an alert was last seen a signal still
// joins it (instead of the store's dedup window). Either may be left out.
type Aggregation struct {
	Window time.Duration
	By     []string
}

// MaxAggregationBy bounds the fields an aggregation groups by.
const MaxAggregationBy = 8

func parseAggregation(k, v *yaml.Node) (*Aggregation, *posError) {
	kvs, err := pairs(v, "aggregation")
	if err != nil {
		return nil, err
	}
	a := &Aggregation{}
	for _, kv := range kvs {
		switch kv[0].Value {
		case "window":
			s, err := text(kv[0], kv[1])
			if err != nil {
				return nil, err
			}
			d, perr := ParseTimespan(s)
			if perr != nil {
				return nil, errAt(pos(kv[1]), "aggregation window %v", perr)
			}
			a.Window = d
		case "by":
			by, err := textList(kv[0], kv[1])
			if err != nil {
				return nil, err
			}
			if len(by) == 0 || len(by) > MaxAggregationBy {
				return nil, errAt(pos(kv[1]), "aggregation by lists %d fields (want 1 to %d)", len(by), MaxAggregationBy)
			}
			for _, f := range by {
				if f == "" {
					return nil, errAt(pos(kv[1]), "aggregation by names an empty field")
				}
			}
			a.By = by
		default:
			return nil, errAt(pos(kv[0]), "aggregation has no key %q (want window, by)", kv[0].Value)
		}
	}
	if a.Window == 0 && a.By == nil {
		return nil, errAt(pos(k), "aggregation needs a window, a by list or both")
	}
	return a, nil
}
