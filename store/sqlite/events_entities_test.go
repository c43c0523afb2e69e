package sqlite

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// EventQuery.Entities keeps the events of any of its values (an
// incident's entities), each compared as Entity compares.
func TestEventsOfEntities(t *testing.T) {
	db, _ := openTest(t)
	bs := overlapping("acme", 8, 40, 11)
	commit(t, db, bs...)
	commit(t, db, overlapping("other", 2, 20, 12)...) // another workspace's h3

	for _, c := range []struct {
		name string
		q    store.EventQuery
		keep func(*store.StoredEvent) bool
	}{
		{"host or user", store.EventQuery{Entities: []string{"h3", "u2"}}, func(e *store.StoredEvent) bool {
			return e.Common[event.HostName] == "h3" || e.Common[event.UserName] == "u2"
		}},
		{"case folded", store.EventQuery{Entities: []string{"H3", "10.0.0.2"}}, func(e *store.StoredEvent) bool {
			return e.Common[event.HostName] == "h3" || e.Common[event.SourceIP] == "10.0.0.2"
		}},
		{"duplicates", store.EventQuery{Entities: []string{"h1", "h1", "H1"}}, func(e *store.StoredEvent) bool {
			return e.Common[event.HostName] == "h1"
		}},
		{"with Entity: both", store.EventQuery{Entity: "u1", Entities: []string{"h0", "h4"}}, func(e *store.StoredEvent) bool {
			h := e.Common[event.HostName]
			return e.Common[event.UserName] == "u1" && (h == "h0" || h == "h4")
		}},
		{"with source and time", store.EventQuery{Source: "src0", To: t0.Add(20 * time.Minute), Entities: []string{"h2", "nobody"}},
			func(e *store.StoredEvent) bool {
				return e.Source == "src0" && e.Time.Before(t0.Add(20*60e9)) && e.Common[event.HostName] == "h2"
			}},
		{"unknown", store.EventQuery{Entities: []string{"nobody"}}, func(*store.StoredEvent) bool { return false }},
		{"placeholders only", store.EventQuery{Entities: []string{"-", ""}}, func(*store.StoredEvent) bool { return false }},
	} {
		want := expected(bs, c.keep)
		if len(want) == 0 && c.name != "unknown" && c.name != "placeholders only" {
			t.Fatalf("%s: the data holds no event to find", c.name)
		}
		for _, size := range []int{0, 7, 1000} {
			q := c.q
			q.Limit = size
			sameEvents(t, fmt.Sprintf("%s, pages of %d", c.name, size), allEvents(t, db, "acme", q), want)
		}
	}

	many := make([]string, store.MaxEventEntities+1)
	for i := range many {
		many[i] = fmt.Sprintf("h%d", i)
	}
	if _, _, err := db.Events(ctx, "acme", store.EventQuery{Entities: many}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("%d entities: err = %v, want ErrInvalid", len(many), err)
	}
	if evs, _, err := db.Events(ctx, "acme", store.EventQuery{Entities: many[:store.MaxEventEntities]}); err != nil || len(evs) == 0 {
		t.Errorf("%d entities: %d events, %v", store.MaxEventEntities, len(evs), err)
	}
}
