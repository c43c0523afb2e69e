package decode_test

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// requiredRow is a row of docs/formats.md's "Required keys" table.
type requiredRow struct {
	format, shape string
	keys          []string // dotted paths into rec
	rec           string
}

// requiredRows reads the table, so that what the document promises is
// what is tested.
func requiredRows(t *testing.T) []requiredRow {
	t.Helper()
	doc, err := os.ReadFile("../docs/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n### Required keys\n")
	if !ok {
		t.Fatal("docs/formats.md has no \"### Required keys\" section")
	}
	section, _, _ = strings.Cut(section, "\n#")
	code := regexp.MustCompile("`([^`]+)`")
	var rows []requiredRow
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			t.Fatalf("row %q: %d cells, want 4", line, len(cells))
		}
		r := requiredRow{format: strings.Trim(cells[0], "`"), shape: cells[1], rec: strings.Trim(cells[3], "`")}
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			r.keys = append(r.keys, m[1])
		}
		rows = append(rows, r)
	}
	if len(rows) < 10 {
		t.Fatalf("%d rows in the Required keys table", len(rows))
	}
	return rows
}

// without returns rec with the key at the dotted path taken out; a key
// that holds a dot itself (nsgflow's flow.0) is tried whole first.
func without(t *testing.T, rec, path string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(rec), &m); err != nil {
		t.Fatalf("%s: %v", rec, err)
	}
	o := m
	for {
		if _, ok := o[path]; ok {
			delete(o, path)
			break
		}
		head, rest, ok := strings.Cut(path, ".")
		next, isObj := o[head].(map[string]any)
		if !ok || !isObj {
			t.Fatalf("%s: no key %s", rec, path)
		}
		o, path = next, rest
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeWith(t *testing.T, format string, rec []byte) (*event.Event, error) {
	t.Helper()
	d, err := decode.New(format)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Format: format, Received: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	ev.Fields.Bind(event.NewOpenDict())
	n := 0
	if x, ok := d.(decode.Expander); ok {
		err = x.Expand(rec, ev, func(*event.Event) { n++ })
		if err == nil && n == 0 {
			t.Errorf("%s %s: no event", format, rec)
		}
		return ev, err
	}
	return ev, d.Decode(rec, ev)
}

// TestRequiredKeys holds every JSON format to its row of the table: the
// smallest record decodes; taking out any required key
// is refused with a reason that names the key; and the record wrapped in
// another object is refused by the format, not sniffed as it, and goes to
// json under auto.
func TestRequiredKeys(t *testing.T) {
	for _, r := range requiredRows(t) {
		name := r.format + "/" + r.shape
		_, err := decodeWith(t, r.format, []byte(r.rec))
		if err != nil {
			t.Errorf("%s: smallest record %s refused: %v", name, r.rec, err)
			continue
		}
		if len(r.keys) == 0 {
			continue // json: any object
		}
		for _, k := range r.keys {
			rec := without(t, r.rec, k)
			_, err := decodeWith(t, r.format, rec)
			var de *decode.Error
			switch {
			case !errors.As(err, &de):
				t.Errorf("%s: without %s (%s): err = %v, want a *decode.Error", name, k, rec, err)
			case !strings.Contains(err.Error(), k):
				t.Errorf("%s: without %s: %q does not name %s", name, k, err, k)
			}
		}

		wrapped := []byte(`{"event":` + r.rec + `}`)
		if _, err := decodeWith(t, r.format, wrapped); err == nil {
			t.Errorf("%s: wrapped record %s decoded", name, wrapped)
		} else if !strings.Contains(err.Error(), `"event"`) && r.format != "windows" && r.format != "mssql-audit" {
			// The decoders built on decode/jsonrecord's Record say where the
			// record is.
			t.Errorf("%s: wrapped: %q does not say the record is under \"event\"", name, err)
		}
		if f, score := decode.Sniff(wrapped); f == r.format {
			t.Errorf("%s: wrapped record sniffed as %s (%d)", name, f, score)
		}
		ev, err := decodeWith(t, "auto", wrapped)
		if err != nil || ev.Format != "json" {
			t.Errorf("%s: auto on the wrapped record: format %q, err %v; want json", name, ev.Format, err)
		}
	}
}
