package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// registerAssets adds the asset inventory page: what the workspace owns,
// how critical it is and who owns it, which alerts take into account.
func (h *Handler) registerAssets() {
	h.page("GET /assets", h.assets)
}

// assetView is an asset as GET /api/v1/assets shows it.
type assetView struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Match       []string  `json:"match"`
	Criticality string    `json:"criticality"`
	Owner       string    `json:"owner"`
	Environment string    `json:"environment"`
	Tags        []string  `json:"tags"`
	Updated     time.Time `json:"updated"`
}

// APIPath is the asset's API route (a network's range escaped, %2F).
func (a assetView) APIPath() string { return "/api/v1/assets/" + url.PathEscape(a.Name) }

// MatchText and TagsText are the lists as the edit form shows them.
func (a assetView) MatchText() string { return strings.Join(a.Match, ", ") }
func (a assetView) TagsText() string  { return strings.Join(a.Tags, ", ") }

// assetChoices are the edit forms' choices, as the API takes them.
type assetChoices struct{}

func (assetChoices) Types() []string {
	return []string{"host", "network", "account", "database", "cloud_resource"}
}
func (assetChoices) Criticalities() []string { return []string{"low", "medium", "high", "critical"} }

func (h *Handler) assets(w http.ResponseWriter, r *http.Request, s Session) {
	var out struct {
		Assets []assetView `json:"assets"`
	}
	if err := h.get(r, "/api/v1/assets", nil, &out); err != nil {
		h.fail(w, r, s, err)
		return
	}
	typ := r.URL.Query().Get("type")
	list := out.Assets
	if typ != "" {
		list = nil
		for _, a := range out.Assets {
			if a.Type == typ {
				list = append(list, a)
			}
		}
	}
	shown, _, pgr := offsetPage(r.URL, list, "cursor", listPageSize, "")
	h.render(w, r, http.StatusOK, "assets", Page{Title: "Assets", Nav: "assets", Session: s, Data: map[string]any{
		"Assets": shown, "Total": len(list), "All": len(out.Assets), "Type": typ,
		"Choices": assetChoices{}, "URL": r.URL, "Pager": pgr,
	}})
}

// Blank is the new-asset form's asset: a host by default.
func (assetChoices) Blank() assetView { return assetView{Type: "host"} }
