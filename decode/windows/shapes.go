package windows

import (
	"github.com/valyala/fastjson"
)

// evtxDump walks {"Event":{"System":{…},"EventData":{…}|"UserData":{…}}}
// as evtx_dump (and other XML-to-JSON converters) write it.
func (d *Decoder) evtxDump(e *fastjson.Value) {
	e.GetObject().Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "System":
			d.system(v)
		case "EventData":
			d.eventData(v)
		case "UserData":
			// One wrapper element (LogFileCleared, …) around the fields.
			if uo := v.GetObject(); uo != nil {
				uo.Visit(func(_ []byte, inner *fastjson.Value) { d.eventData(inner) })
			}
		case "#attributes":
			// xmlns only.
		default:
			d.emitValue(k, v) // RenderingInfo and the like, dotted
		}
	})
}

// system walks the System element. An element's text is stored under its
// name, its attributes as Element_Attribute (Provider_Name,
// Execution_ProcessID, Security_UserID), except TimeCreated's SystemTime,
// which is TimeCreated.
func (d *Decoder) system(v *fastjson.Value) {
	o := v.GetObject()
	if o == nil {
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		eo := v.GetObject()
		if eo == nil {
			d.emitValue(k, v)
			return
		}
		eo.Visit(func(ck []byte, cv *fastjson.Value) {
			switch string(ck) {
			case "#text":
				d.emitValue(k, cv)
			case "#attributes":
				ao := cv.GetObject()
				if ao == nil {
					return
				}
				ao.Visit(func(ak []byte, av *fastjson.Value) {
					if string(k) == "TimeCreated" && string(ak) == "SystemTime" {
						d.emitValue(k, av)
						return
					}
					d.name = append(append(append(d.name[:0], k...), '_'), ak...)
					d.emitValue(d.name, av)
				})
			default:
				d.name = append(append(append(d.name[:0], k...), '_'), ck...)
				d.emitValue(d.name, cv)
			}
		})
	})
}

// eventData walks EventData (or a UserData element): each child by its own
// name. Unnamed <Data> stays "Data"; a Data element written as
// {"#attributes":{"Name":"X"},"#text":"v"} becomes X = v.
func (d *Decoder) eventData(v *fastjson.Value) {
	o := v.GetObject()
	if o == nil {
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) == "#attributes" || string(k) == "xml_name" {
			return
		}
		d.dataValue(k, v)
	})
}

func (d *Decoder) dataValue(name []byte, v *fastjson.Value) {
	if a := v.GetArray(); a != nil {
		for _, e := range a {
			d.dataValue(name, e)
		}
		return
	}
	o := v.GetObject()
	if o == nil {
		d.emitValue(name, v)
		return
	}
	text := o.Get("#text")
	if nb := v.GetStringBytes("#attributes", "Name"); nb != nil {
		d.name = append(d.name[:0], nb...)
		if text != nil {
			d.emitValue(d.name, text)
		}
		return
	}
	if text != nil {
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
func (d *Decoder) winlogbeat(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) != "winlog" {
			d.emitValue(k, v)
			return
		}
		v.GetObject().Visit(func(wk []byte, wv *fastjson.Value) {
			if n, ok := winlogbeatNames[string(wk)]; ok {
				d.name = append(d.name[:0], n...)
				d.emitValue(d.name, wv)
				return
			}
			switch string(wk) {
			case "event_data", "user_data":
				d.eventData(wv)
			case "process":
				if pid := wv.Get("pid"); pid != nil {
					d.name = append(d.name[:0], "Execution_ProcessID"...)
					d.emitValue(d.name, pid)
				}
				if tid := wv.Get("thread", "id"); tid != nil {
					d.name = append(d.name[:0], "Execution_ThreadID"...)
					d.emitValue(d.name, tid)
				}
			case "user":
				if sid := wv.Get("identifier"); sid != nil {
					d.name = append(d.name[:0], "Security_UserID"...)
					d.emitValue(d.name, sid)
				}
			default:
				d.name = append(append(d.name[:0], "winlog."...), wk...)
				d.emitValue(d.name, wv)
			}
		})
	})
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
func (d *Decoder) nxlog(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if n, ok := nxlogNames[string(k)]; ok {
			d.name = append(d.name[:0], n...)
			d.emitValue(d.name, v)
			return
		}
		switch string(k) {
		case "Opcode":
			return // the text form; OpcodeValue is the number Sigma means
		case "EventType":
			if b, err := v.StringBytes(); err == nil && nxlogSeverities[string(b)] {
				if d.c.nxlogType == "" {
					d.c.nxlogType, _ = d.flat.Scalar(v)
				}
				return
			}
		}
		d.emitValue(k, v)
	})
}
