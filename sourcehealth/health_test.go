package sourcehealth

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	// SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres.
	db := teststore.Open[store.Store](t)
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fw01", "never"} {
		if err := db.PutSource(ctx, tenant.Source{Workspace: "acme", Name: s, Format: "syslog"}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// send commits an empty batch of fw01 received at t: what the detect stage
// does for a batch, as far as the source's counters go.
func send(t *testing.T, db store.Store, at time.Time) {
	t.Helper()
	ev := store.StoredEvent{ID: event.NewID(), Workspace: "acme", Source: "fw01", Format: "syslog", Time: at, Received: at}
	_, err := db.Commit(context.Background(), []*store.Batch{{ID: event.NewID(), Workspace: "acme", Source: "fw01",
		Format: "syslog", Received: at, Events: []store.StoredEvent{ev}}})
	if err != nil {
		t.Fatal(err)
	}
}

func silenceAlerts(t *testing.T, db store.Store) []alert.Alert {
	t.Helper()
	as, _, err := db.Alerts(context.Background(), "acme", store.AlertQuery{RuleID: RuleID})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestSilenceAlertOncePerSilence(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := &clock{t0}
	newMon := func() *Monitor {
		m, err := New(Config{Store: db, Now: clk.now, Default: Policy{Factor: 10, Floor: 5 * time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newMon()
	// fw01 sends every minute for a while.
	for i := range 5 {
		clk.t = t0.Add(time.Duration(i) * time.Minute)
		send(t, db, clk.t)
		if err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	last := clk.t
	h := m.Health("acme")
	if len(h) != 1 || h[0].Source != "fw01" || h[0].Interval != time.Minute || h[0].Threshold != 10*time.Minute {
		t.Fatalf("health %+v: want fw01 alone (never-sent sources are not watched), interval 1m, threshold 10m", h)
	}
	if h[0].Rate <= 0 {
		t.Errorf("rate %v, want > 0", h[0].Rate)
	}

	// Quiet for 9 minutes: under 10× its interval, no alert.
	clk.t = last.Add(9 * time.Minute)
	m.Check(ctx)
	if n := len(silenceAlerts(t, db)); n != 0 {
		t.Fatalf("%d alerts after 9 quiet minutes, want 0", n)
	}
	// 11 minutes: one alert; more checks, and a restarted monitor, add none.
	clk.t = last.Add(11 * time.Minute)
	m.Check(ctx)
	clk.t = last.Add(30 * time.Minute)
	m.Check(ctx)
	newMon().Check(ctx)
	as := silenceAlerts(t, db)
	if len(as) != 1 || as[0].Status != alert.StatusNew || as[0].Count != 1 || as[0].Rule.Title != "Source fell silent: fw01" {
		t.Fatalf("alerts %+v, want one new alert for fw01 counted once", as)
	}
	src, _ := db.Source(ctx, "acme", "fw01")
	if !src.LastSeen.Equal(last) || src.Events != 5 {
		t.Errorf("fw01 last seen %v, events %d: the alert must not count as the source sending", src.LastSeen, src.Events)
	}

	// It resumes: the alert is resolved.
	clk.t = last.Add(31 * time.Minute)
	send(t, db, clk.t)
	m.Check(ctx)
	as = silenceAlerts(t, db)
	if len(as) != 1 || as[0].Status != alert.StatusResolved {
		t.Fatalf("alerts %+v, want the one alert resolved", as)
	}
	// A second silence is a second alert.
	clk.t = clk.t.Add(time.Hour)
	m.Check(ctx)
	if as = silenceAlerts(t, db); len(as) != 2 {
		t.Fatalf("%d alerts after a second silence, want 2", len(as))
	}
}

func TestPolicyOff(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := &clock{t0}
	send(t, db, t0)
	m, _ := New(Config{Store: db, Now: clk.now, Policies: map[string]Policy{"acme/fw01": {Off: true}}})
	m.Check(ctx)
	clk.t = t0.Add(48 * time.Hour)
	m.Check(ctx)
	if n := len(silenceAlerts(t, db)); n != 0 {
		t.Fatalf("%d alerts for a source whose silence alert is off", n)
	}
}
