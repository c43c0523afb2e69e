package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// registerIntel adds the threat-intelligence feeds page: each feed with
// its status, and a lookup of a value among the indicators.
func (h *Handler) registerIntel() {
	h.page("GET /intel", h.feeds)
}

// feedView is a feed as GET /api/v1/intel/feeds shows it.
type feedView struct {
	Name         string     `json:"name"`
	Format       string     `json:"format"`
	Source       string     `json:"source"`
	Interval     string     `json:"interval"`
	ThreatType   string     `json:"threat_type"`
	Confidence   int        `json:"confidence"`
	TLP          string     `json:"tlp"`
	Enabled      bool       `json:"enabled"`
	LastAttempt  *time.Time `json:"last_attempt"`
	LastSuccess  *time.Time `json:"last_success"`
	Indicators   int        `json:"indicators"`
	LastError    string     `json:"last_error"`
	ProblemCount int        `json:"problem_count"`
	Problems     []struct {
		Where  string `json:"where"`
		Reason string `json:"reason"`
	} `json:"problems"`
}

// Succeeded is when the feed was last read (zero when never).
func (f feedView) Succeeded() time.Time {
	if f.LastSuccess == nil {
		return time.Time{}
	}
	return *f.LastSuccess
}

// Attempted is when the feed was last fetched (zero when never).
func (f feedView) Attempted() time.Time {
	if f.LastAttempt == nil {
		return time.Time{}
	}
	return *f.LastAttempt
}

// RefreshAPI is the feed's refresh route.
func (f feedView) RefreshAPI() string {
	return "POST /api/v1/intel/feeds/" + url.PathEscape(f.Name) + "/refresh"
}

// indicatorView is a matching indicator (GET /api/v1/intel/indicators).
type indicatorView struct {
	Kind        string    `json:"kind"`
	Value       string    `json:"value"`
	Feed        string    `json:"feed"`
	ThreatType  string    `json:"threat_type"`
	Threat      string    `json:"threat"`
	Confidence  int       `json:"confidence"`
	TLP         string    `json:"tlp"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	ValidUntil  time.Time `json:"valid_until"`
}

// lookupResult is the answer to the page's lookup form.
type lookupResult struct {
	Value, Kind string
	Indicators  []indicatorView
	Error       string
}

func (h *Handler) feeds(w http.ResponseWriter, r *http.Request, s Session) {
	var out struct {
		Feeds []feedView `json:"feeds"`
	}
	data := map[string]any{}
	err := h.get(r, "/api/v1/intel/feeds", nil, &out)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		// A server without threat intelligence: the page says so.
		data["Unavailable"] = ae.Detail
	case err != nil:
		h.fail(w, r, s, err)
		return
	}
	var inds, failing int
	for _, f := range out.Feeds {
		inds += f.Indicators
		if f.LastError != "" {
			failing++
		}
	}
	feeds, _, pgr := offsetPage(r.URL, out.Feeds, "cursor", listPageSize, "")
	data["Feeds"], data["Total"], data["Indicators"], data["Failing"] = feeds, len(out.Feeds), inds, failing
	data["Pager"] = pgr
	if v := strings.TrimSpace(r.URL.Query().Get("lookup")); v != "" && data["Unavailable"] == nil {
		var res struct {
			Value      string          `json:"value"`
			Kind       string          `json:"kind"`
			Indicators []indicatorView `json:"indicators"`
		}
		lr := lookupResult{Value: v}
		if err := h.get(r, "/api/v1/intel/indicators", url.Values{"value": {v}}, &res); err != nil {
			if !errors.As(err, &ae) {
				h.fail(w, r, s, err)
				return
			}
			lr.Error = ae.Detail
		} else {
			lr = lookupResult{Value: res.Value, Kind: res.Kind, Indicators: res.Indicators}
		}
		data["Lookup"] = lr
	}
	data["Query"] = r.URL.Query().Get("lookup")
	h.render(w, r, http.StatusOK, "intel", Page{Title: "Feeds", Nav: "intel", Session: s, Data: data, Scripts: []string{"intel.js"}})
}
