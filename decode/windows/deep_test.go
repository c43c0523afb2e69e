package windows

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
	"github.com/vigil-sec/vigil/event"
)

// TestDeepNestingStaysLinear decodes records nested as deeply as the
// scanner allows through each shape's walk. Reading a level by passing over
// it and then walking into it would cost the square of the depth: half a
// second a record here, where a linear walk takes about a millisecond.
func TestDeepNestingStaysLinear(t *testing.T) {
	n := jsonscan.MaxDepth - 10
	for _, shape := range []struct{ open, close string }{
		{`{"Event":{"EventData":{"Data":` + strings.Repeat(`[`, n), strings.Repeat(`]`, n) + `}}}`},
		{`{"Event":{"EventData":{"Data":` + strings.Repeat(`{"#text":`, n), strings.Repeat(`}`, n) + `}}}`},
		{`{"Event":{"System":` + strings.Repeat(`{"a":`, n), strings.Repeat(`}`, n) + `}}`},
		{`{"winlog":{"event_data":` + strings.Repeat(`[{"#text":`, n/2), strings.Repeat(`}]`, n/2) + `}}`},
		{`{"EventID":1,"a":` + strings.Repeat(`{"a":[`, n/2), strings.Repeat(`]}`, n/2) + `}`},
	} {
		rec := []byte(shape.open + `"x"` + shape.close)
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		start := time.Now()
		New().Decode(rec, &ev) // most have no EventID: only the time matters
		if took := time.Since(start); took > 250*time.Millisecond {
			t.Errorf("%.40s…: %v for %d bytes", shape.open, took, len(rec))
		}
	}
}
