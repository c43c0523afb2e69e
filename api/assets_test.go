package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// fakeAssets is an in-memory store.Assets with the real store's checks.
type fakeAssets struct {
	mu     sync.Mutex
	ws     map[string]bool
	assets map[string]map[string]store.Asset
}

var _ store.Assets = (*fakeAssets)(nil)

func newFakeAssets(workspaces ...string) *fakeAssets {
	f := &fakeAssets{ws: map[string]bool{}, assets: map[string]map[string]store.Asset{}}
	for _, w := range workspaces {
		f.ws[w], f.assets[w] = true, map[string]store.Asset{}
	}
	return f
}

func (f *fakeAssets) Assets(_ context.Context, ws string) ([]store.Asset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Asset
	for _, a := range f.assets[ws] {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeAssets) Asset(_ context.Context, ws, name string) (store.Asset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.assets[ws][name]
	if !ok {
		return store.Asset{}, fmt.Errorf("asset %s/%s: %w", ws, name, store.ErrNotFound)
	}
	return a, nil
}

func (f *fakeAssets) put(a store.Asset, create bool) (bool, error) {
	if err := store.CheckAsset(&a); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ws[a.Workspace] {
		return false, fmt.Errorf("workspace %s: %w", a.Workspace, store.ErrNotFound)
	}
	_, had := f.assets[a.Workspace][a.Name]
	if had && create {
		return false, fmt.Errorf("asset %s: %w", a.Name, store.ErrConflict)
	}
	a.Updated = time.Unix(1, 0).UTC()
	f.assets[a.Workspace][a.Name] = a
	return !had, nil
}

func (f *fakeAssets) CreateAsset(_ context.Context, a store.Asset) error {
	_, err := f.put(a, true)
	return err
}

func (f *fakeAssets) PutAsset(_ context.Context, a store.Asset) (bool, error) { return f.put(a, false) }

func (f *fakeAssets) ReplaceAssets(_ context.Context, ws string, list []store.Asset) error {
	for i := range list {
		if err := store.CheckAsset(&list[i]); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assets[ws] = map[string]store.Asset{}
	for _, a := range list {
		a.Workspace = ws
		f.assets[ws][a.Name] = a
	}
	return nil
}

func (f *fakeAssets) DeleteAsset(_ context.Context, ws, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.assets[ws][name]; !ok {
		return fmt.Errorf("asset %s/%s: %w", ws, name, store.ErrNotFound)
	}
	delete(f.assets[ws], name)
	return nil
}

type assetPage struct {
	Assets []AssetView `json:"assets"`
}

// testAssetRoutes drives the asset routes: create, conflict, put, a
// network named by its range (the slash escaped), replace all, delete;
// writes need scope admin, are audited and tell AssetsChanged.
func testAssetRoutes(t *testing.T, f *fixture, changed func() []string) {
	host := map[string]any{"name": "web-1", "type": "host", "match": []string{"10.0.0.5"}, "criticality": "high", "owner": "web", "tags": []string{"pci"}}
	var got AssetView
	want(t, f.do(http.MethodPost, "/api/v1/assets", "a-admin", host), http.StatusCreated, &got)
	if got.Name != "web-1" || got.Criticality != "high" || got.Updated.IsZero() {
		t.Fatalf("created = %+v", got)
	}
	want(t, f.do(http.MethodPost, "/api/v1/assets", "a-admin", host), http.StatusConflict, nil)
	want(t, f.do(http.MethodPost, "/api/v1/assets", "a-read", host), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPost, "/api/v1/assets", "a-admin", map[string]any{"name": "x", "type": "printer"}), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPut, "/api/v1/assets/lan", "a-admin", map[string]any{"type": "network", "match": []string{"not-a-range"}}), http.StatusUnprocessableEntity, nil)

	want(t, f.do(http.MethodPut, "/api/v1/assets/10.1.0.0%2F16", "a-admin", map[string]any{"type": "network", "criticality": "critical"}), http.StatusOK, &got)
	if got.Name != "10.1.0.0/16" || got.Type != "network" {
		t.Fatalf("network named by its range = %+v", got)
	}
	want(t, f.do(http.MethodGet, "/api/v1/assets/10.1.0.0%2F16", "a-read", nil), http.StatusOK, &got)
	got = AssetView{}
	want(t, f.do(http.MethodPut, "/api/v1/assets/web-1", "a-admin", map[string]any{"type": "host", "criticality": "critical", "owner": "ops"}), http.StatusOK, &got)
	if got.Criticality != "critical" || got.Owner != "ops" || len(got.Tags) != 0 || len(got.Match) != 0 {
		t.Fatalf("replaced host = %+v (every field set)", got)
	}
	var page assetPage
	want(t, f.do(http.MethodGet, "/api/v1/assets", "a-read", nil), http.StatusOK, &page)
	if len(page.Assets) != 2 || page.Assets[0].Name != "10.1.0.0/16" || page.Assets[1].Name != "web-1" {
		t.Fatalf("list = %+v", page.Assets)
	}
	want(t, f.do(http.MethodPut, "/api/v1/assets", "a-admin", map[string]any{"assets": []map[string]any{
		{"name": "db-1", "type": "database", "criticality": "medium"}, {"name": "svc", "type": "account"}}}), http.StatusOK, &page)
	if len(page.Assets) != 2 || page.Assets[0].Name != "db-1" || page.Assets[1].Name != "svc" {
		t.Fatalf("after replace all = %+v", page.Assets)
	}
	want(t, f.do(http.MethodDelete, "/api/v1/assets/svc", "a-admin", nil), http.StatusNoContent, nil)
	want(t, f.do(http.MethodDelete, "/api/v1/assets/svc", "a-admin", nil), http.StatusNotFound, nil)
	want(t, f.do(http.MethodGet, "/api/v1/assets/svc", "a-read", nil), http.StatusNotFound, nil)

	// create, put (network), put (host), replace all, delete
	if got := changed(); !slices.Equal(got, []string{"a", "a", "a", "a", "a"}) {
		t.Errorf("AssetsChanged told %v, want a five times", got)
	}
	entries, _, err := f.st.AuditLog(context.Background(), "a", store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "asset.") {
			actions = append(actions, e.Action+" "+e.Target)
		}
	}
	sort.Strings(actions)
	wantActions := []string{"asset.create asset:web-1", "asset.delete asset:svc", "asset.put asset:10.1.0.0/16", "asset.put asset:web-1", "asset.replace_all assets"}
	if !slices.Equal(actions, wantActions) {
		t.Errorf("audited %v, want %v", actions, wantActions)
	}
}

func TestAssetRoutes(t *testing.T) {
	var mu sync.Mutex
	var told []string
	f := newFixtureWith(t, newFakeStore(), func(c *Config) {
		c.AssetsChanged = func(ws string) { mu.Lock(); told = append(told, ws); mu.Unlock() }
	})
	testAssetRoutes(t, f, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(told) })
}

func TestAssetRoutesSQLite(t *testing.T) {
	db := openStore[store.Store](t)
	var mu sync.Mutex
	var told []string
	f := newFixtureWith(t, db, func(c *Config) {
		c.AssetsChanged = func(ws string) { mu.Lock(); told = append(told, ws); mu.Unlock() }
	})
	testAssetRoutes(t, f, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(told) })
}

func TestAssetRoutesUnavailableWithoutAStore(t *testing.T) {
	f := newFixtureWith(t, newFakeStore(), func(c *Config) { c.Assets = nil })
	want(t, f.do(http.MethodGet, "/api/v1/assets", "a-read", nil), http.StatusServiceUnavailable, nil)
}
