package sourcehealth

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/tenant"
)

// What an admin set on the source wins over the configuration: its
// silent-after raises the alert sooner than the configured floor, and its
// alert turned off raises none.
func TestSourceControlsOverPolicy(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	// The source controls, as the API sets them.
	sc, ok := db.(interface {
		SetSourceControls(ctx context.Context, workspace, name string, c tenant.SourceControls) (tenant.Source, error)
	})
	if !ok {
		t.Fatalf("store %T keeps no source controls", db)
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := &clock{t0}
	send(t, db, t0)
	m, _ := New(Config{Store: db, Now: clk.now, Policies: map[string]Policy{"acme/fw01": {Floor: 10 * time.Hour}}})
	m.Check(ctx)

	if _, err := sc.SetSourceControls(ctx, "acme", "fw01", tenant.SourceControls{NoSilenceAlert: true}); err != nil {
		t.Fatal(err)
	}
	clk.t = t0.Add(48 * time.Hour)
	m.Check(ctx)
	if n := len(silenceAlerts(t, db)); n != 0 {
		t.Fatalf("%d alerts for a source whose alert an admin turned off", n)
	}

	// A source that sends every minute, watched afresh: its own 30
	// minutes, not the configured 10 hours, is the floor.
	if _, err := sc.SetSourceControls(ctx, "acme", "fw01", tenant.SourceControls{SilentAfter: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	m, _ = New(Config{Store: db, Now: clk.now, Policies: map[string]Policy{"acme/fw01": {Floor: 10 * time.Hour}}})
	t1 := t0.Add(49 * time.Hour)
	for i := range 3 {
		clk.t = t1.Add(time.Duration(i) * time.Minute)
		send(t, db, clk.t)
		m.Check(ctx)
	}
	clk.t = t1.Add(20 * time.Minute)
	m.Check(ctx)
	if n := len(silenceAlerts(t, db)); n != 0 {
		t.Fatalf("%d alerts after 20 minutes, under the source's 30", n)
	}
	clk.t = t1.Add(2 * time.Hour)
	m.Check(ctx)
	if n := len(silenceAlerts(t, db)); n != 1 {
		t.Fatalf("%d alerts after 2 hours (source's floor 30 min, configuration's 10 h), want 1", n)
	}
}
