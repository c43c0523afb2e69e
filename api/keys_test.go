package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

func TestNewKey(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	secret, k, err := NewKey("ws1", tenant.ScopeRead, "ci", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "vgl_") || len(secret) != 56 || !wellFormedSecret(secret) {
		t.Errorf("secret %q: want vgl_ and 52 lowercase base32 characters", secret)
	}
	raw, err := secretEncoding.DecodeString(secret[4:])
	if err != nil || len(raw) != 32 {
		t.Errorf("secret body decodes to %d bytes (%v), want 32", len(raw), err)
	}
	sum := sha256.Sum256([]byte(secret))
	if !bytes.Equal(k.Hash, sum[:]) || !bytes.Equal(HashKey(secret), sum[:]) {
		t.Errorf("hash is not sha256(secret)")
	}
	if k.Prefix != secret[:12] {
		t.Errorf("prefix %q, want %q", k.Prefix, secret[:12])
	}
	if _, err := event.ParseID(k.ID); err != nil {
		t.Errorf("id %q is not a ULID: %v", k.ID, err)
	}
	if k.Workspace != "ws1" || k.Scope != "read" || k.Name != "ci" || !k.Created.Equal(now) || k.Created.Location() != time.UTC {
		t.Errorf("key %+v", k)
	}
	s2, k2, _ := NewKey("ws1", tenant.ScopeRead, "ci", now)
	if s2 == secret || k2.ID == k.ID {
		t.Errorf("two keys share a secret or an id")
	}

	for _, c := range []struct{ ws, scope, name, msg string }{
		{"", "read", "", "workspace"},
		{"ws1", "write", "", `scope "write"`},
		{"ws1", "", "", "scope"},
		{"ws1", "admin", strings.Repeat("x", 129), "name"},
		{"ws1", "admin", "bad\nname", "control"},
	} {
		_, _, err := NewKey(c.ws, c.scope, c.name, now)
		if err == nil || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NewKey(%q, %q, %.10q): error %v, want ErrInvalid naming %s", c.ws, c.scope, c.name, err, c.msg)
		}
	}
}

func TestKeysRoutes(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)

	var created struct {
		Key    tenant.APIKey `json:"key"`
		Secret string        `json:"secret"`
	}
	w := f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "ingest", "name": "shipper"})
	want(t, w, http.StatusCreated, &created)
	if !wellFormedSecret(created.Secret) || created.Key.Scope != "ingest" || created.Key.Name != "shipper" || created.Key.Workspace != "a" {
		t.Fatalf("created %+v", created)
	}
	if strings.Contains(w.Body.String(), `"hash"`) {
		t.Errorf("the response shows the hash: %s", w.Body)
	}
	stored, err := st.KeyByHash(context.Background(), HashKey(created.Secret))
	if err != nil || stored.ID != created.Key.ID {
		t.Fatalf("stored key by the secret's hash: %+v, %v", stored, err)
	}
	if !bytes.Equal(stored.Hash, HashKey(created.Secret)) || stored.Prefix != created.Secret[:12] {
		t.Errorf("stored key %+v does not hold the hash and prefix", stored)
	}
	// The new key works at once, for its scope.
	f.secrets["new"] = created.Secret
	want(t, f.do(http.MethodPost, "/api/v1/ingest", "new", nil), http.StatusAccepted, nil)

	// Listed without secret or hash; shown once only.
	var list struct {
		Keys []tenant.APIKey `json:"keys"`
	}
	w = f.do(http.MethodGet, "/api/v1/keys", "a-admin", nil)
	want(t, w, http.StatusOK, &list)
	if strings.Contains(w.Body.String(), created.Secret) || strings.Contains(w.Body.String(), `"secret"`) || strings.Contains(w.Body.String(), `"hash"`) {
		t.Errorf("key list shows a secret or hash: %s", w.Body)
	}
	ids := map[string]bool{}
	for _, k := range list.Keys {
		ids[k.ID] = true
		if k.Workspace != "a" {
			t.Errorf("key list holds %s's key %s", k.Workspace, k.ID)
		}
	}
	if len(list.Keys) != 5 || !ids[created.Key.ID] {
		t.Errorf("list has %d keys (%v), want a's 4 and the new one", len(list.Keys), ids)
	}
	e := st.auditOf("key.create")
	if len(e) != 1 || e[0].Target != "key:"+created.Key.ID || e[0].Actor != "key:"+f.keyIDs["a-admin"] || strings.Contains(e[0].Detail, created.Secret[12:]) {
		t.Errorf("key.create audit %+v", e)
	}

	// Revoke.
	want(t, f.do(http.MethodDelete, "/api/v1/keys/"+created.Key.ID, "a-admin", nil), http.StatusNoContent, nil)
	wantProblem(t, f.do(http.MethodPost, "/api/v1/ingest", "new", nil), http.StatusUnauthorized)
	if k, _ := st.KeyByHash(context.Background(), HashKey(created.Secret)); k.Revoked == nil || !k.Revoked.Equal(t0) {
		t.Errorf("revoked at %v, want %v", k.Revoked, t0)
	}
	wantProblem(t, f.do(http.MethodDelete, "/api/v1/keys/no-such-key", "a-admin", nil), http.StatusNotFound, "no-such-key")

	// Bad input.
	wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "root"}), http.StatusUnprocessableEntity, "body.scope")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"name": "x"}), http.StatusUnprocessableEntity, "scope")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "read", "name": "a\x01b"}), http.StatusUnprocessableEntity, "control")
}

