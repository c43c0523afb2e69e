package windows

import (
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
)

// evtxDump walks {"Event":{"System":{…},"EventData":{…}|"UserData":{…}}}
// as evtx_dump (and other XML-to-JSON converters) write it. The record is
// known to be JSON (Decode indexed it whole), so the Event object is read
// in one pass from the scanner, its values where they stand, rather than
// indexed level by level, which read each level's bytes once more.
func (d *Decoder) evtxDump(e jsonscan.Value) {
	d.sc.Seek(e.Start)
	d.evtxDumpAt()
}

// evtxDumpAt reads the Event object at the scanner (see evtxDump).
func (d *Decoder) evtxDumpAt() {
	sc := d.sc
	sc.Object()
	for k, ok := sc.Key(); ok; k, ok = sc.Key() {
		switch string(k) {
		case "System":
			d.system()
		case "EventData":
			d.eventDataAt()
		case "UserData":
			// One wrapper element (LogFileCleared, …) around the fields.
			if sc.Peek() != jsonscan.Object {
				sc.Value()
				continue
			}
			sc.Object()
			for _, ok := sc.Key(); ok; _, ok = sc.Key() {
				d.eventDataAt()
			}
		case "#attributes":
			sc.Value() // xmlns only
		default:
			d.emitValue(k, sc.Value()) // RenderingInfo and the like, dotted
		}
	}
}

// system reads the System element at the scanner. An element's text is
// stored under its name, its attributes as Element_Attribute
// (Provider_Name, Execution_ProcessID, Security_UserID), except
// TimeCreated's SystemTime, which is TimeCreated.
func (d *Decoder) system() {
	sc := d.sc
	if sc.Peek() != jsonscan.Object {
		sc.Value()
		return
	}
	sc.Object()
	for m, ok := sc.Key(); ok; m, ok = sc.Key() {
		if sc.Peek() != jsonscan.Object {
			d.emitValue(m, sc.Value())
			continue
		}
		sc.Object()
		for c, ok := sc.Key(); ok; c, ok = sc.Key() {
			switch string(c) {
			case "#text":
				d.emitValue(m, sc.Value())
			case "#attributes":
				if sc.Peek() != jsonscan.Object {
					sc.Value()
					continue
				}
				sc.Object()
				for a, ok := sc.Key(); ok; a, ok = sc.Key() {
					if string(m) == "TimeCreated" && string(a) == "SystemTime" {
						d.emitValue(m, sc.Value())
						continue
					}
					d.name = append(append(append(d.name[:0], m...), '_'), a...)
					d.emitValue(d.name, sc.Value())
				}
			default:
				d.name = append(append(append(d.name[:0], m...), '_'), c...)
				d.emitValue(d.name, sc.Value())
			}
		}
	}
}

// eventData walks the EventData (or a UserData element) v; see
// eventDataAt.
func (d *Decoder) eventData(v jsonscan.Value) {
	if v.Kind != jsonscan.Object {
		return
	}
	d.sc.Seek(v.Start)
	d.eventDataAt()
}

// eventDataAt reads the EventData (or a UserData element) at the scanner:
// each child by its own name. Unnamed <Data> stays "Data"; a Data element
// written as {"#attributes":{"Name":"X"},"#text":"v"} becomes X = v.
func (d *Decoder) eventDataAt() {
	sc := d.sc
	if sc.Peek() != jsonscan.Object {
		sc.Value()
		return
	}
	sc.Object()
	for k, ok := sc.Key(); ok; k, ok = sc.Key() {
		if string(k) == "#attributes" || string(k) == "xml_name" {
			sc.Value()
			continue
		}
		if sc.Peek() == jsonscan.Array {
			d.dataArray(k)
			continue
		}
		v := sc.Value()
		back := sc.Offset()
		d.dataValue(k, v)
		sc.Seek(back)
	}
}

func (d *Decoder) dataValue(name []byte, v jsonscan.Value) {
	switch v.Kind {
	case jsonscan.Array:
		d.sc.Seek(v.Start)
		d.dataArray(name)
	case jsonscan.Object:
		ms, mark := d.children(v)
		d.dataObject(name, v, ms)
		d.members = d.members[:mark]
	default:
		d.emitValue(name, v)
	}
}

// dataArray reads the array at the scanner, each element as dataValue
// does, in one pass: arrays within it are walked where they stand rather
// than passed over and read again, which would make deep nesting cost the
// square of its depth.
func (d *Decoder) dataArray(name []byte) {
	sc := d.sc
	sc.Array()
	for sc.More() {
		if sc.Peek() == jsonscan.Array {
			d.dataArray(name)
			continue
		}
		e := sc.Value()
		back := sc.Offset()
		d.dataValue(name, e)
		sc.Seek(back)
	}
}

