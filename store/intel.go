package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// Feed is a workspace's source of indicators, as configured, with the
// status of its last fetches. Source is a URL (http, https) or a file
// path; an empty Source is a feed that is only written to (manual
// indicators, a one-off import).
type Feed struct {
	Workspace string `json:"workspace"`
	Name      string `json:"name"`
	Format    string `json:"format"`
	Source    string `json:"source,omitempty"`
	// Interval is how often the feed is fetched; 0: never on its own.
	Interval time.Duration `json:"-"`
	// Defaults given to the feed's indicators that carry none.
	ThreatType string `json:"threat_type,omitempty"`
	Confidence int    `json:"confidence,omitempty"`
	TLP        string `json:"tlp,omitempty"`
	Enabled    bool   `json:"enabled"`

	FeedStatus
}

// FeedStatus is what the last fetches of a feed did.
type FeedStatus struct {
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	// Indicators is how many indicators the store holds for the feed.
	Indicators int    `json:"indicators"`
	LastError  string `json:"last_error,omitempty"`
	// ProblemCount counts the entries the last successful read could not
	// take; Problems are the first of them, with their positions.
	ProblemCount int             `json:"problem_count"`
	Problems     []intel.Problem `json:"problems,omitempty"`
	// ETag and LastModified of the last document read, for conditional
	// requests.
	ETag         string `json:"-"`
	LastModified string `json:"-"`
}

// MaxFeedProblems caps the problems kept with a feed's status.
const MaxFeedProblems = 20

// Fetch is the outcome of one fetch of a feed, recorded by SetFeedStatus
// or, with the indicators read, ReplaceFeedIndicators.
type Fetch struct {
	Attempt time.Time
	// Err is the fetch's error; empty when it succeeded (or the document
	// was unchanged).
	Err          string
	ProblemCount int
	Problems     []intel.Problem
	ETag         string
	LastModified string
}

// IndicatorQuery selects indicators of one workspace, in the order they
// were stored.
type IndicatorQuery struct {
	Feed   string // empty: every feed
	Value  string // exact (normalized) value; empty: any
	Limit  int    // default 100, at most 10000
	Cursor string
}

// Intel keeps a workspace's feeds and their indicators. It is apart from
// Store so that a store may come without it; store/sqlite has both.
type Intel interface {
	// PutFeed creates a feed of an existing workspace or changes its
	// settings (format, source, interval, defaults, enabled); its status
	// and indicators stay.
	PutFeed(ctx context.Context, f Feed) error
	Feed(ctx context.Context, workspace, name string) (Feed, error)
	// Feeds lists a workspace's feeds by name; workspace "" lists every
	// workspace's.
	Feeds(ctx context.Context, workspace string) ([]Feed, error)
	// DeleteFeed deletes a feed and its indicators.
	DeleteFeed(ctx context.Context, workspace, name string) error
	// ReplaceFeedIndicators replaces every indicator of the feed with
	// inds and records a successful fetch, in one transaction: readers see
	// the old set or the new one, never a mix.
	ReplaceFeedIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator, f Fetch) error
	// AddIndicators adds inds to the feed (which must exist), an
	// indicator of the same kind and value replacing the one stored;
	// it returns how many the feed holds then.
	AddIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator) (int, error)
	// SetFeedStatus records a fetch that did not replace the indicators:
	// a failure (f.Err set; the last success stays) or an unchanged
	// document (a success that keeps the problems counted last).
	SetFeedStatus(ctx context.Context, workspace, feed string, f Fetch) error
	// Indicators pages a workspace's indicators.
	Indicators(ctx context.Context, workspace string, q IndicatorQuery) (inds []intel.Indicator, next string, err error)
	// PurgeIndicators deletes, in every workspace, the indicators revoked
	// or valid until before before, and returns how many went.
	PurgeIndicators(ctx context.Context, before time.Time) (int64, error)
}

// CheckFeed checks a feed's settings before PutFeed stores them: the
// rule both stores keep.
func CheckFeed(f Feed) error {
	if err := CheckFeedName(f.Name); err != nil {
		return fmt.Errorf("put feed in workspace %s: %w", f.Workspace, err)
	}
	if f.Format == "" || f.Interval < 0 || f.Confidence < 0 || f.Confidence > 100 {
		return fmt.Errorf("put feed %s/%s: format must be set, interval not negative, confidence 0 to 100: %w", f.Workspace, f.Name, ErrInvalid)
	}
	return nil
}

// CheckFeedName accepts 1–64 of A-Z a-z 0-9 . _ - and ':': a feed's name
// shows in URL paths, metrics and logs.
func CheckFeedName(name string) error {
	if len(name) == 0 || len(name) > 64 {
		return fmt.Errorf("feed name %q: %w (1 to 64 characters)", name, ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return fmt.Errorf("feed name %q: character %q at %d: %w (letters, digits, '.', '_', '-' and ':' only)", name, c, i, ErrInvalid)
		}
	}
	return nil
}
