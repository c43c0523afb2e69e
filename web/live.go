package web

// registerLive adds the live pages (to be built).
func (h *Handler) registerLive() {}
