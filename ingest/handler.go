// Package ingest receives records over HTTP: it frames a request body into
// raw records, checks each (UTF-8, JSON, sizes), batches them with their
// workspace, source, format, received time and id, and acknowledges once
// every batch is stored on the bus. Decoding happens later, in the detect
// stage. It also holds what the receivers (ingest/syslog, ingest/file)
// share: the Receiver interface and the Batcher.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/tenant"
)

// Path is where the API mounts the handler.
const Path = "/api/v1/ingest"

// Handler serves POST /api/v1/ingest?source=NAME[&format=F].
type Handler struct {
	cfg      Config
	m        *metrics
	inflight inflight
	lag      lagGate
	states   sync.Pool // *reqState
	// gzipSlots holds a token for each gzip body being inflated (body.go);
	// gzipWait is how long a request waits for one.
	gzipSlots chan struct{}
	gzipWait  time.Duration
}

// NewHandler checks cfg, fills in defaults and registers the metrics.
func NewHandler(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, m: m}
	h.inflight.max, h.inflight.wsMax, h.inflight.keyMax = cfg.MaxInflightBytes, cfg.MaxInflightWorkspaceBytes, cfg.MaxInflightKeyBytes
	h.lag.src, h.lag.max = cfg.Backlog, cfg.MaxLag
	h.gzipSlots, h.gzipWait = make(chan struct{}, cfg.MaxDecompressions), defaultGzipWait
	h.states.New = func() any { return new(reqState) }
	return h, nil
}

// refusal is a reply other than 202, with the metric reason it counts
// under (if any).
type refusal struct {
	code     int
	reason   reason
	noMetric bool // refusals with no reason of their own (401, 405, 500…)
	msg      string
	retry    bool          // set Retry-After
	retryIn  time.Duration // what it says, if not RetryAfter
	extra    ErrorReply
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code := h.serve(w, r)
	h.m.request(code)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return h.refuse(w, &refusal{code: http.StatusMethodNotAllowed, noMetric: true, msg: "method " + r.Method + " not allowed; use POST"})
	}
	ws, ok := h.cfg.Workspace(r)
	if !ok {
		return h.refuse(w, &refusal{code: http.StatusUnauthorized, noMetric: true, msg: "not authenticated for a workspace"})
	}
	q := r.URL.Query()
	if ref := repeatedParam(q); ref != nil {
		return h.refuse(w, ref)
	}
	source := q.Get("source")
	if err := checkSourceName(source); err != nil {
		return h.refuse(w, &refusal{code: http.StatusBadRequest, noMetric: true, msg: err.Error()})
	}
	key := r.Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		return h.refuse(w, &refusal{code: http.StatusBadRequest, noMetric: true, msg: err.Error()})
	}
	kind, err := mediaKind(r.Header.Get("Content-Type"))
	if err != nil {
		return h.refuse(w, &refusal{code: http.StatusUnsupportedMediaType, reason: reasonUnsupportedMediaType, msg: err.Error()})
	}
	gz, err := gzipped(r.Header.Get("Content-Encoding"))
	if err != nil {
		return h.refuse(w, &refusal{code: http.StatusUnsupportedMediaType, reason: reasonUnsupportedMediaType, msg: err.Error()})
	}
	ctx := r.Context()
	if ref := h.checkLag(ctx); ref != nil {
		return h.refuse(w, ref)
	}
	format, create, ref := h.resolve(ctx, ws, source, q.Get("format"))
	if ref != nil {
		return h.refuse(w, ref)
	}
	received := h.cfg.Now()

	st := h.states.Get().(*reqState)
	defer h.done(st)
	st.f.limits = limits{maxLine: h.cfg.MaxLineBytes, maxField: h.cfg.MaxFieldBytes}
	st.f.join = decode.JoinerFor(format)
	st.holder = holder{ws: ws}
	if h.cfg.Key != nil {
		st.holder.key = h.cfg.Key(r)
	}
	dl := h.bodyDeadline(w, r)
	ref = h.readBody(w, r, gz, st)
	if dl.stop(r, ref == nil) {
		ref = h.bodyTimedOut(dl)
	}
	if ref != nil {
		// The rest of the body is not read: the connection cannot carry
		// another request.
		w.Header().Set("Connection", "close")
		return h.refuse(w, ref)
	}
	f := &st.f
	if err := f.frame(kind, st.buf); err != nil {
		if errors.Is(err, errNoRecords) {
			return h.refuse(w, &refusal{code: http.StatusBadRequest, reason: reasonEmptyBody, msg: "empty body: " + err.Error()})
		}
		return h.refuse(w, &refusal{code: http.StatusBadRequest, reason: reasonMalformedJSON, msg: err.Error()})
	}
	for _, rs := range f.reasons {
		h.m.rejected[rs].Inc()
	}
	if kind == kindNDJSON && f.mostlyText() {
		return h.refuse(w, f.textBody(format))
	}
	if len(f.recs) == 0 {
		return h.refuse(w, &refusal{
			code: http.StatusUnprocessableEntity, noMetric: true, // counted per record above
			msg:   fmt.Sprintf("every record was rejected (%d)", len(f.rejected)),
			extra: ErrorReply{Rejected: listed(f.rejected), RejectedCount: len(f.rejected)},
		})
	}

	if create {
		// Only now: a request that is refused whole creates no source.
		if ref := h.createSource(ctx, ws, source, format); ref != nil {
			return h.refuse(w, ref)
		}
	}
	pub := publication{workspace: ws, source: source, format: format, key: key, received: received}
	res := h.publish(ctx, &pub, f.recs)
	if res.err != nil {
		return h.refuse(w, h.publishRefusal(ctx, &pub, res, f))
	}
	writeJSON(w, http.StatusAccepted, "application/json", Reply{
		Accepted:      len(f.recs),
		Rejected:      listed(f.rejected),
		RejectedCount: len(f.rejected),
		Batches:       res.batches,
	})
	return http.StatusAccepted
}

