package event

import (
	"bytes"
	"encoding/json"
	"time"
)

// AppendJSON appends the event's JSON form, as `vigil decode` and the API
// show it: one object with id, workspace, source, format, logsource,
// @timestamp and received (RFC 3339, UTC), the common fields as top-level
// keys under their dotted ECS names, and the source's own fields under
// "fields" (a field with several values as an array).
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, "id", true)
	b = appendString(b, e.ID.String())
	if e.Workspace != "" {
		b = appendKey(b, "workspace", false)
		b = appendString(b, e.Workspace)
	}
	b = appendKey(b, "source", false)
	b = appendString(b, e.Source)
	if e.Format != "" {
		b = appendKey(b, "format", false)
		b = appendString(b, e.Format)
	}
	b = appendKey(b, "logsource", false)
	b = append(b, '{')
	first := true
	for _, kv := range [...][2]string{{"product", e.Logsource.Product}, {"category", e.Logsource.Category}, {"service", e.Logsource.Service}} {
		if kv[1] == "" {
			continue
		}
		b = appendKey(b, kv[0], first)
		b = appendString(b, kv[1])
		first = false
	}
	b = append(b, '}')
	b = appendKey(b, "@timestamp", false)
	b = appendString(b, e.Time.UTC().Format(time.RFC3339Nano))
	b = appendKey(b, "received", false)
	b = appendString(b, e.Received.UTC().Format(time.RFC3339Nano))
	for i, v := range e.Common {
		if v == "" {
			continue
		}
		b = appendKey(b, commonNames[i], false)
		b = appendString(b, v)
	}
	if e.Fields.dict != nil && e.Fields.Len() > 0 {
		b = appendKey(b, "fields", false)
		b = append(b, '{')
		for i, id := range e.Fields.IDs() {
			b = appendKey(b, e.Fields.dict.Name(id), i == 0)
			if !e.Fields.Multi(id) {
				v, _ := e.Fields.Get(id)
				b = appendString(b, v)
				continue
			}
			b = append(b, '[')
			n := 0
			e.Fields.Each(id, func(v string) bool {
				if n > 0 {
					b = append(b, ',')
				}
				b = appendString(b, v)
				n++
				return true
			})
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func appendKey(b []byte, k string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = appendString(b, k)
	return append(b, ':')
}

func appendString(b []byte, s string) []byte {
	if safeASCII(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	// Control characters and invalid UTF-8 are escaped, but not <, > and &:
	// JSON is not HTML, and a command line "a > b & c" must read as it was.
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	out := buf.Bytes()
	return out[:len(out)-1] // the newline Encode adds
}

func safeASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
