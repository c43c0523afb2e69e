// Package jsonrecord decodes generic JSON objects: every scalar becomes a field
// under its dotted path, and ECS-named fields (nested or dotted) fill the
// common fields. It also holds what the other JSON-shaped decoders build
// on: the Flattener (mssqlaudit), ParseTime (the time stamps of most
// formats), and Record, the scaffolding of a decoder of one object a record
// (cloudtrail, awswaf …).
package jsonrecord

import (
	"fmt"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "json"

func init() { decode.Register(Format, New) }

// Time stamp keys in order of preference (lower wins). TimeGenerated is
// the time column of every Log Analytics table export.
var timeKeys = map[string]int{"@timestamp": 1, "timestamp": 2, "time": 3, "eventTime": 4, "TimeGenerated": 5}

// commonIDs indexes the ECS names. It is a local copy of event's table so
// that the lookup can index with string(name) and not allocate.
var commonIDs = func() map[string]int {
	m := make(map[string]int, event.NumCommon)
	for i := 0; i < event.NumCommon; i++ {
		m[event.CommonName(i)] = i
	}
	return m
}()

// Decoder decodes one JSON object a record.
type Decoder struct {
	p    fastjson.Parser
	flat *Flattener
	ev   *event.Event

	timeRank int
	time     time.Time

	// mapping is the source's Options.Mapping: source field → common
	// field id, or mapTime for @timestamp. mapped marks the common fields
	// the mapping has set in the current record, which the automatic
	// mapping then leaves alone.
	mapping map[string]int
	mapped  uint64
}

// mapTime is the mapping target "@timestamp": the event's time.
const mapTime = -1

// Configure implements decode.Configurable. Options.Mapping names, for a
// source field (dotted), the common field it fills ("user" →
// "user.name"), or "@timestamp"; it wins over the automatic mapping.
func (d *Decoder) Configure(o decode.Options) error {
	d.mapping = nil
	for src, ecs := range o.Mapping {
		id, ok := commonIDs[ecs]
		if ecs == "@timestamp" {
			id, ok = mapTime, true
		}
		if !ok {
			return fmt.Errorf("json: mapping %q → %q: no common field %q (see docs/formats.md)", src, ecs, ecs)
		}
		if d.mapping == nil {
			d.mapping = make(map[string]int, len(o.Mapping))
		}
		d.mapping[src] = id
	}
	return nil
}

// New returns a JSON decoder.
func New() decode.Decoder {
	d := &Decoder{}
	d.flat = NewFlattener(d.leaf)
	return d
}

// Decode implements decode.Decoder. The values it stores alias the
// decoder's parse buffers and are valid until the next Decode.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return SyntaxError(Format, rec, err)
	}
	if v.Type() != fastjson.TypeObject {
		return ObjectError(Format, rec, v)
	}
	d.ev, d.timeRank, d.time, d.mapped = ev, 0, time.Time{}, 0
	d.flat.Reset()
	d.flat.Walk(nil, v)
	d.ev = nil
	ev.Time = d.time
	return nil
}

func (d *Decoder) leaf(name []byte, v *fastjson.Value) {
	var id int32
	keep := false
	if dict := d.ev.Fields.Dict(); dict != nil {
		id, keep = dict.IDBytes(name)
	}
	common, isCommon := commonIDs[string(name)]
	isCommon = isCommon && d.ev.Common[common] == ""
	rank, isTime := timeKeys[string(name)]
	mapped := false
	if len(d.mapping) > 0 {
		if m, ok := d.mapping[string(name)]; ok {
			switch {
			case m == mapTime:
				rank, isTime = mapTime, true
				isCommon = false
			case d.mapped&(1<<m) == 0:
				common, isCommon, mapped = m, true, true
			default:
				isCommon = false // an earlier value (of an array) won
			}
		}
		isCommon = isCommon && (mapped || d.mapped&(1<<common) == 0)
	}
	isTime = isTime && (d.timeRank == 0 || rank < d.timeRank)
	if !keep && !isCommon && !isTime {
		return
	}
	s, ok := d.flat.Scalar(v)
	if !ok {
		return
	}
	if keep {
		d.ev.Fields.Set(id, s)
	}
	if isCommon {
		d.ev.Common[common] = s
		if mapped {
			d.mapped |= 1 << common
		}
	}
	// Field names are guesses here ("time" may be a duration), so an
	// unreadable stamp is passed over rather than rejecting the record.
	if isTime {
		if t, ok := ParseTime(s); ok {
			d.timeRank, d.time = rank, t
		}
	}
}
