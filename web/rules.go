package web

// registerRules adds the rules pages (to be built).
func (h *Handler) registerRules() {
	h.page("GET /rules", h.placeholder("Rules", "rules"))
}
