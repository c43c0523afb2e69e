package web

// registerAssets adds the assets pages (to be built).
func (h *Handler) registerAssets() {
	h.page("GET /assets", h.placeholder("Assets", "assets"))
}
