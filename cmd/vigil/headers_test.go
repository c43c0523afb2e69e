package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSecurityHeaders: every response carries the browser-hardening
// headers, replies are never cached (a key creation reply holds a secret),
// and HSTS is sent only under TLS.
func TestSecurityHeaders(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><p>hi"))
		case "/api/v1/keys":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"secret":"vgl_x"}`))
		default:
			http.NotFound(w, r)
		}
	})
	for _, tls := range []bool{false, true} {
		h := withSecurityHeaders(inner, tls)
		for _, c := range []struct{ method, path string }{{"GET", "/"}, {"POST", "/api/v1/keys"}, {"GET", "/nope"}} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
			hdr := rec.Result().Header
			for k, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Cache-Control":           "no-store",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
				"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
			} {
				if got := hdr.Get(k); got != want {
					t.Errorf("tls=%v %s %s: %s = %q, want %q", tls, c.method, c.path, k, got, want)
				}
			}
			hsts := hdr.Get("Strict-Transport-Security")
			if tls && hsts != "max-age=31536000" || !tls && hsts != "" {
				t.Errorf("tls=%v %s: Strict-Transport-Security = %q", tls, c.path, hsts)
			}
		}
	}
}
