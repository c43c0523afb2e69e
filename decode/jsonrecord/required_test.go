package jsonrecord

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestWrapper: a member holding more of a shape's required keys than the
// record itself is the wrapper; one holding fewer is part of the record.
func TestWrapper(t *testing.T) {
	for _, tt := range []struct {
		rec   string
		names []string
		want  string
	}{
		{`{"log_type":"x","event":{"eventTime":"t","eventName":"n","eventSource":"s"}}`, []string{"eventTime", "eventName", "eventSource"}, "event"},
		{`{"event":{"eventname":"n"}}`, []string{"eventTime", "eventName"}, "event"},
		{`{"time":"t","category":"c","properties":{"operationName":"o"}}`, []string{"time", "operationName", "category"}, ""},
		{`{"records":{"eventTimestamp":"t"}}`, []string{"time (or eventTimestamp)", "resourceId"}, "records"},
		{`{"a":1,"b":[{"eventTime":"t"}]}`, []string{"eventTime"}, ""},
		{`{}`, []string{"eventTime"}, ""},
	} {
		var p fastjson.Parser
		v, err := p.Parse(tt.rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := Wrapper(v.GetObject(), tt.names...); got != tt.want {
			t.Errorf("Wrapper(%s, %q) = %q, want %q", tt.rec, tt.names, got, tt.want)
		}
	}
	if got := Wrapper(nil, "x"); got != "" {
		t.Errorf("Wrapper(nil) = %q", got)
	}
}

func TestMissing(t *testing.T) {
	e := Missing("cloudtrail", "event", "eventTime", "eventSource")
	want := `cloudtrail: missing required keys eventTime, eventSource (found under "event": send the record itself, not an object around it)`
	if e.Error() != want || e.Offset != -1 {
		t.Errorf("got %q (offset %d), want %q", e.Error(), e.Offset, want)
	}
	if e := Missing("cowrie", "", "timestamp"); e.Error() != "cowrie: missing required key timestamp" {
		t.Errorf("got %q", e.Error())
	}
}
