package api

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds all readiness checks together: a probe must answer
// before the orchestrator gives up on it.
const readyTimeout = 2 * time.Second

// healthz answers while the process serves HTTP; it checks nothing else.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": a.version})
}

type readyReport struct {
	Status  string            `json:"status"`
	Failing []string          `json:"failing,omitempty"`
	Checks  map[string]string `json:"checks"`
}

// readyz runs the checks concurrently and answers 503 naming each that
// failed or did not answer in time.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.readyTimeout)
	defer cancel()
	type result struct {
		i      int
		detail string
		err    error
	}
	// Buffered: a check that ignores its context finishes into the void.
	results := make(chan result, len(a.ready))
	for i, c := range a.ready {
		go func() {
			d, err := c.run(ctx)
			results <- result{i, d, err}
		}()
	}
	errs := make([]error, len(a.ready))
	details := make([]string, len(a.ready))
	done := make([]bool, len(a.ready))
	for range a.ready {
		select {
		case res := <-results:
			errs[res.i], details[res.i], done[res.i] = res.err, res.detail, true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	rep := readyReport{Status: "ready", Checks: map[string]string{}}
	for i, c := range a.ready {
		switch {
		case !done[i]:
			rep.Checks[c.Name] = "no answer within " + a.readyTimeout.String()
		case errs[i] != nil:
			rep.Checks[c.Name] = errs[i].Error()
		default:
			rep.Checks[c.Name] = details[i]
			continue
		}
		rep.Failing = append(rep.Failing, c.Name)
	}
	code := http.StatusOK
	if len(rep.Failing) > 0 {
		rep.Status = "not ready"
		code = http.StatusServiceUnavailable
		a.log.WarnContext(r.Context(), "api: not ready", "failing", rep.Failing)
	}
	writeJSON(w, code, rep)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	encoder(w).Encode(v)
}
