package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The settings page: the workspace and its tier, the visitor's own
// session, and for admins the workspace's users, API keys and audit log;
// suppressions for everyone, managed by responders and admins. Every
// change goes from the browser to the API (app.js, settings.js).

func (h *Handler) registerSettings() {
	h.page("GET /settings", h.settings)
}

// settingsPageSize is how many rows each list of the page shows at once.
const settingsPageSize = 25

type settingsWorkspace struct {
	Workspace string    `json:"workspace"`
	Tier      string    `json:"tier"`
	Created   time.Time `json:"created"`
}

type settingsUser struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Disabled  bool       `json:"disabled"`
	LastLogin *time.Time `json:"last_login"`
	Created   time.Time  `json:"created"`
}

type settingsKey struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Scope    string     `json:"scope"`
	Prefix   string     `json:"prefix"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used"`
	Revoked  *time.Time `json:"revoked"`
	Expires  *time.Time `json:"expires"`
	Allow    []string   `json:"allow"`
	// State is active, expired or revoked, worked out here.
	State string `json:"-"`
}

type settingsEntity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type settingsSuppression struct {
	ID      string          `json:"id"`
	Rule    string          `json:"rule"`
	Entity  *settingsEntity `json:"entity"`
	Field   string          `json:"field"`
	Value   string          `json:"value"`
	CIDR    string          `json:"cidr"`
	Reason  string          `json:"reason"`
	Author  string          `json:"author"`
	Expires *time.Time      `json:"expires"`
	Created time.Time       `json:"created"`
	Hits    int64           `json:"hits"`
	LastHit *time.Time      `json:"last_hit"`
}

type settingsAudit struct {
	Time   time.Time  `json:"time"`
	Actor  string     `json:"actor"`
	Action string     `json:"action"`
	Target string     `json:"target"`
	Detail string     `json:"detail"`
	Count  int        `json:"count"`
	Last   *time.Time `json:"last"`
}

// settingsData is what templates/settings.html shows.
type settingsData struct {
	Workspace settingsWorkspace
	Expires   time.Time // the visitor's session's
	Now       time.Time

	Users      []settingsUser
	UsersPager Pager
	Keys       []settingsKey
	KeysPager  Pager
	Sups       []settingsSuppression
	SupsPager  Pager
	Audit      []settingsAudit
	AuditPager Pager
	// Roles, KeyScopes, Tiers and EntityTypes are the choices the
	// forms offer, as the API takes them.
	Roles       []string
	KeyScopes   []string
	Tiers       []string
	EntityTypes []string
}

func (h *Handler) settings(w http.ResponseWriter, r *http.Request, s Session) {
	d := settingsData{Now: h.now(), Roles: []string{"reader", "responder", "admin"},
		KeyScopes: []string{"read", "ingest", "responder", "bouncer", "admin"}, Tiers: []string{"free", "standard"},
		EntityTypes: []string{"ip", "host", "account", "process", "file", "url", "database", "application", "cloud_resource", "hash"}}
	var (
		users []settingsUser
		keys  []settingsKey
		sups  []settingsSuppression
		audit struct {
			Entries []settingsAudit `json:"entries"`
			Next    string          `json:"next"`
		}
		who struct {
			Expires time.Time `json:"expires"`
		}
	)
	// The reads are independent: ask the API for them at once.
	reads := []func() error{
		func() error { return h.get(r, "/api/v1/workspace", nil, &d.Workspace) },
		func() error { return h.get(r, "/api/v1/session", nil, &who) },
		func() error {
			var out struct {
				Suppressions []settingsSuppression `json:"suppressions"`
			}
			err := h.get(r, "/api/v1/suppressions", nil, &out)
			sups = out.Suppressions
			return err
		},
	}
	if s.CanAdmin() {
		reads = append(reads, func() error {
			var out struct {
				Users []settingsUser `json:"users"`
			}
			err := h.get(r, "/api/v1/users", nil, &out)
			users = out.Users
			return err
		}, func() error {
			var out struct {
				Keys []settingsKey `json:"keys"`
			}
			err := h.get(r, "/api/v1/keys", nil, &out)
			keys = out.Keys
			return err
		}, func() error {
			q := url.Values{"limit": {strconv.Itoa(settingsPageSize)}}
			if c := r.URL.Query().Get("cursor"); c != "" {
				q.Set("cursor", c)
			}
			return h.get(r, "/api/v1/audit", q, &audit)
		})
	}
	if err := together(reads); err != nil {
		h.fail(w, r, s, err)
		return
	}
	d.Expires = who.Expires
	for i := range keys {
		keys[i].State = keyState(keys[i], d.Now)
	}
	// Working keys first, newest first: revoked ones are history.
	slices.SortStableFunc(keys, func(a, b settingsKey) int {
		if c := cmp.Compare(stateOrder(a.State), stateOrder(b.State)); c != 0 {
			return c
		}
		return b.Created.Compare(a.Created)
	})
	d.Users, _, d.UsersPager = offsetPage(r.URL, users, "users_from", settingsPageSize, "users")
	d.Keys, _, d.KeysPager = offsetPage(r.URL, keys, "keys_from", settingsPageSize, "keys")
	d.Sups, _, d.SupsPager = offsetPage(r.URL, sups, "sups_from", settingsPageSize, "suppressions")
	d.Audit = audit.Entries
	d.AuditPager = pager(r.URL, len(audit.Entries), -1, audit.Next)
	h.render(w, r, http.StatusOK, "settings", Page{Title: "Settings", Nav: "settings", Session: s,
		Scripts: []string{"settings.js"}, Data: d})
}

// stateOrder puts active keys before expired ones before revoked ones.
func stateOrder(state string) int {
	return slices.Index([]string{"active", "expired", "revoked"}, state)
}

func keyState(k settingsKey, now time.Time) string {
	switch {
	case k.Revoked != nil:
		return "revoked"
	case k.Expires != nil && !now.Before(*k.Expires):
		return "expired"
	}
	return "active"
}

// together runs fs at once and returns the first error of fs's order.
func together(fs []func() error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
