package web

// registerSettings adds the settings pages (to be built).
func (h *Handler) registerSettings() {
	h.page("GET /settings", h.placeholder("Settings", "settings"))
}
