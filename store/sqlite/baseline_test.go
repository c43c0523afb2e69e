package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

func TestBaselineSaveLoadPurge(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	db := openAt(t, path, Options{})
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	e := func(ent, v string, n int64, first, last int) store.BaselineEntry {
		return store.BaselineEntry{Entity: ent, Value: v, Count: n, First: t0.Add(time.Duration(first) * time.Hour), Last: t0.Add(time.Duration(last) * time.Hour)}
	}
	if started, got, err := db.LoadBaseline(ctx, "w", "sql.principal", time.Time{}, 10); err != nil || !started.IsZero() || len(got) != 0 {
		t.Fatalf("empty load = %v %v %v", started, got, err)
	}
	if err := db.SaveBaseline(ctx, "w", "sql.principal", t0, []store.BaselineEntry{e("db1", "webapp", 5, 0, 10), e("db1", "dba", 1, 1, 1), e("db2", "old", 2, 0, 2)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// An upsert replaces the count and widens first/last; a later start
	// does not move the model's start.
	if err := db.SaveBaseline(ctx, "w", "sql.principal", t0.Add(time.Hour), []store.BaselineEntry{e("db1", "webapp", 7, 3, 12)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveBaseline(ctx, "x", "sql.principal", t0, []store.BaselineEntry{e("db1", "other", 1, 0, 0)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openAt(t, path, Options{}) // kept across a restart
	started, got, err := db.LoadBaseline(ctx, "w", "sql.principal", time.Time{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !started.Equal(t0) {
		t.Errorf("started = %v, want %v", started, t0)
	}
	want := []store.BaselineEntry{e("db1", "webapp", 7, 0, 12), e("db2", "old", 2, 0, 2)}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("load (limit 2, most recent first) = %+v, want %+v", got, want)
	}
	// The purge drops what was last seen before its time, in that model only.
	if err := db.SaveBaseline(ctx, "w", "sql.principal", time.Time{}, nil, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, got, _ = db.LoadBaseline(ctx, "w", "sql.principal", time.Time{}, 10)
	if len(got) != 2 || got[0].Value != "webapp" || got[1].Value != "old" {
		t.Fatalf("after purge = %+v, want webapp and old (dba last seen before)", got)
	}
	_, got, _ = db.LoadBaseline(ctx, "w", "sql.principal", t0.Add(5*time.Hour), 10)
	if len(got) != 1 || got[0].Value != "webapp" {
		t.Fatalf("since = %+v, want webapp only", got)
	}
	if _, got, _ := db.LoadBaseline(ctx, "x", "sql.principal", time.Time{}, 10); len(got) != 1 || got[0].Value != "other" {
		t.Fatalf("workspace x = %+v", got)
	}
}
