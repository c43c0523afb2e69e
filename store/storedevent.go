package store

import "github.com/vigil-sec/vigil/event"

// Event returns the stored parts of se as an event — place, time,
// logsource, common fields and raw record, no own fields — the form
// decode.Renderer takes to decode the record again.
func (se *StoredEvent) Event() event.Event {
	return event.Event{
		ID:        se.ID,
		Workspace: se.Workspace,
		Source:    se.Source,
		Format:    se.Format,
		Logsource: se.Logsource,
		Time:      se.Time,
		Received:  se.Received,
		Common:    se.Common,
		Raw:       se.Raw,
	}
}