// dataObject stores the object v, whose members are ms, under the name
// its attributes give, or name.
func (d *Decoder) dataObject(name []byte, v jsonscan.Value, ms []member) {
	text, hasText := get(ms, "#text")
	if attrs, ok := get(ms, "#attributes"); ok && attrs.Kind == jsonscan.Object {
		as, _ := d.children(attrs) // dropped with ms
		if n, ok := get(as, "Name"); ok && n.Kind == jsonscan.String {
			d.name = append(d.name[:0], d.sc.Text(n)...)
			if hasText {
				d.emitValue(d.name, text)
			}
			return
		}
	}
	if hasText {
		d.emitValue(name, text)
		return
	}
	d.emitValue(name, v)
}

// winlogbeatNames renames winlog.* keys to the Sigma names.
var winlogbeatNames = map[string]string{
	"event_id":            "EventID",
	"channel":             "Channel",
	"computer_name":       "Computer",
	"provider_name":       "Provider_Name",
	"provider_guid":       "Provider_Guid",
	"record_id":           "EventRecordID",
	"opcode":              "Opcode",
	"task":                "Task",
	"keywords":            "Keywords",
	"version":             "Version",
	"activity_id":         "Correlation_ActivityID",
	"related_activity_id": "Correlation_RelatedActivityID",
}

// winlogbeat walks a Winlogbeat document: winlog.* as above, the rest
// (@timestamp, message, host.name, …) flattened with dotted names.
func (d *Decoder) winlogbeat(top []member) {
	for _, m := range top {
		if string(m.key) != "winlog" {
			d.emitValue(m.key, m.val)
			continue
		}
		if m.val.Kind != jsonscan.Object {
			continue
		}
		ws, mark := d.children(m.val)
		for _, w := range ws {
			d.winlog(w)
		}
		d.members = d.members[:mark]
	}
}

// winlog stores one member of the winlog object.
func (d *Decoder) winlog(w member) {
	if n, ok := winlogbeatNames[string(w.key)]; ok {
		d.name = append(d.name[:0], n...)
		d.emitValue(d.name, w.val)
		return
	}
	switch string(w.key) {
	case "event_data", "user_data":
		d.eventData(w.val)
	case "process":
		if pid, ok := d.path2(w.val, "pid", ""); ok {
			d.name = append(d.name[:0], "Execution_ProcessID"...)
			d.emitValue(d.name, pid)
		}
		if tid, ok := d.path2(w.val, "thread", "id"); ok {
			d.name = append(d.name[:0], "Execution_ThreadID"...)
			d.emitValue(d.name, tid)
		}
	case "user":
		if sid, ok := d.path2(w.val, "identifier", ""); ok {
			d.name = append(d.name[:0], "Security_UserID"...)
			d.emitValue(d.name, sid)
		}
	default:
		d.name = append(append(d.name[:0], "winlog."...), w.key...)
		d.emitValue(d.name, w.val)
	}
}

// path2 returns v.k1, or v.k1.k2 unless k2 is empty: the first member of
// each name, in objects only.
func (d *Decoder) path2(v jsonscan.Value, k1, k2 string) (jsonscan.Value, bool) {
	if v.Kind != jsonscan.Object {
		return jsonscan.Value{}, false
	}
	ms, mark := d.children(v)
	v, ok := get(ms, k1)
	if ok && k2 != "" {
		v, ok = d.path2(v, k2, "")
	}
	d.members = d.members[:mark]
	return v, ok
}

// nxlogNames renames NXLog im_msvistalog keys to the Sigma names.
var nxlogNames = map[string]string{
	"Hostname":           "Computer",
	"SourceName":         "Provider_Name",
	"ProviderGuid":       "Provider_Guid",
	"RecordNumber":       "EventRecordID",
	"ExecutionProcessID": "Execution_ProcessID",
	"ProcessID":          "Execution_ProcessID",
	"ExecutionThreadID":  "Execution_ThreadID",
	"ThreadID":           "Execution_ThreadID",
	"UserID":             "Security_UserID",
	"OpcodeValue":        "Opcode",
	"ActivityID":         "Correlation_ActivityID",
	"RelatedActivityID":  "Correlation_RelatedActivityID",
}

// nxlogSeverities are the values NXLog writes into EventType. They collide
// with Sysmon's own EventType (SetValue, CreateKey), so they are dropped as
// fields and used only for event.outcome.
var nxlogSeverities = map[string]bool{
	"CRITICAL": true, "ERROR": true, "WARNING": true, "INFO": true, "VERBOSE": true,
	"DEBUG": true, "AUDIT_SUCCESS": true, "AUDIT_FAILURE": true,
}

// nxlog walks NXLog's flat JSON: EventData fields at the top level beside
// NXLog's own names for the System fields.
func (d *Decoder) nxlog(top []member) {
	for _, m := range top {
		if n, ok := nxlogNames[string(m.key)]; ok {
			d.name = append(d.name[:0], n...)
			d.emitValue(d.name, m.val)
			continue
		}
		switch string(m.key) {
		case "Opcode":
			continue // the text form; OpcodeValue is the number Sigma means
		case "EventType":
			if m.val.Kind == jsonscan.String {
				if b := d.sc.Text(m.val); nxlogSeverities[string(b)] {
					if d.c.nxlogType == "" {
						d.c.nxlogType = bytesString(b)
					}
					continue
				}
			}
		}
		d.emitValue(m.key, m.val)
	}
}
