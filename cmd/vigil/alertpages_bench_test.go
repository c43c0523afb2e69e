package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
	"github.com/vigil-sec/vigil/web"
)

// BenchmarkAlertPages renders the alert queue (unfiltered and by each of
// its indexed filters) and an alert page over 100,000 alerts, through the
// dashboard, the API in process and the suite's store, as a signed-in
// responder: the issue asks for every page in under 200 ms.
func BenchmarkAlertPages(b *testing.B) {
	const n, per = 100_000, 1000
	ctx := context.Background()
	// The suite's store (SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres).
	db := teststore.Open[interface {
		store.Store
		store.Users
		store.Assets
	}](b)
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	techs := [][]string{{"T1110"}, {"T1003"}, {"T1190"}, {"T1078"}, {"T1059"}}
	ids := event.NewIDSource()
	for start := 0; start < n; start += per {
		src := []string{"fw", "auth"}[start/per%2]
		bt := &store.Batch{ID: ids.New(t0), Workspace: "acme", Source: src, Format: "kv", Received: t0}
		for i := start; i < start+per; i++ {
			at := t0.Add(time.Duration(i) * time.Second)
			ev := store.StoredEvent{ID: ids.New(at), Workspace: "acme", Source: src, Format: "kv", Time: at, Received: at,
				Raw: fmt.Appendf(nil, "host=h%d action=login", i)}
			ev.Common[event.HostName] = fmt.Sprintf("h%d", i)
			bt.Events = append(bt.Events, ev)
			ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("h%d", i)}}
			bt.Signals = append(bt.Signals, alert.Signal{Type: "signature",
				Rule:     alert.RuleRef{ID: "r", Title: "Rule r", Remediation: "1. Look.\n2. Act."},
				Severity: alert.Severity(i % 5), Techniques: techs[i%len(techs)], Entities: ents,
				DedupKey: alert.DedupKey("acme", "r", ents),
				Origin:   &alert.Origin{IP: fmt.Sprintf("198.18.%d.%d", i/250%250, i%250), Country: string([]byte{'A' + byte(i%40/20), 'A' + byte(i%20)})},
				Evidence: alert.Evidence{EventID: ev.ID.String(), Time: at}})
		}
		if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
			b.Fatal(err)
		}
	}
	al, _, err := db.Alerts(ctx, "acme", store.AlertQuery{Limit: 1})
	if err != nil || len(al) != 1 {
		b.Fatalf("alerts: %v", err)
	}
	sample := al[0].ID
	hash, err := tenant.HashPassword("a long bench password")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "ann", PasswordHash: hash, Created: t0,
		Roles: []tenant.Membership{{Workspace: "acme", Role: "responder"}}}); err != nil {
		b.Fatal(err)
	}
	a, err := api.New(api.Config{Store: db, Registry: prometheus.NewRegistry(), Version: "bench", Assets: db})
	if err != nil {
		b.Fatal(err)
	}
	h, err := web.New(web.Config{API: a, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/session",
		bytes.NewReader([]byte(`{"user":"ann","password":"a long bench password","workspace":"acme"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
		b.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	for _, p := range []struct{ name, path string }{
		{"queue", "/alerts"},
		{"threat_type", "/alerts?threat_type=brute_force"},
		{"country", "/alerts?country=AH"},
		{"source", "/alerts?source=fw"},
		{"severity_open", "/alerts?severity=high&status=open"},
		{"status_none", "/alerts?status=dismissed"},
		{"alert", "/alerts/" + sample},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %.300s", p.path, rec.Code, rec.Body)
				}
			}
		})
	}
}
