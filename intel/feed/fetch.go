package feed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// Result is what one fetch of a feed read.
type Result struct {
	// Unchanged: the source said the document had not changed (HTTP 304,
	// a file of the same size and time); the stored indicators stay.
	Unchanged    bool
	Indicators   int
	ProblemCount int
	Problems     []intel.Problem // the first store.MaxFeedProblems
}

// ErrTooLarge is the error of a document larger than Options.MaxSize.
var ErrTooLarge = errors.New("feed document too large")

// Import stores a spec's settings and fetches it once, whatever its
// validators say (the CLI's vigil intel import). A document read with
// problems imports what it could; its error is returned when nothing
// could be read.
func (m *Manager) Import(ctx context.Context, s Spec) (Result, error) {
	if err := m.Check(s); err != nil {
		return Result{}, err
	}
	if err := m.o.Store.PutFeed(ctx, s.Feed); err != nil {
		return Result{}, err
	}
	return m.fetch(ctx, s, true)
}

// fetch reads a feed, stores what it read and publishes it; a failure is
// recorded in the feed's status and returned. force ignores the stored
// validators.
func (m *Manager) fetch(ctx context.Context, s Spec, force bool) (Result, error) {
	k := key{s.Workspace, s.Name}
	l := m.lock(k)
	l.Lock()
	defer l.Unlock()
	ctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	attempt := m.now().UTC()
	var prev store.Feed
	if !force {
		var err error
		if prev, err = m.o.Store.Feed(ctx, s.Workspace, s.Name); err != nil {
			return Result{}, err
		}
	}
	var probs problems
	inds, val, err := m.read(ctx, s, prev, probs.add)
	if err == nil && val.unchanged {
		err = m.o.Store.SetFeedStatus(ctx, s.Workspace, s.Name, store.Fetch{Attempt: attempt, ETag: val.etag, LastModified: val.modified})
		if err == nil {
			m.o.Metrics.success(s.Workspace, s.Name, attempt, -1)
			m.log.Debug("feed unchanged", "workspace", s.Workspace, "feed", s.Name)
			return Result{Unchanged: true}, nil
		}
	}
	if err == nil && len(inds) == 0 && probs.n > 0 {
		// A document of nothing but bad entries is more likely a broken
		// download or a changed format than a feed that was emptied: keep
		// what the feed said before.
		err = fmt.Errorf("no indicator read, %d entries refused (first: %v)", probs.n, probs.first[0])
	}
	res := Result{ProblemCount: probs.n, Problems: probs.first}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (timeout %v)", err, m.o.Timeout)
		}
		msg := err.Error()
		// The status is written whatever the fetch's context says, so
		// that a timed-out fetch shows as one.
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer scancel()
		if serr := m.o.Store.SetFeedStatus(sctx, s.Workspace, s.Name, store.Fetch{Attempt: attempt, Err: msg}); serr != nil {
			m.log.Warn("feed status not stored", "workspace", s.Workspace, "feed", s.Name, "err", serr)
		}
		m.o.Metrics.failure(s.Workspace, s.Name)
		m.log.Warn("feed fetch failed", "workspace", s.Workspace, "feed", s.Name, "source", s.Source, "err", msg)
		return res, fmt.Errorf("feed %s/%s: %w", s.Workspace, s.Name, err)
	}
	applyDefaults(inds, s.Feed)
	err = m.o.Store.ReplaceFeedIndicators(ctx, s.Workspace, s.Name, inds, store.Fetch{
		Attempt: attempt, ProblemCount: probs.n, Problems: probs.first, ETag: val.etag, LastModified: val.modified,
	})
	if err != nil {
		m.o.Metrics.failure(s.Workspace, s.Name)
		return res, fmt.Errorf("feed %s/%s: %w", s.Workspace, s.Name, err)
	}
	m.publish(s.Workspace, s.Name, inds)
	f, err := m.o.Store.Feed(ctx, s.Workspace, s.Name)
	if err == nil {
		res.Indicators = f.Indicators
	}
	m.o.Metrics.success(s.Workspace, s.Name, attempt, res.Indicators)
	m.log.Info("feed fetched", "workspace", s.Workspace, "feed", s.Name, "indicators", res.Indicators, "problems", probs.n)
	return res, nil
}

// applyDefaults gives indicators the feed's name and, where they carry
// none, its threat type, confidence and TLP.
func applyDefaults(inds []intel.Indicator, f store.Feed) {
	for i := range inds {
		in := &inds[i]
		in.Feed = f.Name
		if f.ThreatType != "" && (in.ThreatType == "" || in.ThreatType == intel.ThreatUnknown) {
			in.ThreatType = f.ThreatType
		}
		if in.ThreatType == "" {
			in.ThreatType = intel.ThreatUnknown
		}
		if in.Confidence == 0 {
			in.Confidence = f.Confidence
		}
		if in.TLP == "" {
			in.TLP = f.TLP
		}
	}
}

