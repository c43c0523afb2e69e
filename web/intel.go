package web

// registerIntel adds the intel pages (to be built).
func (h *Handler) registerIntel() {
	h.page("GET /intel", h.placeholder("Feeds", "intel"))
}
