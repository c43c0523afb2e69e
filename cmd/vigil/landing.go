package main

import (
	"html/template"
	"net/http"
)

// The dashboard is a later piece of work; until then the root page tells a
// newcomer where things are.
var landing = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vigil</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
code,pre{background:#f1f3f6;padding:.1rem .3rem;border-radius:3px}pre{padding:.8rem;overflow:auto}</style></head>
<body><h1>vigil {{.Version}}</h1>
<p>vigil is running. Everything is under the API, with a key of your workspace
(<code>vigil keys create --workspace NAME --scope read</code>):</p>
<pre>curl -H "Authorization: Bearer $KEY" {{.Base}}/api/v1/alerts</pre>
<ul>
<li><a href="/api/v1/openapi.json">/api/v1/openapi.json</a> — the OpenAPI 3.1 document of every route</li>
<li><code>POST /api/v1/ingest?source=NAME&amp;format=F</code> — send records (NDJSON, JSON, text)</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a> — operations</li>
</ul></body></html>
`))

func withLanding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			next.ServeHTTP(w, r)
			return
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = landing.Execute(w, map[string]string{"Version": version, "Base": scheme + "://" + r.Host})
	})
}
