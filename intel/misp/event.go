// Package misp reads MISP feeds: the manifest.json that lists a feed's
// events, the event files ({uuid}.json) whose attributes flagged to_ids
// become indicators, and hashes.csv.
package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// flexBool reads the booleans MISP writes as true/false, "1"/"0" or 1/0,
// depending on its version and the export path.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", data)
	}
	return nil
}

// flexString reads a value MISP writes as a string or a number
// (timestamps, threat_level_id); null is "".
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*s = ""
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	if _, err := strconv.ParseFloat(string(data), 64); err != nil {
		return fmt.Errorf("not a string or number: %s", data)
	}
	*s = flexString(data)
	return nil
}

type tag struct {
	Name string `json:"name"`
}

type event struct {
	UUID          string            `json:"uuid"`
	Info          string            `json:"info"`
	Date          string            `json:"date"`
	ThreatLevelID flexString        `json:"threat_level_id"`
	Timestamp     flexString        `json:"timestamp"`
	Tag           []tag             `json:"Tag"`
	Attribute     []json.RawMessage `json:"Attribute"`
	Object        []json.RawMessage `json:"Object"`
}

type object struct {
	UUID      string            `json:"uuid"`
	Name      string            `json:"name"`
	Comment   string            `json:"comment"`
	Deleted   flexBool          `json:"deleted"`
	Attribute []json.RawMessage `json:"Attribute"`
}

type attribute struct {
	UUID      string     `json:"uuid"`
	Type      string     `json:"type"`
	Category  string     `json:"category"`
	Value     string     `json:"value"`
	Comment   string     `json:"comment"`
	ToIDs     flexBool   `json:"to_ids"`
	Deleted   flexBool   `json:"deleted"`
	Timestamp flexString `json:"timestamp"`
	FirstSeen flexString `json:"first_seen"`
	LastSeen  flexString `json:"last_seen"`
	Tag       []tag      `json:"Tag"`
}

// Parser reads one MISP event file ({"Event": {...}}, or the bare event).
type Parser struct{}

var _ intel.Parser = Parser{}

// Parse reads one event. Attributes with to_ids become indicators; those
// without are context and skipped, as are deleted ones. A malformed
// attribute or value is reported with its JSON path and the rest read.
func (Parser) Parse(r io.Reader, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("misp: read event: %w", err)
	}
	return parseEvent(data, "", feed, problem)
}

