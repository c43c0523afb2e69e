package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// TestDecodeEventBlockOnly: the events asked for decode as the whole
// block decodes them, in the block's order, and no others; a corrupt block
// fails however few events are asked for.
func TestDecodeEventBlockOnly(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	var evs []StoredEvent
	for i := range 50 {
		e := StoredEvent{ID: event.NewID(), Source: "s", Format: "json", Time: t0.Add(time.Duration(i) * time.Second),
			Received: t0.Add(time.Minute), Raw: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		e.Logsource.Product = "linux"                 // one value for all
		e.Common[event.HostName] = fmt.Sprint("h", i) // a value each
		if i%7 == 0 {
			e.Common[event.UserName] = "root" // some empty
		}
		evs = append(evs, e)
	}
	block := AppendEventBlock(nil, evs)
	all, err := DecodeEventBlock(block, "acme")
	if err != nil || len(all) != len(evs) {
		t.Fatalf("whole block: %d events, %v", len(all), err)
	}
	want := map[event.ID]bool{evs[0].ID: true, evs[7].ID: true, evs[31].ID: true, evs[49].ID: true, event.NewID(): true}
	got, err := DecodeEventBlockOnly(block, "acme", want)
	if err != nil {
		t.Fatal(err)
	}
	wantEvs := []StoredEvent{all[0], all[7], all[31], all[49]}
	if !reflect.DeepEqual(got, wantEvs) {
		t.Fatalf("only four:\n got  %+v\n want %+v", got, wantEvs)
	}
	if got, err := DecodeEventBlockOnly(block, "acme", map[event.ID]bool{}); err != nil || len(got) != 0 {
		t.Errorf("none asked for: %d events, %v", len(got), err)
	}
	if _, err := DecodeEventBlockOnly(block[:len(block)-3], "acme", want); !errors.Is(err, ErrEventBlock) {
		t.Errorf("a cut block: %v, want ErrEventBlock", err)
	}
}

// BenchmarkDecodeEventBlock decodes a block of 1,000 events whole, and
// only two of its events (an incident's evidence in it).
func BenchmarkDecodeEventBlock(b *testing.B) {
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	var evs []StoredEvent
	for i := range 1000 {
		e := StoredEvent{ID: event.NewID(), Source: "s", Format: "json", Time: t0.Add(time.Duration(i) * time.Millisecond),
			Received: t0.Add(time.Minute), Raw: fmt.Appendf(nil, `{"host":"h%d","user":"u%d","ip":"203.0.113.%d","msg":"Failed password"}`, i%50, i%7, i%250)}
		e.Common[event.HostName] = fmt.Sprint("h", i%50)
		e.Common[event.UserName] = fmt.Sprint("u", i%7)
		e.Common[event.SourceIP] = fmt.Sprint("203.0.113.", i%250)
		evs = append(evs, e)
	}
	block := AppendEventBlock(nil, evs)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeEventBlock(block, "acme"); err != nil {
				b.Fatal(err)
			}
		}
	})
	want := map[event.ID]bool{evs[10].ID: true, evs[900].ID: true}
	b.Run("two", func(b *testing.B) {
		for b.Loop() {
			if got, err := DecodeEventBlockOnly(block, "acme", want); err != nil || len(got) != 2 {
				b.Fatal(len(got), err)
			}
		}
	})
}
