package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// A workspace's assets kept in the store enrich its events, joined with
// the assets file's (given to every workspace); a change made through the
// store and announced with AssetsChanged applies to the next events,
// and one workspace's assets never enrich another's events.
func TestServeEnrichmentStoredAssetsReload(t *testing.T) {
	dir := t.TempDir()
	db := openTestStore(t, dir)
	ctx := context.Background()
	for _, ws := range []string{"acme", "other"} {
		if _, err := db.CreateWorkspace(ctx, ws, "standard"); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "assets.yaml")
	writeFile(t, file, "assets:\n  - {name: dc01, type: host, criticality: critical, owner: it}\n")
	if err := db.CreateAsset(ctx, store.Asset{Workspace: "acme", Name: "dmz", Type: store.AssetNetwork, Match: []string{"192.0.2.0/24"}, Criticality: "high", Owner: "netops"}); err != nil {
		t.Fatal(err)
	}
	e, err := newServeEnrichment(&Config{AssetsFile: file}, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	enrichOne := func(ws, host, ip string) []enrich.Asset {
		ev := &event.Event{}
		ev.Common[event.HostName], ev.Common[event.SourceIP] = host, ip
		var r enrich.Result
		r.Reset(time.Now())
		e.chain(ws).Enrich(ev, &r)
		return r.Assets
	}
	names := func(as []enrich.Asset) (out []string) {
		for _, a := range as {
			out = append(out, a.Name+"/"+a.Owner)
		}
		return out
	}
	if got := names(enrichOne("acme", "dc01", "192.0.2.9")); len(got) != 2 || got[0] != "dc01/it" || got[1] != "dmz/netops" {
		t.Fatalf("acme: %v, want the file's host and the stored network", got)
	}
	if got := names(enrichOne("other", "dc01", "192.0.2.9")); len(got) != 1 || got[0] != "dc01/it" {
		t.Fatalf("other: %v, want the file's host only", got)
	}

	if _, err := db.PutAsset(ctx, store.Asset{Workspace: "acme", Name: "dmz", Type: store.AssetNetwork, Match: []string{"198.51.100.0/24"}, Owner: "secops"}); err != nil {
		t.Fatal(err)
	}
	if got := names(enrichOne("acme", "", "192.0.2.9")); len(got) != 1 {
		t.Fatalf("before AssetsChanged the inventory is the one loaded: %v", got)
	}
	e.AssetsChanged("acme")
	if got := names(enrichOne("acme", "", "192.0.2.9")); len(got) != 0 {
		t.Fatalf("after the change the old range still matches: %v", got)
	}
	if got := names(enrichOne("acme", "", "198.51.100.1")); len(got) != 1 || got[0] != "dmz/secops" {
		t.Fatalf("after the change: %v, want the new range", got)
	}
	e.AssetsChanged("never-seen") // no chain yet: nothing to do
}
