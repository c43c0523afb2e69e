// Package json decodes generic JSON objects: every scalar becomes a field
// under its dotted path, and ECS-named fields (nested or dotted) fill the
// common fields. It also holds the Flattener and ParseTime that the other
// JSON-shaped decoders (windows, cloudtrail) build on.
package json

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "json"

func init() { decode.Register(Format, New) }

// Time stamp keys in order of preference (lower wins).
var timeKeys = map[string]int{"@timestamp": 1, "timestamp": 2, "time": 3, "eventTime": 4}

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
	d.ev, d.timeRank, d.time = ev, 0, time.Time{}
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
	}
	// Field names are guesses here ("time" may be a duration), so an
	// unreadable stamp is passed over rather than rejecting the record.
	if isTime {
		if t, ok := ParseTime(s); ok {
			d.timeRank, d.time = rank, t
		}
	}
}
