package store

import (
	"cmp"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// TestEventPage pages events out of blocks that overlap in time, read by
// descending max time as a store reads them, and compares with all the
// events sorted newest first: no event lost or repeated, order exact.
func TestEventPage(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	ids := event.NewIDSource()
	type block struct {
		max int64
		evs []StoredEvent
	}
	var blocks []block
	var all []StoredEvent
	for range 12 {
		var b block
		start := rng.IntN(100)
		for range 1 + rng.IntN(20) {
			at := t0.Add(time.Duration(start+rng.IntN(30)) * time.Second) // ties on purpose
			e := StoredEvent{ID: ids.New(at), Time: at, Source: []string{"a", "b"}[rng.IntN(2)]}
			e.Common[event.HostName] = []string{"WEB1", "db1"}[rng.IntN(2)]
			b.evs = append(b.evs, e)
			b.max = max(b.max, Nanos(at))
		}
		blocks = append(blocks, b)
		all = append(all, b.evs...)
	}
	slices.SortFunc(blocks, func(a, b block) int { return cmp.Compare(b.max, a.max) })
	newestFirst := func(a, b StoredEvent) int {
		if EventAfter(&a, &b) {
			return -1
		}
		return 1
	}
	slices.SortFunc(all, newestFirst)

	read := func(q EventQuery) []StoredEvent {
		t.Helper()
		var out []StoredEvent
		for pages := 0; ; pages++ {
			p, err := NewEventPage(q)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range blocks {
				if p.Next(b.max) {
					break
				}
				p.Add(slices.Clone(b.evs))
			}
			page, next := p.Result()
			if len(page) > PageLimit(q.Limit) {
				t.Fatalf("a page of %d, limit %d", len(page), q.Limit)
			}
			out = append(out, page...)
			if next == "" {
				return out
			}
			if pages > len(all) {
				t.Fatal("paging does not end")
			}
			q.Cursor = next
		}
	}
	for _, limit := range []int{1, 3, 10, 1000} {
		got := read(EventQuery{Limit: limit})
		if len(got) != len(all) {
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), len(all))
		}
		for i := range got {
			if got[i].ID != all[i].ID {
				t.Fatalf("limit %d: event %d is %s, want %s", limit, i, got[i].ID, all[i].ID)
			}
		}
	}
	from, to := t0.Add(40*time.Second), t0.Add(70*time.Second)
	got := read(EventQuery{Limit: 4, From: from, To: to, Source: "a", Entity: "web1"})
	var want []event.ID
	for _, e := range all {
		if !e.Time.Before(from) && e.Time.Before(to) && e.Source == "a" && e.Common[event.HostName] == "WEB1" {
			want = append(want, e.ID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("filtered: %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i] {
			t.Errorf("filtered: event %d is %s, want %s", i, got[i].ID, want[i])
		}
	}
	if _, err := NewEventPage(EventQuery{From: to, To: from}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an empty range: %v", err)
	}
	if _, err := NewEventPage(EventQuery{Cursor: EncodeCursor("event", Cursor{N: 1, M: int64(time.Second), S: ids.New(t0).String()})}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a cursor's nanoseconds out of range: %v", err)
	}
}
