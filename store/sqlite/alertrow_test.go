package sqlite

import (
	"context"
	"reflect"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
)

// TestAlertFromRow: the alert a raw row of the alerts table stands for is
// the one the store reads, evidence, reason and origin included; a row
// that lacks a column is an error naming it.
func TestAlertFromRow(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	if _, err := db.CreateWorkspace(ctx, "acme", "standard"); err != nil {
		t.Fatal(err)
	}
	e := storetest.Event("acme", "s", t0, "h1", "u1", "203.0.113.7")
	b := storetest.Batch("acme", "s", e)
	b.Signals = append(b.Signals, storetest.Signal("acme", "r1", alert.High, "h1", e))
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	as, _, err := db.Alerts(ctx, "acme", store.AlertQuery{})
	if err != nil || len(as) != 1 {
		t.Fatalf("alerts: %d, %v", len(as), err)
	}
	if _, err := db.SetAlertsStatus(ctx, "acme", []string{as[0].ID}, alert.StatusDismissed, alert.ReasonFalsePositive, "alice"); err != nil {
		t.Fatal(err)
	}
	want, err := db.Alert(ctx, "acme", as[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT * FROM alerts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatal("no row")
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	row := map[string]any{}
	for i, c := range cols {
		row[c] = vals[i]
	}
	got, err := AlertFromRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || len(got.Evidence) == 0 || got.Reason != alert.ReasonFalsePositive {
		t.Errorf("from the row:\n%+v\nthe store reads:\n%+v", got, want)
	}
	delete(row, "evidence")
	if _, err := AlertFromRow(row); err == nil {
		t.Error("a row without evidence read as an alert")
	}
}
