package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// ingestClient posts batches to POST /api/v1/ingest, retrying what a retry
// can fix: 429 and 503 (after Retry-After), 502 and 504 from a proxy, and
// network errors, with exponential backoff. Every attempt of a batch
// carries the same Idempotency-Key, so a batch the server stored before
// its reply was lost is not stored twice.
type ingestClient struct {
	http    *http.Client
	base    *url.URL // the server, e.g. https://vigil.example:8443
	key     string
	source  string
	format  string
	retries int
	minWait time.Duration // first backoff step
	notify  func(msg string)
	maxWait time.Duration
}

// ingestReply is the server's answer: a 202's counts, or an error's
// message (either {"error"} or a problem document's title and detail) with
// the rejections that a 422 lists.
type ingestReply struct {
	Accepted      int `json:"accepted"`
	Rejected      []ingestRejection
	RejectedCount int    `json:"rejected_count"`
	Error         string `json:"error"`
	Title         string `json:"title"`
	Detail        string `json:"detail"`
}

type ingestRejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (r *ingestReply) UnmarshalJSON(b []byte) error {
	type plain ingestReply
	var v struct {
		plain
		Rejected json.RawMessage `json:"rejected"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = ingestReply(v.plain)
	// rejected is a list of {line, reason}; tolerate other shapes.
	_ = json.Unmarshal(v.Rejected, &r.Rejected)
	return nil
}

func (r *ingestReply) message(status string) string {
	switch {
	case r.Detail != "":
		return r.Detail
	case r.Error != "":
		return r.Error
	case r.Title != "":
		return r.Title
	}
	return status
}

// refusedError is an answer that no retry of the same request changes:
// sending stops.
type refusedError struct {
	status int
	msg    string
	hint   string
}

func (e *refusedError) Error() string {
	s := fmt.Sprintf("the server refused the request: %d %s: %s", e.status, http.StatusText(e.status), e.msg)
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func newHTTPClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// sourceFormat asks the server for the source's format (for where batches
// may be cut). It needs a read key; any failure leaves it unknown.
func (c *ingestClient) sourceFormat(ctx context.Context) string {
	u := c.base.JoinPath("api/v1/sources", c.source)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var s struct {
		Format string `json:"format"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&s) != nil {
		return ""
	}
	return s.Format
}

// post sends one batch, gzip-compressed, and returns the server's counts.
// A 422 that lists rejected records is a result (every record refused),
// not an error.
func (c *ingestClient) post(ctx context.Context, b *sendBatch, idemKey string) (*ingestReply, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(b.body)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	u := c.base.JoinPath("api/v1/ingest")
	q := url.Values{"source": {c.source}}
	if c.format != "" {
		q.Set("format", c.format)
	}
	u.RawQuery = q.Encode()
	for attempt := 1; ; attempt++ {
		reply, wait, err := c.try(ctx, u.String(), gz.Bytes(), b.ctype, idemKey)
		if err == nil || wait < 0 {
			return reply, err
		}
		if attempt > c.retries {
			return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		wait = max(wait, c.backoff(attempt))
		c.notify(fmt.Sprintf("%v; retrying in %s (attempt %d of %d)", err, wait.Round(100*time.Millisecond), attempt+1, c.retries+1))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// backoff doubles from minWait up to maxWait, with ±20% jitter so that
// many senders do not retry in step.
func (c *ingestClient) backoff(attempt int) time.Duration {
	d := c.minWait << min(attempt-1, 16)
	if d > c.maxWait || d <= 0 {
		d = c.maxWait
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// try makes one attempt. wait < 0 means do not retry (the reply or error
// is final); otherwise the error is worth retrying after at least wait.
func (c *ingestClient) try(ctx context.Context, u string, body []byte, ctype, idemKey string) (*ingestReply, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, -1, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Idempotency-Key", idemKey)
	req.Header.Set("User-Agent", "vigil-send/"+version)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, -1, ctx.Err()
		}
		if hint := tlsHint(err); hint != "" {
			return nil, -1, fmt.Errorf("%w (%s)", err, hint)
		}
		return nil, 0, err // connection refused or reset, timeout: the network
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the reply: %w", err)
	}
	reply := &ingestReply{}
	jsonErr := json.Unmarshal(data, reply)
	switch code := resp.StatusCode; {
	case code == http.StatusAccepted && jsonErr == nil:
		return reply, -1, nil
	case code == http.StatusAccepted:
		return nil, -1, fmt.Errorf("the server's 202 reply is not JSON: %v", jsonErr)
	case code == http.StatusUnprocessableEntity && reply.RejectedCount > 0:
		return reply, -1, nil // every record refused, each with its reason
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable ||
		code == http.StatusBadGateway || code == http.StatusGatewayTimeout ||
		code == http.StatusRequestTimeout: // the body came too slowly: a retry may not
		return nil, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("%s: %s", resp.Status, oneLine(reply.message(resp.Status), data, jsonErr))
	default:
		ref := &refusedError{status: code, msg: oneLine(reply.message(resp.Status), data, jsonErr)}
		switch code {
		case http.StatusUnauthorized:
			ref.hint = "check the key: --key, --key-file or VIGIL_KEY"
		case http.StatusForbidden:
			ref.hint = "the key needs the ingest or admin scope"
		case http.StatusRequestEntityTooLarge:
			ref.hint = "lower --batch-bytes below the server's ingest-max-body"
		case http.StatusNotFound:
			ref.hint = "is --server the address of a vigil server?"
		}
		return nil, -1, ref
	}
}

// oneLine is the server's message, or the start of a body that was not
// JSON (a proxy's error page).
func oneLine(msg string, body []byte, jsonErr error) string {
	if jsonErr == nil {
		return msg
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return msg
	}
	return s
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// tlsHint says what to do about a certificate the client does not trust;
// such errors are not retried.
func tlsHint(err error) string {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &ua):
		return "a private CA? give its certificate with --ca FILE"
	case errors.As(err, &hn):
		return "the certificate is for another name: use that name in --server"
	case errors.As(err, &ci):
		return "the server's certificate is not valid"
	case errors.As(err, &rh):
		return "the server does not speak TLS: use http:// in --server"
	}
	return ""
}