// done returns the request's state to the pool and its bytes to the
// in-flight budget; the records, which point into the buffer, are no longer
// referenced by anyone (Publisher does not keep them). A pooled buffer
// keeps no reservation: the next request that takes it reserves it again.
func (h *Handler) done(st *reqState) {
	st.f.reset()
	if st.reserved > 0 {
		h.inflight.release(st.holder, st.reserved)
		h.m.inflight.Sub(float64(st.reserved))
		st.reserved = 0
	}
	if cap(st.buf) > maxPooledBuffer {
		st.buf = nil
	}
	st.buf = st.buf[:0]
	h.states.Put(st)
}

func (h *Handler) refuse(w http.ResponseWriter, ref *refusal) int {
	h.cfg.Logger.Debug("ingest request refused", "code", ref.code, "error", ref.msg)
	if !ref.noMetric {
		h.m.rejected[ref.reason].Inc()
	}
	if ref.retry {
		d := h.cfg.RetryAfter
		if ref.retryIn > 0 {
			d = ref.retryIn
		}
		setRetryAfter(w, d)
	}
	body := ref.extra
	body.Title, body.Status, body.Detail = http.StatusText(ref.code), ref.code, ref.msg
	writeJSON(w, ref.code, problemType, body)
	return ref.code
}

// repeatedParam refuses a query parameter given more than once
// (source=s1&source=s2): which one was meant is a guess ingest does not
// make.
func repeatedParam(q url.Values) *refusal {
	var names []string
	for name, vs := range q {
		if len(vs) > 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	ref := &refusal{code: http.StatusUnprocessableEntity, noMetric: true}
	for _, name := range names {
		ref.extra.Errors = append(ref.extra.Errors, &huma.ErrorDetail{
			Location: "query." + name, Message: "given " + strconv.Itoa(len(q[name])) + " times; give it once",
			Value: strings.Join(q[name], ","),
		})
	}
	ref.msg = "repeated query parameter " + strings.Join(names, ", ") + ": give each parameter once"
	if len(names) > 1 {
		ref.msg = "repeated query parameters " + strings.Join(names, ", ") + ": give each parameter once"
	}
	return ref
}

// checkSourceName keeps source names to what reads well in a URL, a metric
// and a file name.
func checkSourceName(s string) error {
	if s == "" {
		return errors.New("missing query parameter source: name the feed, e.g. ?source=fw01")
	}
	if len(s) > 128 {
		return fmt.Errorf("source name longer than 128 bytes")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-:/", c) >= 0) {
			return fmt.Errorf("source name %q: byte %d is not one of A-Z a-z 0-9 . _ - : /", s, i)
		}
	}
	return nil
}

func checkIdempotencyKey(k string) error {
	if len(k) > 256 {
		return errors.New("Idempotency-Key longer than 256 bytes")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return fmt.Errorf("Idempotency-Key: byte %d is not printable ASCII", i)
		}
	}
	return nil
}

// resolve finds the request's format: the format parameter, else the
// source's. An unknown source with a known format is to be created (create
// is true) once the body has been found usable.
func (h *Handler) resolve(ctx context.Context, ws, name, format string) (_ string, create bool, _ *refusal) {
	if format != "" && !decode.Known(format) {
		return "", false, unknownFormat(fmt.Sprintf("unknown format %q", format))
	}
	src, found, err := h.cfg.Sources.LookupSource(ctx, ws, name)
	switch {
	case err == nil && found:
		if format != "" {
			return format, false, nil
		}
		if !decode.Known(src.Format) {
			return "", false, unknownFormat(fmt.Sprintf("source %q has format %q, which this server does not know", name, src.Format))
		}
		return src.Format, false, nil
	case err != nil:
		h.cfg.Logger.ErrorContext(ctx, "looking up source", "workspace", ws, "source", name, "err", err)
		return "", false, &refusal{code: http.StatusServiceUnavailable, noMetric: true, retry: true, msg: "looking up the source failed; retry later"}
	case format == "":
		return "", false, &refusal{
			code: http.StatusUnprocessableEntity, reason: reasonUnknownSource,
			msg:   fmt.Sprintf("unknown source %q: add &format=F to create it with format F", name),
			extra: ErrorReply{Formats: decode.Formats()},
		}
	}
	return format, true, nil
}

func (h *Handler) createSource(ctx context.Context, ws, name, format string) *refusal {
	err := h.cfg.Sources.CreateSource(ctx, tenant.Source{Workspace: ws, Name: name, Format: format, Created: h.cfg.Now().UTC()})
	if errors.Is(err, tenant.ErrSourceLimit) {
		return &refusal{code: http.StatusUnprocessableEntity, reason: reasonSourceLimit,
			msg: fmt.Sprintf("source %q not created: %v; create it with PUT /api/v1/sources/{name} (admin) or send to an existing source", name, err)}
	}
	if err != nil {
		h.cfg.Logger.ErrorContext(ctx, "creating source", "workspace", ws, "source", name, "err", err)
		return &refusal{code: http.StatusServiceUnavailable, noMetric: true, retry: true, msg: "creating the source failed; retry later"}
	}
	h.cfg.Logger.InfoContext(ctx, "source created", "workspace", ws, "source", name, "format", format)
	return nil
}

func unknownFormat(msg string) *refusal {
	formats := decode.Formats()
	return &refusal{
		code: http.StatusUnprocessableEntity, reason: reasonUnknownFormat,
		msg:   msg + "; known formats: " + strings.Join(formats, ", "),
		extra: ErrorReply{Formats: formats},
	}
}
