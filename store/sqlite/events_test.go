package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// overlapping makes nb batches of per events whose times interleave across
// batches (as several sources' clocks do), with hosts h0..h4 and users
// u0..u2.
func overlapping(ws string, nb, per int, seed uint64) []*store.Batch {
	r := rand.New(rand.NewPCG(seed, 1))
	var bs []*store.Batch
	for b := range nb {
		src := fmt.Sprintf("src%d", b%2)
		var evs []store.StoredEvent
		for range per {
			at := t0.Add(time.Duration(r.IntN(3600)) * time.Second)
			if r.IntN(10) == 0 {
				at = t0.Add(time.Duration(r.IntN(4)) * time.Second) // ties in time
			}
			evs = append(evs, ev(ws, src, at, fmt.Sprintf("h%d", r.IntN(5)), fmt.Sprintf("u%d", r.IntN(3)), fmt.Sprintf("10.0.0.%d", r.IntN(3))))
		}
		bs = append(bs, batch(ws, src, evs...))
	}
	return bs
}

// expected filters and orders events the slow way.
func expected(bs []*store.Batch, keep func(*store.StoredEvent) bool) []store.StoredEvent {
	var out []store.StoredEvent
	for _, b := range bs {
		for _, e := range b.Events {
			if keep(&e) {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.StoredEvent) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return b.ID.Compare(a.ID)
	})
	return out
}

