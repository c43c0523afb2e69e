package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

func waitRaised(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the signal was not raised", what)
	}
}

func notRaised(t *testing.T, what string, ch <-chan struct{}, wait time.Duration) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: the signal was raised", what)
	case <-time.After(wait):
	}
}

// TestSignalsAcrossProcesses: a DB's stream signals wake on changes that
// another DB (another process) commits to the same schema, and on none of
// another schema; a listener whose connection dies comes back, waking its
// consumers (who may have missed a change meanwhile).
func TestSignalsAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	writer := openTest(t, Options{})
	reader, err := Open(ctx, testDSN(), Options{Schema: writer.schema})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	other := openTest(t, Options{})

	if _, err := writer.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	alerts, incidents, elsewhere := reader.AlertChangesSignal(), reader.IncidentChangesSignal(), other.AlertChangesSignal()
	e := storetest.Event("acme", "s", storetest.T0, "h1", "u", "1.1.1.1")
	b := storetest.Batch("acme", "s", e)
	b.Signals = []alert.Signal{storetest.Signal("acme", "r1", alert.High, "h1", e)}
	if _, err := writer.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	waitRaised(t, "a commit of another DB", alerts)
	notRaised(t, "an alert commit, on the incident stream", incidents, 200*time.Millisecond)
	notRaised(t, "a commit to another schema", elsewhere, 0)

	as, _, err := writer.Alerts(ctx, "acme", store.AlertQuery{})
	if err != nil || len(as) != 1 {
		t.Fatalf("alerts: %v, %v", as, err)
	}
	if _, err := writer.CreateIncident(ctx, "acme", "", []string{as[0].ID}, "alice"); err != nil {
		t.Fatal(err)
	}
	waitRaised(t, "an incident of another DB", incidents)

	// The listener's session is ended (a failover, an idle timeout): it
	// comes back and wakes the consumers.
	alerts = reader.AlertChangesSignal()
	conn, err := pgx.Connect(ctx, testDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		"vigil-listener-"+reader.streams.token).Scan(&n); err != nil || n != 1 {
		t.Fatalf("end the listener's session: %d, %v", n, err)
	}
	waitRaised(t, "the listener's reconnection", alerts)
	// Listening again: a status change of the writer wakes the reader.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var listening int
		// Its last statement is the LISTEN once it listens.
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
			"vigil-listener-"+reader.streams.token).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	alerts = reader.AlertChangesSignal()
	if _, err := writer.SetAlertStatus(ctx, "acme", as[0].ID, alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}
	waitRaised(t, "a status change after the reconnection", alerts)
}
