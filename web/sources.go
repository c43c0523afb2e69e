package web

// registerSources adds the sources pages (to be built).
func (h *Handler) registerSources() {
	h.page("GET /sources", h.placeholder("Sources", "sources"))
}