// The last live admin key of a workspace cannot be revoked, through the
// API with itself or another way: the workspace would have no way back
// in. Against both stores.
func TestLastAdminKeyCannotBeRevoked(t *testing.T) {
	for _, c := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"fake", func(*testing.T) store.Store { return newFakeStore() }},
		{"sqlite", func(t *testing.T) store.Store { return openStore[store.Store](t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := c.st(t)
			f := newFixture(t, st)
			self := f.keyIDs["a-admin"]
			wantProblem(t, f.do(http.MethodDelete, "/api/v1/keys/"+self, "a-admin", nil), http.StatusConflict,
				"last admin key", "create another admin key first")
			want(t, f.do(http.MethodGet, "/api/v1/alerts", "a-admin", nil), http.StatusOK, nil)

			// With a second admin key, either may go, but not both.
			w := f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "admin"})
			want(t, w, http.StatusCreated, nil)
			var created struct {
				Key struct{ ID string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
				t.Fatal(err)
			}
			want(t, f.do(http.MethodDelete, "/api/v1/keys/"+self, "a-admin", nil), http.StatusNoContent, nil)
			if err := st.RevokeKey(context.Background(), "a", created.Key.ID, t0); !errors.Is(err, store.ErrLastAdminKey) {
				t.Errorf("store: revoke the last admin key: %v, want ErrLastAdminKey", err)
			}
			// Other scopes go freely.
			want(t, f.do(http.MethodDelete, "/api/v1/keys/"+f.keyIDs["b-read"], "b-admin", nil), http.StatusNoContent, nil)
		})
	}
}

// A machine can hold a responder key, as a person can hold the role: it
// works alerts but cannot manage keys.
func TestResponderKeyThroughTheAPI(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	var created struct {
		Key    tenant.APIKey `json:"key"`
		Secret string        `json:"secret"`
	}
	want(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "responder", "name": "soar"}), http.StatusCreated, &created)
	if created.Key.Scope != tenant.ScopeResponder {
		t.Fatalf("created %+v, want scope responder", created.Key)
	}
	f.secrets["soar"] = created.Secret
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "soar", nil), http.StatusOK, nil)
	wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "soar", map[string]string{"scope": "admin"}), http.StatusForbidden)
	wantProblem(t, f.do(http.MethodGet, "/api/v1/keys", "soar", nil), http.StatusForbidden)
}
