package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// settingsStore is what the settings page's test needs of a store.
type settingsStore interface {
	store.Store
	store.Users
	store.Noise
}

// TestSettingsByRole: an admin's settings page has the users, keys and
// audit log with their controls; a responder's has suppressions to
// manage and nothing of an admin's; a reader's only reads.
func TestSettingsByRole(t *testing.T) {
	ctx := context.Background()
	// A real store (SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres):
	// the page reads users, keys and suppressions through the API.
	db := teststore.Open[settingsStore](t)
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierFree); err != nil {
		t.Fatal(err)
	}
	_, key, err := api.NewKey("acme", tenant.ScopeIngest, "fw01 shipper", time.Now())
	if err != nil || db.CreateKey(ctx, key) != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "192.0.2.0/24", Reason: "lab scanner"}, "test"); err != nil {
		t.Fatal(err)
	}
	hash, err := tenant.HashPassword("a long password here")
	if err != nil {
		t.Fatal(err)
	}
	cookies := map[string]string{}
	for _, u := range []struct{ name, role string }{{"ann", tenant.RoleAdmin}, {"ron", tenant.RoleResponder}, {"rea", tenant.RoleReader}} {
		if err := db.CreateUser(ctx, tenant.User{Name: u.name, PasswordHash: hash, Roles: []tenant.Membership{{Workspace: "acme", Role: u.role}}}); err != nil {
			t.Fatal(err)
		}
		sec := "vgs_test-" + u.name
		sum := sha256.Sum256([]byte(sec))
		now := time.Now().UTC()
		if err := db.CreateSession(ctx, tenant.Session{ID: "s-" + u.name, Hash: sum[:], User: u.name, Workspace: "acme", Role: u.role,
			CSRF: "t", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		cookies[u.name] = sec
	}
	a, err := api.New(api.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{API: a})
	if err != nil {
		t.Fatal(err)
	}
	page := func(user string) string {
		r := httptest.NewRequest(http.MethodGet, "/settings", nil)
		r.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookies[user]})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s's settings: %d %s", user, w.Code, w.Body)
		}
		return w.Body.String()
	}
	admin := []string{`id="users"`, `id="keys"`, `id="audit"`, `data-api="POST /api/v1/users"`, `data-secret-api="POST /api/v1/keys"`,
		`data-api="PATCH /api/v1/workspace"`, "fw01 shipper", `data-user="ron"`, `data-user="rea"`}
	responder := []string{`data-sup-api="POST /api/v1/suppressions"`, `data-api="DELETE /api/v1/suppressions/`}
	everyone := []string{`id="workspace"`, `id="session"`, `data-api="DELETE /api/v1/sessions"`, "lab scanner", "192.0.2.0/24"}
	for _, c := range []struct {
		user       string
		has, hasnt []string
	}{
		{"ann", append(append(admin, responder...), everyone...), nil},
		{"ron", append(responder, everyone...), admin},
		{"rea", everyone, append(admin, responder...)},
	} {
		body := page(c.user)
		for _, s := range c.has {
			if !strings.Contains(body, s) {
				t.Errorf("%s's settings lack %s", c.user, s)
			}
		}
		for _, s := range c.hasnt {
			if strings.Contains(body, s) {
				t.Errorf("%s's settings have %s", c.user, s)
			}
		}
	}
}
