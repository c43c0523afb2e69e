package web

// registerAlerts adds the alerts pages (to be built).
func (h *Handler) registerAlerts() {
	h.page("GET /alerts", h.placeholder("Alerts", "alerts"))
}
