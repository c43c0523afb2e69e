package windows

import (
	"strconv"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// finish derives Time, Logsource and Common from the captured values;
// services, if not nil, remembers the last channel's service.
func (c *captured) finish(ev *event.Event, services *serviceMemo) error {
	if c.v[capEventID] == "" {
		// Every shape carries the event's id; an object without one is no
		// Windows event (or one wrapped in another object).
		return &decode.Error{Format: Format, Offset: -1, Field: "EventID",
			Reason: "record has no EventID: missing required key EventID (flat, NXLog, Log Analytics), Event.System.EventID (evtx_dump) or winlog.event_id (Winlogbeat)"}
	}
	id, err := strconv.Atoi(c.v[capEventID])
	if err != nil || id < 0 {
		return &decode.Error{Format: Format, Offset: -1, Field: "EventID", Reason: "EventID " + decode.QuoteValue(c.v[capEventID]) + " is not a number"}
	}
	// The first stamp present decides: a present but unreadable one is an
	// error rather than a silent fall back to the receive time.
	for _, ts := range [...]struct{ name, text string }{{"TimeCreated", c.v[capTimeCreated]}, {"@timestamp", c.v[capTimestamp]}, {"EventTime", c.v[capEventTime]}, {"TimeGenerated", c.v[capTimeGenerated]}} {
		if ts.text == "" {
			continue
		}
		t, ok := jsonrecord.ParseTime(ts.text)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: ts.name, Reason: "unreadable time stamp " + decode.QuoteValue(ts.text)}
		}
		ev.Time = t
		break
	}

	service := services.of(c.v[capChannel])
	ev.Logsource = event.Logsource{Product: "windows", Service: service, Category: categoryOf(service, id, c.v[capEventType])}

	// Security 4688 names the processes differently from Sysmon 1; give
	// process_creation rules written with Sysmon's names something to match.
	if service == "security" && id == 4688 {
		if c.v[capImage] == "" && c.v[capNewProcessName] != "" {
			ev.Fields.SetName([]byte("Image"), c.v[capNewProcessName])
		}
		if c.v[capParentImage] == "" && c.v[capParentProcessName] != "" {
			ev.Fields.SetName([]byte("ParentImage"), c.v[capParentProcessName])
		}
	}
	c.mapCommon(ev, id, service)
	return nil
}
