package web

// registerDatabases adds the databases pages (to be built).
func (h *Handler) registerDatabases() {
	h.page("GET /databases", h.placeholder("Databases", "databases"))
}
