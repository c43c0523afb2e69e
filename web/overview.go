package web

import "net/http"

func (h *Handler) registerOverview() {
	h.page("GET /{$}", h.overview)
}

// overview is the landing page of a signed-in visitor (to be built).
func (h *Handler) overview(w http.ResponseWriter, r *http.Request, s Session) {
	h.render(w, r, http.StatusOK, "overview", Page{Title: "Overview", Nav: "overview", Session: s})
}
