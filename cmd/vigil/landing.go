package main

import (
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// landingInfo is what the landing page may say about this server beyond
// its URL. serve leaves it empty: its data directory is the operator's
// business, not every visitor's. The demo fills it in, so that the key
// command it advises works as printed.
type landingInfo struct {
	workspace string
	dataDir   string
}

// keyCommand is the command that creates a read key in workspace ws of the
// store in dataDir.
func keyCommand(dataDir, ws string) string {
	return selfCommand() + " keys create --data-dir " + shellQuote(dataDir) + " --workspace " + shellQuote(ws) + " --scope read"
}

// selfCommand is how to run this binary again, for advice a user pastes:
// "go run ./cmd/vigil" when it runs under `go run` (the README's demo
// command), else "vigil".
func selfCommand() string {
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/vigil"
	}
	return "vigil"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// The dashboard is a later piece of work; until then the root page tells a
// newcomer where things are.
var landing = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vigil</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
code,pre{background:#f1f3f6;padding:.1rem .3rem;border-radius:3px}pre{padding:.8rem;overflow:auto}</style></head>
<body><h1>vigil {{.Version}}</h1>
<p>vigil is running. There is no web dashboard yet: everything is under the
REST API, with an API key of your workspace.</p>
{{if .KeyCommand}}<p>This is <code>vigil demo</code>, workspace <code>{{.Workspace}}</code>, data in
<code>{{.DataDir}}</code>. It printed an admin key; a read-only key, while the demo runs:</p>
<pre>{{.KeyCommand}}</pre>
{{else}}<p>Make a key on the server's machine, with the server's data directory
(its <code>data-dir</code> setting):</p>
<pre>vigil keys create --data-dir DATA_DIR --workspace NAME --scope read</pre>
{{end}}<p>or, with an admin key of the workspace, through the API:</p>
<pre>curl -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
     -d '{"scope": "read", "name": "me"}' {{.Base}}/api/v1/keys</pre>
<p>Then read the alerts:</p>
<pre>curl -H "Authorization: Bearer $KEY" {{.Base}}/api/v1/alerts</pre>
<ul>
<li><a href="/api/v1/openapi.json">/api/v1/openapi.json</a> — the OpenAPI 3.1 document of every route</li>
<li><code>POST /api/v1/ingest?source=NAME&amp;format=F</code> — send records (NDJSON, JSON, text), or <code>vigil send</code></li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a> — operations</li>
</ul></body></html>
`))

func withLanding(next http.Handler, info landingInfo) http.Handler {
	page := map[string]string{"Version": version, "Workspace": info.workspace, "DataDir": info.dataDir}
	if info.dataDir != "" {
		page["KeyCommand"] = keyCommand(info.dataDir, info.workspace)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			next.ServeHTTP(w, r)
			return
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		data := map[string]string{"Base": scheme + "://" + r.Host}
		for k, v := range page {
			data[k] = v
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = landing.Execute(w, data)
	})
}