// problems counts a read's problems and keeps the first.
type problems struct {
	n     int
	first []intel.Problem
}

func (p *problems) add(pr intel.Problem) {
	p.n++
	if len(p.first) < store.MaxFeedProblems {
		p.first = append(p.first, pr)
	}
}

// validators are what tells a document from the one read before.
type validators struct {
	etag, modified string
	unchanged      bool
}

// read fetches and parses a feed: a Fetcher of its format does both; a
// Parser reads the document at its source.
func (m *Manager) read(ctx context.Context, s Spec, prev store.Feed, problem func(intel.Problem)) ([]intel.Indicator, validators, error) {
	if f, ok := m.o.Formats.fetcher(s.Format); ok {
		inds, err := f.Fetch(ctx, Source{Location: s.Source, Client: m.o.Client, Headers: s.Headers, Feed: s.Name, MaxSize: m.o.MaxSize}, problem)
		return inds, validators{}, err
	}
	p, ok := m.o.Formats.parser(s.Format)
	if !ok {
		return nil, validators{}, fmt.Errorf("format %q: %w", s.Format, store.ErrInvalid)
	}
	body, val, err := m.open(ctx, s, prev)
	if err != nil || val.unchanged {
		return nil, val, err
	}
	defer body.Close()
	r, err := m.document(body)
	if err != nil {
		return nil, val, err
	}
	inds, err := p.Parse(r, s.Name, problem)
	if errors.Is(r.err, ErrTooLarge) || err == nil && r.err != nil {
		err = r.err
	}
	if err != nil {
		return nil, val, fmt.Errorf("read %s: %w", s.Source, err)
	}
	return inds, val, nil
}

// open opens a feed's document: an http or https URL, else a file path.
func (m *Manager) open(ctx context.Context, s Spec, prev store.Feed) (io.ReadCloser, validators, error) {
	if u, err := url.Parse(s.Source); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return m.get(ctx, s, prev)
	}
	path := strings.TrimPrefix(s.Source, "file://")
	f, err := os.Open(path)
	if err != nil {
		return nil, validators{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, validators{}, err
	}
	// A file's size and time stand for its ETag.
	val := validators{etag: "file:" + strconv.FormatInt(fi.Size(), 10) + ":" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)}
	if prev.ETag == val.etag && prev.LastSuccess != nil {
		f.Close()
		val.unchanged = true
		return nil, val, nil
	}
	return f, val, nil
}

// get requests a URL, conditionally on what the last read saw.
func (m *Manager) get(ctx context.Context, s Spec, prev store.Feed) (io.ReadCloser, validators, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Source, nil)
	if err != nil {
		return nil, validators{}, err
	}
	for k, v := range s.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "vigil-intel-feed")
	if prev.LastSuccess != nil {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := m.o.Client.Do(req)
	if err != nil {
		return nil, validators{}, err
	}
	val := validators{etag: resp.Header.Get("ETag"), modified: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		val.unchanged = true
		return nil, val, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		resp.Body.Close()
		return nil, val, fmt.Errorf("GET %s: %s", redact(s.Source), resp.Status)
	case resp.ContentLength > m.o.MaxSize:
		resp.Body.Close()
		return nil, val, fmt.Errorf("GET %s: %w: %d bytes, more than %d", redact(s.Source), ErrTooLarge, resp.ContentLength, m.o.MaxSize)
	}
	return resp.Body, val, nil
}

// redact drops a URL's password, should one be written into it.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// limited reads at most max bytes of r and remembers ErrTooLarge past it.
type limited struct {
	r         io.Reader
	left, max int64
	err       error
}

func limit(r io.Reader, max int64) *limited { return &limited{r: r, left: max, max: max} }

func (l *limited) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		l.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.max)
		return 0, l.err
	}
	l.left -= int64(n)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// document reads a fetched body as the parser's input: gunzipped when it
// is gzip (a .gz file, or a server that sends one as is), at most MaxSize
// bytes either way.
func (m *Manager) document(body io.Reader) (*limited, error) {
	br := bufio.NewReaderSize(limit(body, m.o.MaxSize), 64<<10)
	head, _ := br.Peek(2)
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return limit(zr, m.o.MaxSize), nil
	}
	return limit(br, m.o.MaxSize), nil
}
