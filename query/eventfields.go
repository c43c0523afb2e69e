package query

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// EventFields gives a decoded event to Match under the names `vigil
// decode` shows: id, workspace, source, format, logsource.product (…
// category, service), @timestamp, received, the common fields' ECS names
// (source.ip, user.name…) and the source's own fields (EventID,
// eventName…, also reachable as fields.EventID). A name that is both a
// common and an own field gives both values. tags and asset.tags give
// each of their comma-separated tags.
//
// Reuse one EventFields across the events of a search: it caches how
// names resolve in the events' Dict. It is not safe for concurrent use.
type EventFields struct {
	ev      *event.Event
	dict    *event.Dict
	dictLen int
	own     map[string][]int32 // lowered own field name → ids
	names   map[string]resolved
}

// resolved is where a name, as a query typed it, finds its values.
type resolved struct {
	meta   int // metaNone or one of the meta fields
	common int // -1 for none
	own    []int32
}

const (
	metaNone = iota
	metaID
	metaWorkspace
	metaSource
	metaFormat
	metaProduct
	metaCategory
	metaService
	metaTimestamp
	metaReceived
)

var metaNames = map[string]int{
	"id":                 metaID,
	"workspace":          metaWorkspace,
	"source":             metaSource,
	"format":             metaFormat,
	"logsource.product":  metaProduct,
	"logsource.category": metaCategory,
	"logsource.service":  metaService,
	"@timestamp":         metaTimestamp,
	"received":           metaReceived,
}

// Reset points f at ev.
func (f *EventFields) Reset(ev *event.Event) {
	f.ev = ev
	d := ev.Fields.Dict()
	if d != f.dict {
		f.dict, f.dictLen, f.own, f.names = d, 0, nil, nil
	}
	if d == nil {
		return
	}
	if n := d.Len(); n != f.dictLen {
		// An open Dict grows as new names are decoded: index the new ones
		// and resolve names again.
		if f.own == nil {
			f.own = map[string][]int32{}
		}
		for id := f.dictLen; id < n; id++ {
			l := lower(d.Name(int32(id)))
			f.own[l] = append(f.own[l], int32(id))
		}
		f.dictLen = n
		clear(f.names)
	}
}

func (f *EventFields) resolve(name string) resolved {
	if r, ok := f.names[name]; ok {
		return r
	}
	l := lower(name)
	r := resolved{common: -1}
	if own, ok := strings.CutPrefix(l, "fields."); ok {
		r.own = f.own[own]
	} else {
		r.meta = metaNames[l]
		if c, ok := event.CommonID(l); ok {
			r.common = c
		}
		r.own = f.own[l]
	}
	if f.names == nil {
		f.names = map[string]resolved{}
	}
	f.names[name] = r
	return r
}

// Any implements Fields.
func (f *EventFields) Any(name string, m ValueMatcher) bool {
	r := f.resolve(name)
	ev := f.ev
	if r.meta != metaNone && f.meta(r.meta, m) {
		return true
	}
	if r.common >= 0 {
		if v := ev.Common[r.common]; v != "" && matchCommon(r.common, v, m) {
			return true
		}
	}
	for _, id := range r.own {
		if f.ownMatch(id, m) {
			return true
		}
	}
	return false
}

// AnyField implements Fields: the common and own fields, the source, the
// format and the logsource; not the id, workspace or times, which a word
// searched for would match by accident.
func (f *EventFields) AnyField(m ValueMatcher) bool {
	ev := f.ev
	for _, meta := range [...]int{metaSource, metaFormat, metaProduct, metaCategory, metaService} {
		if f.meta(meta, m) {
			return true
		}
	}
	for i, v := range ev.Common {
		if v != "" && matchCommon(i, v, m) {
			return true
		}
	}
	for _, id := range ev.Fields.IDs() {
		if f.ownMatch(id, m) {
			return true
		}
	}
	return false
}

func (f *EventFields) ownMatch(id int32, m ValueMatcher) bool {
	found := false
	f.ev.Fields.Each(id, func(v string) bool {
		found = m.MatchValue(v)
		return !found
	})
	return found
}

func (f *EventFields) meta(meta int, m ValueMatcher) bool {
	ev := f.ev
	var v string
	switch meta {
	case metaID:
		v = ev.ID.String()
	case metaWorkspace:
		v = ev.Workspace
	case metaSource:
		v = ev.Source
	case metaFormat:
		v = ev.Format
	case metaProduct:
		v = ev.Logsource.Product
	case metaCategory:
		v = ev.Logsource.Category
	case metaService:
		v = ev.Logsource.Service
	case metaTimestamp:
		return matchTime(ev.Time, m)
	case metaReceived:
		return matchTime(ev.Received, m)
	}
	return v != "" && m.MatchValue(v)
}

// matchTime tests a time stamp; a time range compares it without
// formatting it first.
func matchTime(t time.Time, m ValueMatcher) bool {
	if t.IsZero() {
		return false
	}
	if r, ok := m.(*rangeTest); ok && r.kind == byTime {
		return r.matchTime(t)
	}
	return m.MatchValue(t.UTC().Format(time.RFC3339Nano))
}

// matchCommon tests a common field's value; the tag lists give each tag.
func matchCommon(id int, v string, m ValueMatcher) bool {
	if id != event.Tags && id != event.AssetTags {
		return m.MatchValue(v)
	}
	for tag := range strings.SplitSeq(v, ",") {
		if tag = strings.TrimSpace(tag); tag != "" && m.MatchValue(tag) {
			return true
		}
	}
	return false
}
