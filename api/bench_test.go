package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The cost of one authenticated read: auth (cached key), routing, huma,
// JSON, metrics.
func BenchmarkGetAlert(b *testing.B) {
	f := newFixture(b, newFakeStore())
	path := "/api/v1/alerts/" + f.seeds["a"].alertIDs[0]
	auth := "Bearer " + f.secrets["a-read"]
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// Decoding a stored record again and writing its JSON form, per event.
func BenchmarkRenderEvent(b *testing.B) {
	st := newFakeStore()
	newFixture(b, st)
	ev := st.events[0]
	r := newEventRenderer()
	b.ReportAllocs()
	for b.Loop() {
		if out := r.render(&ev); len(out) == 0 {
			b.Fatal("empty")
		}
	}
}