func parseEvent(data []byte, file, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	if problem == nil {
		problem = func(intel.Problem) {}
	}
	prefix := "Event"
	if file != "" {
		prefix = file + ": Event"
	}
	var wrapped struct {
		Event *json.RawMessage `json:"Event"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("misp: event %s: %s", file, jsonError(data, err))
	}
	raw := data
	if wrapped.Event != nil {
		raw = *wrapped.Event
	}
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("misp: event %s: %s", file, jsonError(raw, err))
	}
	if ev.UUID == "" && ev.Info == "" && ev.Attribute == nil && ev.Object == nil {
		return nil, fmt.Errorf("misp: %s is not a MISP event (no uuid, info or attributes)", strings.TrimSuffix(prefix, ": Event"))
	}
	e := eventContext{ev: &ev, feed: feed, problem: problem, unsupported: map[string]int{}}
	e.threat = readTags(ev.Tag)
	e.date, _ = time.Parse("2006-01-02", ev.Date)
	e.stamp = unixTime(ev.Timestamp)
	for i, a := range ev.Attribute {
		e.attribute(a, fmt.Sprintf("%s.Attribute[%d]", prefix, i), "")
	}
	for i, raw := range ev.Object {
		where := fmt.Sprintf("%s.Object[%d]", prefix, i)
		var o object
		if err := json.Unmarshal(raw, &o); err != nil {
			problem(intel.Problem{Where: where, Reason: "malformed object: " + jsonError(raw, err)})
			continue
		}
		if o.Deleted {
			continue
		}
		for j, a := range o.Attribute {
			e.attribute(a, fmt.Sprintf("%s.Attribute[%d]", where, j), o.Comment)
		}
	}
	if len(e.unsupported) > 0 {
		var parts []string
		n := 0
		for t, c := range e.unsupported {
			parts = append(parts, fmt.Sprintf("%s ×%d", t, c))
			n += c
		}
		sort.Strings(parts)
		problem(intel.Problem{Where: strings.TrimSuffix(prefix, ": Event") + idSuffix(ev.UUID),
			Reason: fmt.Sprintf("%d to_ids attribute(s) of types vigil does not match skipped: %s", n, strings.Join(parts, ", "))})
	}
	return e.out, nil
}

func idSuffix(uuid string) string {
	if uuid == "" {
		return ""
	}
	return " (event " + uuid + ")"
}

type eventContext struct {
	ev          *event
	feed        string
	problem     func(intel.Problem)
	threat      tagged
	date        time.Time
	stamp       time.Time
	unsupported map[string]int
	out         []intel.Indicator
}

func (e *eventContext) attribute(raw json.RawMessage, where, objectComment string) {
	var a attribute
	if err := json.Unmarshal(raw, &a); err != nil {
		e.problem(intel.Problem{Where: where, Reason: "malformed attribute: " + jsonError(raw, err)})
		return
	}
	if a.Deleted || !a.ToIDs {
		return
	}
	if a.UUID != "" {
		where += " (" + a.UUID + ")"
	}
	vals, supported, err := observables(a.Type, a.Value)
	if !supported {
		e.unsupported[a.Type]++
		return
	}
	if err != nil {
		e.problem(intel.Problem{Where: where, Reason: fmt.Sprintf("%s %q: %v", a.Type, a.Value, err)})
		return
	}
	own := readTags(a.Tag)
	tlp := own.tlp
	if tlp == "" {
		tlp = e.threat.tlp
	}
	conf := own.certainty
	if conf < 0 {
		conf = e.threat.certainty
	}
	if conf < 0 {
		conf = threatLevelConfidence(string(e.ev.ThreatLevelID))
	}
	name := own.name()
	if name == "" {
		name = e.threat.name()
	}
	desc := e.ev.Info
	comment := a.Comment
	if comment == "" {
		comment = objectComment
	}
	if comment != "" {
		desc += ": " + comment
	}
	first, last := e.date, unixTime(a.Timestamp)
	if last.IsZero() {
		last = e.stamp
	}
	if t, ok := isoTime(a.FirstSeen); ok {
		first = t
	}
	if t, ok := isoTime(a.LastSeen); ok {
		last = t
	}
	tags := append(append([]string(nil), e.threat.tags...), own.tags...)
	if len(tags) == 0 {
		tags = nil
	}
	for _, v := range vals {
		tt := own.threatType(v.kind)
		if tt == "" {
			tt = e.threat.threatType(v.kind)
		}
		if tt == "" {
			tt = intel.ThreatUnknown
		}
		e.out = append(e.out, intel.Indicator{
			Kind: v.kind, Value: v.value, ThreatType: tt, Threat: name, Confidence: conf,
			Feed: e.feed, FirstSeen: first, LastSeen: last, TLP: tlp, Description: desc,
			Ref: a.UUID, Tags: tags,
		})
	}
}

// threatLevelConfidence reads an event's threat level (1 high … 4
// undefined) as a confidence: MISP has no confidence of its own, and the
// threat level is what its producers set when they judge an event.
func threatLevelConfidence(id string) int {
	switch id {
	case "1":
		return 90
	case "2":
		return 70
	case "3":
		return 50
	case "4":
		return 30
	}
	return 50
}

func unixTime(s flexString) time.Time {
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// isoTime reads MISP's first_seen/last_seen (ISO 8601 with a zone, or
// microseconds since the epoch in some exports).
func isoTime(s flexString) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999-0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, string(s)); err == nil {
			return t.UTC(), true
		}
	}
	if n, err := strconv.ParseInt(string(s), 10, 64); err == nil && n > 0 {
		return time.UnixMicro(n).UTC(), true
	}
	return time.Time{}, false
}

// jsonError names where in data a decoding error happened.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("field %s: %v", e.Field, err)
		}
		off = e.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d column %d: %v", line, col, err)
}
