package main

import "net/http"

// securityHeaders are set on every response: the API's JSON needs no
// framing, sniffing, referrer or cache — a key creation reply holds a
// secret, and other replies hold a workspace's data. The dashboard's pages
// replace the policy with their own (web.pageCSP), which lets them load
// their script and style from this site.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"Cache-Control":           "no-store",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}

// withSecurityHeaders sets securityHeaders on every response, and under
// TLS Strict-Transport-Security, so that a browser never falls back to
// plain HTTP for this host.
func withSecurityHeaders(next http.Handler, tls bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		if tls {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