func sameEvents(t *testing.T, what string, got, want []store.StoredEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Time.Equal(w.Time) || !g.Received.Equal(w.Received) || g.Source != w.Source ||
			g.Format != w.Format || g.Workspace != w.Workspace || g.Logsource != w.Logsource ||
			g.Common != w.Common || !bytes.Equal(g.Raw, w.Raw) {
			t.Fatalf("%s: event %d:\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}

func TestEventsQueryAndPaging(t *testing.T) {
	db, _ := openTest(t)
	bs := overlapping("acme", 12, 40, 7)
	if n := commit(t, db, bs[:6]...); n != 6 {
		t.Fatalf("Commit = %d, want 6", n)
	}
	commit(t, db, bs[6:]...)

	from, to := t0.Add(10*time.Minute), t0.Add(40*time.Minute)
	cases := []struct {
		name string
		q    store.EventQuery
		keep func(*store.StoredEvent) bool
	}{
		{"all", store.EventQuery{}, func(*store.StoredEvent) bool { return true }},
		{"range", store.EventQuery{From: from, To: to},
			func(e *store.StoredEvent) bool { return !e.Time.Before(from) && e.Time.Before(to) }},
		{"from", store.EventQuery{From: to}, func(e *store.StoredEvent) bool { return !e.Time.Before(to) }},
		{"host", store.EventQuery{Entity: "h3"}, func(e *store.StoredEvent) bool { return e.Common[event.HostName] == "h3" }},
		{"ip", store.EventQuery{Entity: "10.0.0.1"}, func(e *store.StoredEvent) bool { return e.Common[event.SourceIP] == "10.0.0.1" }},
		{"source+user+range", store.EventQuery{Source: "src1", Entity: "u2", To: to},
			func(e *store.StoredEvent) bool {
				return e.Source == "src1" && e.Common[event.UserName] == "u2" && e.Time.Before(to)
			}},
		{"not an entity field", store.EventQuery{Entity: "failure"}, func(*store.StoredEvent) bool { return false }},
		{"unknown", store.EventQuery{Entity: "nobody"}, func(*store.StoredEvent) bool { return false }},
		{"other source", store.EventQuery{Source: "none"}, func(*store.StoredEvent) bool { return false }},
	}
	for _, c := range cases {
		want := expected(bs, c.keep)
		sizes := []int{0, 29, 1000}
		if len(want) < 100 {
			sizes = append(sizes, 1)
		}
		for _, pageSize := range sizes {
			q := c.q
			q.Limit = pageSize
			sameEvents(t, fmt.Sprintf("%s, pages of %d", c.name, pageSize), allEvents(t, db, "acme", q), want)
		}
	}

	// A page of exactly the remaining events says there is no more only
	// when there is none.
	evs, next, err := db.Events(ctx, "acme", store.EventQuery{Limit: 1000})
	if err != nil || len(evs) != 480 || next != "" {
		t.Errorf("one page of all: %d events, next %q, %v", len(evs), next, err)
	}
}

func TestEventsInvalid(t *testing.T) {
	db, _ := openTest(t)
	commit(t, db, overlapping("acme", 1, 3, 1)...)
	for name, q := range map[string]store.EventQuery{
		"garbage cursor": {Cursor: "!!"},
		"alert cursor":   {Cursor: encodeCursor("alert", cursor{n: 1, s: "x"})},
		"bad id":         {Cursor: encodeCursor("event", cursor{n: 1, s: "not-an-id"})},
		"empty range":    {From: t0, To: t0},
	} {
		if _, _, err := db.Events(ctx, "acme", q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestEventByID(t *testing.T) {
	db, _ := openTest(t)
	bs := overlapping("acme", 5, 30, 3)
	commit(t, db, bs...)
	for _, b := range bs {
		for _, want := range b.Events {
			got, err := db.Event(ctx, "acme", want.ID)
			if err != nil {
				t.Fatalf("Event(%s): %v", want.ID, err)
			}
			sameEvents(t, "Event", []store.StoredEvent{got}, []store.StoredEvent{want})
		}
	}
	if _, err := db.Event(ctx, "acme", event.NewID()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := db.Event(ctx, "other", bs[0].Events[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other workspace: err = %v, want ErrNotFound", err)
	}
}

// A block whose ids span a long time (records of one batch given ids far
// apart) is still found from any of its ids: the lookup widens by the
// widest span recorded.
func TestEventByIDWideBlock(t *testing.T) {
	db, _ := openTest(t)
	old := ev("acme", "s", t0, "h", "u", "1.1.1.1")
	old.ID = testIDs.New(t0.Add(-72 * time.Hour))
	mid := ev("acme", "s", t0, "h", "u", "1.1.1.1")
	mid.ID = testIDs.New(t0.Add(-time.Hour))
	commit(t, db, batch("acme", "s", old, ev("acme", "s", t0, "h", "u", "1.1.1.1")))
	commit(t, db, batch("acme", "s", mid)) // a narrow block inside the wide one's id range
	for _, id := range []event.ID{old.ID, mid.ID} {
		if _, err := db.Event(ctx, "acme", id); err != nil {
			t.Errorf("Event(%s): %v", id, err)
		}
	}
}

func TestRealWindowsEvents(t *testing.T) {
	evs, ok := windowsEvents(t, 3000)
	if !ok {
		t.Skip("windows corpus absent from ../../../shared/data/events: nothing to test with")
	}
	db, _ := openTest(t)
	var bs []*store.Batch
	for i := 0; i < len(evs); i += 1000 {
		b := batch("acme", "windows", evs[i:min(i+1000, len(evs))]...)
		b.Format = "windows"
		bs = append(bs, b)
	}
	commit(t, db, bs...)
	for i := range evs {
		evs[i].Workspace = "acme"
	}
	want := expected(bs, func(*store.StoredEvent) bool { return true })
	sameEvents(t, "windows events", allEvents(t, db, "acme", store.EventQuery{Limit: 1000}), want)

	host := evs[len(evs)/2].Common[event.HostName]
	wantHost := expected(bs, func(e *store.StoredEvent) bool { return e.Common[event.HostName] == host })
	sameEvents(t, "by host "+host, allEvents(t, db, "acme", store.EventQuery{Entity: host, Limit: 500}), wantHost)

	var stored, raw int64
	if err := db.r.QueryRowContext(ctx, `SELECT sum(length(data)) FROM event_blocks`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		raw += int64(len(e.Raw))
	}
	t.Logf("%d events, %d raw bytes stored in %d (%.1f×)", len(evs), raw, stored, float64(raw)/float64(stored))
	if stored >= raw/2 {
		t.Errorf("blocks take %d bytes for %d raw: compression is not working", stored, raw)
	}
}

// Entity values that JSON would alter (invalid UTF-8, NUL) are indexed as
// they are.
func TestEntityOddBytes(t *testing.T) {
	db, _ := openTest(t)
	odd := []string{"bad\xffutf8", "nul\x00byte", "ünïcode"}
	b := batch("acme", "s")
	for _, v := range odd {
		b.Events = append(b.Events, ev("acme", "s", t0, v, "u", "1.1.1.1"))
	}
	commit(t, db, b)
	for _, v := range odd {
		evs, _, err := db.Events(ctx, "acme", store.EventQuery{Entity: v})
		if err != nil || len(evs) != 1 || evs[0].Common[event.HostName] != v {
			t.Errorf("Events(entity %q) = %d events, %v", v, len(evs), err)
		}
	}
}
