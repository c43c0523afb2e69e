package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// APIError is a refusal or failure the API answered a page's request with.
type APIError struct {
	Status int
	// Detail is the API's problem document's detail (or title).
	Detail string
	Path   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Path, e.Status, e.Detail)
}

// recorder is the response of an in-process API call.
type recorder struct {
	hdr    http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.hdr }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// call makes an API request in process on behalf of the page's visitor:
// it carries the visitor's cookies, address and forwarding headers, so
// the API authenticates, throttles and audits the visitor, not the
// dashboard. A 2xx answer's JSON body is decoded into out (when not nil);
// anything else is an *APIError. The answer's Set-Cookie headers are
// returned for the sign-in, which passes them on.
func (h *Handler) call(r *http.Request, method, path string, q url.Values, body any, out any) (http.Header, error) {
	return h.callCtx(r.Context(), r, method, path, q, body, out)
}

func (h *Handler) callCtx(ctx context.Context, r *http.Request, method, path string, q url.Values, body any, out any) (http.Header, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("web: encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := &url.URL{Path: path}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("web: %s %s: %w", method, path, err)
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	req.TLS = r.TLS
	for _, k := range []string{"Cookie", "X-Forwarded-For", "User-Agent"} {
		if v := r.Header.Values(k); len(v) > 0 {
			req.Header[k] = v
		}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		// A change the dashboard makes in process (only the sign-in) is
		// same-origin by construction.
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	rec := &recorder{hdr: http.Header{}}
	h.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status < 200 || rec.status > 299 {
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &p)
		if p.Detail == "" {
			p.Detail = p.Title
		}
		if p.Detail == "" {
			p.Detail = http.StatusText(rec.status)
		}
		return rec.hdr, &APIError{Status: rec.status, Detail: p.Detail, Path: path}
	}
	if out != nil && rec.body.Len() > 0 {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return rec.hdr, fmt.Errorf("web: decode %s %s: %w", method, path, err)
		}
	}
	return rec.hdr, nil
}

// get is call with GET.
func (h *Handler) get(r *http.Request, path string, q url.Values, out any) error {
	_, err := h.call(r, http.MethodGet, path, q, nil, out)
	return err
}
