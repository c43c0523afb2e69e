package sqlite

import (
	"errors"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/store"
)

func TestAssetsCreatePutReplaceDelete(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	mustWorkspace(t, db, "other")
	web := store.Asset{Workspace: "acme", Name: "web-1.corp.example", Type: store.AssetHost, Match: []string{"10.0.0.5"},
		Criticality: "High", Owner: "web team", Environment: "prod", Tags: []string{"pci"}}
	if err := db.CreateAsset(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAsset(ctx, web); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	if err := db.CreateAsset(ctx, store.Asset{Workspace: "nope", Name: "x", Type: store.AssetHost}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("create in a missing workspace: %v, want ErrNotFound", err)
	}
	got, err := db.Asset(ctx, "acme", web.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Criticality != "high" || !slices.Equal(got.Match, web.Match) || !slices.Equal(got.Tags, web.Tags) || got.Owner != "web team" || got.Updated.IsZero() {
		t.Fatalf("stored asset = %+v", got)
	}
	if _, err := db.Asset(ctx, "other", web.Name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another workspace sees the asset: %v", err)
	}

	net := store.Asset{Workspace: "acme", Name: "dmz", Type: store.AssetNetwork, Match: []string{"192.0.2.77/24"}, Criticality: "critical"}
	created, err := db.PutAsset(ctx, net)
	if err != nil || !created {
		t.Fatalf("put new: created %v, %v", created, err)
	}
	net.Owner, net.Tags = "netops", []string{"edge"}
	if created, err := db.PutAsset(ctx, net); err != nil || created {
		t.Fatalf("put existing: created %v, %v", created, err)
	}
	got, _ = db.Asset(ctx, "acme", "dmz")
	if got.Owner != "netops" || !slices.Equal(got.Match, []string{"192.0.2.0/24"}) || !slices.Equal(got.Tags, []string{"edge"}) {
		t.Fatalf("replaced network = %+v (the range is kept masked)", got)
	}

	for _, bad := range []store.Asset{
		{Workspace: "acme", Name: "", Type: store.AssetHost},
		{Workspace: "acme", Name: "x", Type: "printer"},
		{Workspace: "acme", Name: "x", Type: store.AssetHost, Criticality: "extreme"},
		{Workspace: "acme", Name: "lan", Type: store.AssetNetwork},
		{Workspace: "acme", Name: "lan", Type: store.AssetNetwork, Match: []string{"10.0.0.0/8", "not a range"}},
	} {
		if _, err := db.PutAsset(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutAsset(%+v) = %v, want ErrInvalid", bad, err)
		}
	}

	if _, err := db.PutAsset(ctx, store.Asset{Workspace: "acme", Name: web.Name, Type: store.AssetHost}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Asset(ctx, "acme", web.Name); len(got.Match) != 0 || len(got.Tags) != 0 || got.Owner != "" || got.Criticality != "" {
		t.Fatalf("put replaces every field: %+v", got)
	}
	list, _ := db.Assets(ctx, "acme")
	if len(list) != 2 || list[0].Name != "dmz" || list[1].Name != web.Name {
		t.Fatalf("assets = %+v", list)
	}
	err = db.ReplaceAssets(ctx, "acme", []store.Asset{{Name: "db-1", Type: store.AssetDatabase}, {Name: "db-1", Type: store.AssetDatabase}})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("replace with a name twice: %v", err)
	}
	if list, _ := db.Assets(ctx, "acme"); len(list) != 2 {
		t.Fatalf("a refused replace changed the inventory: %+v", list)
	}
	if err := db.ReplaceAssets(ctx, "acme", []store.Asset{{Name: "db-1", Type: store.AssetDatabase, Criticality: "medium"}}); err != nil {
		t.Fatal(err)
	}
	list, _ = db.Assets(ctx, "acme")
	if len(list) != 1 || list[0].Name != "db-1" || list[0].Workspace != "acme" {
		t.Fatalf("after replace: %+v", list)
	}
	if err := db.DeleteAsset(ctx, "acme", "db-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAsset(ctx, "acme", "db-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
