package misp

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// ManifestEvent is one event of a feed's manifest.json.
type ManifestEvent struct {
	Info          string
	Date          string
	ThreatLevelID string
	Timestamp     int64 // Unix seconds of the event's last change
	Tags          []string
}

// ReadManifest reads manifest.json: event uuid → what the feed says of
// the event (compare Timestamp to fetch only the events that changed).
func ReadManifest(fsys fs.FS) (map[string]ManifestEvent, error) {
	data, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("misp: manifest: %w", err)
	}
	var raw map[string]struct {
		Info          string     `json:"info"`
		Date          string     `json:"date"`
		ThreatLevelID flexString `json:"threat_level_id"`
		Timestamp     flexString `json:"timestamp"`
		Tag           []tag      `json:"Tag"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("misp: manifest.json: %s", jsonError(data, err))
	}
	m := make(map[string]ManifestEvent, len(raw))
	for id, e := range raw {
		me := ManifestEvent{Info: e.Info, Date: e.Date, ThreatLevelID: string(e.ThreatLevelID), Timestamp: unixTime(e.Timestamp).Unix()}
		if unixTime(e.Timestamp).IsZero() {
			me.Timestamp = 0
		}
		for _, t := range e.Tag {
			me.Tags = append(me.Tags, t.Name)
		}
		m[id] = me
	}
	return m, nil
}

// isUUID keeps manifest keys from naming anything but an event file.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ReadFeed reads a whole feed: manifest.json, then each event file it
// lists, in uuid order. A missing or malformed event file is reported
// with its name and the other events are read; only an unreadable
// manifest fails the feed. fsys may be os.DirFS for a mirrored feed or
// HTTPFS for one served over HTTP.
func ReadFeed(fsys fs.FS, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	return ReadFeedSince(fsys, feed, 0, problem)
}

// ReadFeedSince reads the events of a feed whose manifest timestamp is
// after since (Unix seconds; 0 reads all).
func ReadFeedSince(fsys fs.FS, feed string, since int64, problem func(intel.Problem)) ([]intel.Indicator, error) {
	if problem == nil {
		problem = func(intel.Problem) {}
	}
	m, err := ReadManifest(fsys)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []intel.Indicator
	for _, id := range ids {
		if since > 0 && m[id].Timestamp <= since {
			continue
		}
		if !isUUID(id) {
			problem(intel.Problem{Where: "manifest.json", Reason: fmt.Sprintf("event key %q is not a uuid", id)})
			continue
		}
		name := id + ".json"
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			problem(intel.Problem{Where: name, Reason: fmt.Sprintf("event listed in manifest.json not read: %v", err)})
			continue
		}
		inds, err := parseEvent(data, name, feed, problem)
		if err != nil {
			problem(intel.Problem{Where: name, Reason: err.Error()})
			continue
		}
		out = append(out, inds...)
	}
	return out, nil
}

// Hashes is a feed's hashes.csv: the MD5 of every attribute value (each
// part of a composite one) and the events holding it, so that a value can
// be looked up without fetching the events.
type Hashes map[[16]byte][]string

// ReadHashes reads hashes.csv ("md5,event uuid" lines). Malformed lines
// are reported with their number.
func ReadHashes(r io.Reader, problem func(intel.Problem)) (Hashes, error) {
	if problem == nil {
		problem = func(intel.Problem) {}
	}
	h := Hashes{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sum, ev, ok := strings.Cut(line, ",")
		var key [16]byte
		b, err := hex.DecodeString(strings.TrimSpace(sum))
		if !ok || err != nil || len(b) != 16 || !isUUID(strings.TrimSpace(ev)) {
			problem(intel.Problem{Where: fmt.Sprintf("hashes.csv:%d", n), Reason: fmt.Sprintf("not an md5,uuid line: %q", line)})
			continue
		}
		copy(key[:], b)
		h[key] = append(h[key], strings.TrimSpace(ev))
	}
	if err := sc.Err(); err != nil {
		return h, fmt.Errorf("misp: hashes.csv: %w", err)
	}
	return h, nil
}

// Events returns the events of the feed holding value, as given in the
// event (not normalized: MISP hashes values as stored).
func (h Hashes) Events(value string) []string { return h[md5.Sum([]byte(value))] }

// HTTPFS is a feed served over HTTP as a file system: Open("x") fetches
// Base + "x". It lets ReadFeed read a remote feed as it reads a mirror.
type HTTPFS struct {
	Base    string // the feed's URL, the directory holding manifest.json
	Client  *http.Client
	Context context.Context
	Header  http.Header // sent with every request (an Authorization key)
}

// Open fetches name; a 404 is fs.ErrNotExist.
func (h HTTPFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	base, err := url.Parse(strings.TrimSuffix(h.Base, "/") + "/")
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	u := base.JoinPath(name)
	ctx := h.Context
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	for k, v := range h.Header {
		req.Header[k] = v
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status)
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: GET %s: %s", fs.ErrNotExist, u.Redacted(), resp.Status)
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &httpFile{name: name, resp: resp}, nil
}

type httpFile struct {
	name string
	resp *http.Response
}

func (f *httpFile) Read(p []byte) (int, error) { return f.resp.Body.Read(p) }
func (f *httpFile) Close() error               { return f.resp.Body.Close() }
func (f *httpFile) Stat() (fs.FileInfo, error) { return httpInfo{f}, nil }

type httpInfo struct{ f *httpFile }

func (i httpInfo) Name() string { return i.f.name[strings.LastIndexByte(i.f.name, '/')+1:] }
func (i httpInfo) Size() int64 {
	if i.f.resp.ContentLength < 0 {
		return 0
	}
	return i.f.resp.ContentLength
}
func (i httpInfo) Mode() fs.FileMode { return 0o444 }
func (i httpInfo) ModTime() time.Time {
	t, _ := http.ParseTime(i.f.resp.Header.Get("Last-Modified"))
	return t
}
func (i httpInfo) IsDir() bool { return false }
func (i httpInfo) Sys() any    { return nil }
