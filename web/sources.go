package web

import (
	"net/http"
	"net/url"
	"time"
)

// registerSources adds the sources pages: every source with its health,
// and one source with the records its decoder refused.
func (h *Handler) registerSources() {
	h.page("GET /sources", h.sources)
	h.page("GET /sources/{name}", h.source)
}

// sourceView is a source as GET /api/v1/sources shows it.
type sourceView struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	Logsource struct {
		Product  string `json:"product"`
		Category string `json:"category"`
		Service  string `json:"service"`
	} `json:"logsource"`
	TimeZone    string     `json:"timezone"`
	Created     time.Time  `json:"created"`
	LastSeen    *time.Time `json:"last_seen"`
	Events      int64      `json:"events"`
	Rejected    int64      `json:"rejected"`
	Quarantined bool       `json:"quarantined"`
	Silence     struct {
		SilentAfter string `json:"silent_after"`
		Alert       bool   `json:"alert"`
	} `json:"silence"`
	Health *struct {
		Rate               float64 `json:"rate"`
		UsualInterval      string  `json:"usual_interval"`
		Silent             bool    `json:"silent"`
		RefusedConnections int64   `json:"refused_connections"`
		DetectionLag       string  `json:"detection_lag"`
	} `json:"health"`
}

// Link is the source's page.
func (s sourceView) Link() string { return "/sources/" + url.PathEscape(s.Name) }

// Seen is when it last sent (zero when never).
func (s sourceView) Seen() time.Time {
	if s.LastSeen == nil {
		return time.Time{}
	}
	return *s.LastSeen
}

// sourcesPageSize is the sources a page lists.
const sourcesPageSize = 50

func (h *Handler) sources(w http.ResponseWriter, r *http.Request, s Session) {
	// The API pages by name with a cursor but gives no total: the page
	// counts them by reading the pages (sources are few, hundreds at most).
	var all []sourceView
	q := url.Values{"limit": {"500"}}
	for {
		var out struct {
			Sources []sourceView `json:"sources"`
			Next    string       `json:"next"`
		}
		if err := h.get(r, "/api/v1/sources", q, &out); err != nil {
			h.fail(w, r, s, err)
			return
		}
		all = append(all, out.Sources...)
		if out.Next == "" {
			break
		}
		q.Set("cursor", out.Next)
	}
	var silent, quarantined int
	var events, rejected int64
	for _, src := range all {
		if src.Health != nil && src.Health.Silent {
			silent++
		}
		if src.Quarantined {
			quarantined++
		}
		events += src.Events
		rejected += src.Rejected
	}
	page, _, pgr := offsetPage(r.URL, all, "cursor", listPageSize, "")
	h.render(w, r, http.StatusOK, "sources", Page{Title: "Sources", Nav: "sources", Session: s, Data: map[string]any{
		"Sources": page, "Total": len(all), "Silent": silent, "Quarantined": quarantined,
		"Events": events, "Rejected": rejected, "Pager": pgr,
	}})
}

// quarantineEntry is a record a decoder refused (GET /api/v1/quarantine).
type quarantineEntry struct {
	ID       int64     `json:"id"`
	Source   string    `json:"source"`
	Format   string    `json:"format"`
	Line     int       `json:"line"`
	Reason   string    `json:"reason"`
	Raw      string    `json:"raw"`
	Received time.Time `json:"received"`
}

func (h *Handler) source(w http.ResponseWriter, r *http.Request, s Session) {
	name := r.PathValue("name")
	var src sourceView
	if err := h.get(r, "/api/v1/sources/"+name, nil, &src); err != nil {
		h.fail(w, r, s, err)
		return
	}
	q := url.Values{"source": {name}, "limit": {"25"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var rej struct {
		Records []quarantineEntry `json:"records"`
		Next    string            `json:"next"`
	}
	if err := h.get(r, "/api/v1/quarantine", q, &rej); err != nil {
		h.fail(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "source", Page{Title: "Source " + name, Nav: "sources", Session: s, Data: map[string]any{
		"Source": src, "Records": rej.Records,
		// Rejected counts every refusal since the source began; the
		// quarantine keeps the newest within retention.
		"Pager": pager(r.URL, len(rej.Records), int(src.Rejected), rej.Next),
	}})
}

// APIPath is the source's API route (its name escaped as one segment).
func (s sourceView) APIPath() string { return "/api/v1/sources/" + url.PathEscape(s.Name) }
