// Package taxii is a TAXII 2.1 client: server discovery, API roots,
// collections, and the objects of a collection page by page, with basic or
// bearer authentication. The objects are STIX; intel/stix reads them.
package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/stix"
)

// MediaType is what a TAXII 2.1 client asks for and a server answers with.
const MediaType = "application/taxii+json;version=2.1"

// Client talks to one TAXII 2.1 server. The zero value works against an
// open server with http.DefaultClient.
type Client struct {
	HTTP *http.Client
	// Username and Password are sent as HTTP basic authentication when
	// Username is set; Token as a bearer token when set.
	Username, Password string
	Token              string
	UserAgent          string
	// Header is sent with every request (an API key some servers want
	// beside or instead of the standard authentication).
	Header http.Header
	// PageSize is the limit asked for each page of objects; 0 leaves it
	// to the server.
	PageSize int
	// Types, when set, asks only for objects of these STIX types
	// (match[type]); keep the threat and relationship types the
	// indicators refer to.
	Types []string
	// MaxResponse bounds the bytes of one response; 0 means 256 MiB.
	MaxResponse int64
}

// Error is a TAXII server's refusal: the HTTP status and, when the server
// sent one, its error message.
type Error struct {
	Method, URL string
	Status      int
	Title       string
	Description string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("taxii: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Title != "" {
		s += ": " + e.Title
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Discovery is a server's discovery resource; API root URLs are absolute.
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot describes one API root.
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection describes one collection of an API root.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Page is one response of a collection's objects.
type Page struct {
	Objects []json.RawMessage
	More    bool
	Next    string
	// DateAddedFirst and DateAddedLast come from the X-TAXII-Date-Added-*
	// headers: when the first and last objects of the page were added.
	DateAddedFirst, DateAddedLast time.Time
}

// Discover reads the discovery resource. server is the server's base URL
// (https://host) or the discovery URL itself (https://host/taxii2/).
func (c *Client) Discover(ctx context.Context, server string) (*Discovery, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("taxii: server URL %q: %w", server, err)
	}
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/taxii2") {
		u = u.JoinPath("taxii2")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	var d Discovery
	if _, err := c.get(ctx, u, &d); err != nil {
		return nil, err
	}
	// API roots may be given relative to the discovery URL.
	for i, r := range d.APIRoots {
		d.APIRoots[i] = resolve(u, r)
	}
	if d.Default != "" {
		d.Default = resolve(u, d.Default)
	}
	return &d, nil
}

func resolve(base *url.URL, ref string) string {
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	s := base.ResolveReference(r).String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// APIRoot reads an API root's information.
func (c *Client) APIRoot(ctx context.Context, root string) (*APIRoot, error) {
	u, err := rootURL(root)
	if err != nil {
		return nil, err
	}
	var r APIRoot
	if _, err := c.get(ctx, u, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Collections lists an API root's collections.
func (c *Client) Collections(ctx context.Context, root string) ([]Collection, error) {
	u, err := rootURL(root)
	if err != nil {
		return nil, err
	}
	var r struct {
		Collections []Collection `json:"collections"`
	}
	cu := u.JoinPath("collections")
	cu.Path += "/"
	if _, err := c.get(ctx, cu, &r); err != nil {
		return nil, err
	}
	return r.Collections, nil
}

// SplitCollectionURL splits a collection's URL
// (https://host/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/, or
// its objects/ URL) into its API root and collection id, so that a feed
// can be configured with one URL.
func SplitCollectionURL(s string) (root, collection string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", fmt.Errorf("taxii: collection URL %q is not an absolute URL", s)
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/objects")
	i := strings.LastIndex(p, "/collections/")
	if i < 0 || strings.Contains(p[i+len("/collections/"):], "/") || i+len("/collections/") == len(p) {
		return "", "", fmt.Errorf("taxii: collection URL %q has no /collections/{id}/", s)
	}
	collection = p[i+len("/collections/"):]
	r := *u
	r.Path, r.RawPath, r.RawQuery, r.Fragment = p[:i+1], "", "", ""
	return r.String(), collection, nil
}

func rootURL(root string) (*url.URL, error) {
	u, err := url.Parse(root)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("taxii: API root %q is not an absolute URL", root)
	}
	return u, nil
}

// Objects pages through a collection's objects added after addedAfter
// (all of them when zero). It follows the server's next token while more
// is true, or, when a server gives more without next, asks again with
// added_after set to the page's X-TAXII-Date-Added-Last. Iteration stops
// at the first error, which is yielded.
func (c *Client) Objects(ctx context.Context, root, collection string, addedAfter time.Time) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		base, err := rootURL(root)
		if err != nil {
			yield(nil, err)
			return
		}
		u := base.JoinPath("collections", collection, "objects")
		u.Path += "/"
		after, next := addedAfter, ""
		tokens := map[string]bool{}
		for {
			q := url.Values{}
			if !after.IsZero() {
				q.Set("added_after", after.UTC().Format("2006-01-02T15:04:05.000000Z"))
			}
			if c.PageSize > 0 {
				q.Set("limit", strconv.Itoa(c.PageSize))
			}
			if len(c.Types) > 0 {
				q.Set("match[type]", strings.Join(c.Types, ","))
			}
			if next != "" {
				q.Set("next", next)
			}
			pu := *u
			pu.RawQuery = q.Encode()
			var env struct {
				More    bool              `json:"more"`
				Next    string            `json:"next"`
				Objects []json.RawMessage `json:"objects"`
			}
			h, err := c.get(ctx, &pu, &env)
			if err != nil {
				yield(nil, err)
				return
			}
			p := &Page{Objects: env.Objects, More: env.More, Next: env.Next}
			if p.DateAddedFirst, err = headerTime(h, "X-TAXII-Date-Added-First"); err == nil {
				p.DateAddedLast, err = headerTime(h, "X-TAXII-Date-Added-Last")
			}
			if err != nil {
				yield(nil, fmt.Errorf("taxii: GET %s: %w", redact(&pu), err))
				return
			}
			if !yield(p, nil) || !p.More {
				return
			}
			switch {
			case p.Next != "":
				if tokens[p.Next] {
					yield(nil, fmt.Errorf("taxii: GET %s: the server gave next token %q twice", redact(&pu), p.Next))
					return
				}
				tokens[p.Next] = true
				next = p.Next
			case !p.DateAddedLast.IsZero() && p.DateAddedLast.After(after):
				after, next = p.DateAddedLast, ""
			default:
				yield(nil, fmt.Errorf("taxii: GET %s: more objects announced but neither next nor a later X-TAXII-Date-Added-Last to page with", redact(&pu)))
				return
			}
		}
	}
}

// Fetch gathers every object of a collection added after addedAfter and
// returns them with the time the last one was added (the addedAfter to
// pass next time; addedAfter itself when nothing was new).
func (c *Client) Fetch(ctx context.Context, root, collection string, addedAfter time.Time) ([]json.RawMessage, time.Time, error) {
	var objs []json.RawMessage
	last := addedAfter
	for p, err := range c.Objects(ctx, root, collection, addedAfter) {
		if err != nil {
			return nil, addedAfter, err
		}
		objs = append(objs, p.Objects...)
		if p.DateAddedLast.After(last) {
			last = p.DateAddedLast
		}
	}
	return objs, last, nil
}

// Indicators fetches a collection and reads its STIX objects as one
// bundle, so that relationships and markings on other pages resolve.
func (c *Client) Indicators(ctx context.Context, root, collection string, addedAfter time.Time, feed string, problem func(intel.Problem)) ([]intel.Indicator, time.Time, error) {
	objs, last, err := c.Fetch(ctx, root, collection, addedAfter)
	if err != nil {
		return nil, addedAfter, err
	}
	return stix.Parser{}.ParseObjects(objs, feed, problem), last, nil
}

func headerTime(h http.Header, name string) (time.Time, error) {
	v := h.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("header %s %q is not a timestamp", name, v)
	}
	return t, nil
}

// redact drops credentials a URL might carry from error messages.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

func (c *Client) get(ctx context.Context, u *url.URL, into any) (http.Header, error) {
	where := redact(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("taxii: GET %s: %w", where, err)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", MediaType)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.Username != "":
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("taxii: GET %s: %w", where, err)
	}
	defer resp.Body.Close()
	limit := c.MaxResponse
	if limit <= 0 {
		limit = 256 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("taxii: GET %s: read response: %w", where, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Method: http.MethodGet, URL: where, Status: resp.StatusCode}
		var msg struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		}
		if json.Unmarshal(body, &msg) == nil {
			e.Title, e.Description = msg.Title, msg.Description
		}
		return nil, e
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("taxii: GET %s: response larger than %d bytes", where, limit)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || (mt != "application/taxii+json" && mt != "application/json") {
		return nil, fmt.Errorf("taxii: GET %s: content type %q, want %s", where, resp.Header.Get("Content-Type"), MediaType)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return nil, fmt.Errorf("taxii: GET %s: response: %w", where, err)
	}
	return resp.Header, nil
}

// IsUnauthorized reports whether err is a TAXII 401 or 403.
func IsUnauthorized(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}
