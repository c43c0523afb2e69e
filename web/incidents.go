package web

// registerIncidents adds the incidents pages (to be built).
func (h *Handler) registerIncidents() {
	h.page("GET /incidents", h.placeholder("Incidents", "incidents"))
}
