package web

// registerThreats adds the threats pages (to be built).
func (h *Handler) registerThreats() {
	h.page("GET /threats", h.placeholder("Threat intelligence", "threats"))
}
