package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// Intel is what the threat-intelligence routes ask of the feeds (the feed
// manager of `vigil serve`), always for the caller's workspace. Errors
// wrap the store's (not found, invalid).
type Intel interface {
	Feeds(ctx context.Context, workspace string) ([]store.Feed, error)
	// Refresh fetches a feed now and returns its status after; a failed
	// fetch shows in the status, not as an error.
	Refresh(ctx context.Context, workspace, name string) (store.Feed, error)
	// Lookup returns the live indicators a value falls under, and what
	// the value was taken for, normalized.
	Lookup(ctx context.Context, workspace, value string) (kind intel.Kind, normalized string, inds []intel.Indicator, err error)
	// Add keeps indicators given by hand in the workspace's manual feed
	// and returns that feed's name and how many indicators it holds.
	Add(ctx context.Context, workspace string, inds []intel.Indicator) (feed string, total int, err error)
}

// FeedView is a feed and its status as the API shows it.
type FeedView struct {
	Name         string          `json:"name"`
	Format       string          `json:"format"`
	Source       string          `json:"source,omitempty" doc:"The feed's URL (a password in it left out) or file path; absent for the manual feed."`
	Interval     string          `json:"interval,omitempty" doc:"How often the feed is fetched; absent when it is not fetched on its own."`
	ThreatType   string          `json:"threat_type,omitempty" doc:"Threat type given to the feed's indicators that carry none."`
	Confidence   int             `json:"confidence,omitempty" doc:"Confidence given to the feed's indicators that carry none."`
	TLP          string          `json:"tlp,omitempty"`
	Enabled      bool            `json:"enabled"`
	LastAttempt  *time.Time      `json:"last_attempt,omitempty"`
	LastSuccess  *time.Time      `json:"last_success,omitempty" doc:"The last fetch that read the feed, or found it unchanged."`
	Indicators   int             `json:"indicators" doc:"Indicators the feed holds."`
	LastError    string          `json:"last_error,omitempty" doc:"Why the last fetch failed; absent when it worked. The indicators of the last success stay in use."`
	ProblemCount int             `json:"problem_count" doc:"Entries the last read could not take (the rest was imported)."`
	Problems     []intel.Problem `json:"problems,omitempty" doc:"The first of those entries, with their positions."`
}

func feedView(f store.Feed) FeedView {
	v := FeedView{
		Name: f.Name, Format: f.Format, Source: f.Source, ThreatType: f.ThreatType, Confidence: f.Confidence, TLP: f.TLP,
		Enabled: f.Enabled, LastAttempt: f.LastAttempt, LastSuccess: f.LastSuccess, Indicators: f.Indicators,
		LastError: f.LastError, ProblemCount: f.ProblemCount, Problems: f.Problems,
	}
	if u, err := url.Parse(f.Source); err == nil && u.User != nil {
		v.Source = u.Redacted()
	}
	if f.Interval > 0 {
		v.Interval = f.Interval.String()
	}
	return v
}

type feedsOutput struct {
	Body struct {
		Feeds []FeedView `json:"feeds"`
	}
}

type feedNameInput struct {
	Name string `path:"name" doc:"The feed's name."`
}

type feedOutput struct {
	Body FeedView
}

type lookupInput struct {
	Value string `query:"value" required:"true" minLength:"1" maxLength:"8192" doc:"An IP address, CIDR range, domain, URL, hash, e-mail address or user agent."`
}

type lookupOutput struct {
	Body struct {
		Value      string            `json:"value" doc:"The value as indicators keep it (normalized)."`
		Kind       string            `json:"kind" doc:"What the value was taken for: ip, cidr, domain, url, md5, sha1, sha256, email or user_agent."`
		Indicators []intel.Indicator `json:"indicators" doc:"The live indicators the value falls under: an address under its ranges, a domain under its parent domains."`
	}
}

// ManualIndicator is an indicator given by hand.
type ManualIndicator struct {
	Kind        string    `json:"kind,omitempty" required:"false" enum:"ip,cidr,domain,url,md5,sha1,sha256,email,user_agent" doc:"Told from the value when absent."`
	Value       string    `json:"value" minLength:"1" maxLength:"8192"`
	ThreatType  string    `json:"threat_type,omitempty" required:"false" doc:"botnet, c2, malware, phishing, scanner, tor_exit, spam, brute_force, exploit, anonymizer or another word; unknown when absent."`
	Threat      string    `json:"threat,omitempty" required:"false" doc:"The malware, actor or campaign."`
	Confidence  int       `json:"confidence,omitempty" required:"false" minimum:"0" maximum:"100"`
	ValidUntil  time.Time `json:"valid_until,omitzero" required:"false" doc:"When the indicator stops matching; never when absent."`
	TLP         string    `json:"tlp,omitempty" required:"false" enum:"clear,green,amber,amber+strict,red"`
	Description string    `json:"description,omitempty" required:"false" maxLength:"4096"`
	Tags        []string  `json:"tags,omitempty" required:"false" maxItems:"64"`
}

type addIndicatorsInput struct {
	Body struct {
		Indicators []ManualIndicator `json:"indicators" minItems:"1" maxItems:"10000"`
	}
}

type addIndicatorsOutput struct {
	Body struct {
		Added      int    `json:"added" doc:"Indicators taken from this request."`
		Feed       string `json:"feed" doc:"The feed they went to."`
		Indicators int    `json:"indicators" doc:"Indicators that feed now holds (one a kind and value: an indicator given again replaces the one kept)."`
	}
}

func (a *API) registerIntel(h huma.API) {
	tags := []string{"intel"}
	huma.Register(h, huma.Operation{
		OperationID: "list-intel-feeds",
		Method:      http.MethodGet,
		Path:        "/api/v1/intel/feeds",
		Summary:     "List the workspace's threat-intelligence feeds and their status",
		Description: "Each feed with its settings, indicator count, last attempt and success, last error, and the entries the last read refused, with their positions.",
		Tags:        tags,
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable},
	}, a.listFeeds)
	huma.Register(h, huma.Operation{
		OperationID: "refresh-intel-feed",
		Method:      http.MethodPost,
		Path:        "/api/v1/intel/feeds/{name}/refresh",
		Summary:     "Fetch a feed now",
		Description: "Fetches the feed at once (conditionally: an unchanged document is not read again) and answers its status after; a failed fetch shows in last_error. Audited as intel.feed.refresh.",
		Tags:        tags,
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, a.refreshFeed)
	huma.Register(h, huma.Operation{
		OperationID: "lookup-indicators",
		Method:      http.MethodGet,
		Path:        "/api/v1/intel/indicators",
		Summary:     "Which indicators a value matches",
		Description: "Looks a value up as event matching does: an address matches its own indicators and those of the ranges holding it, a domain those of its parent domains. Expired and revoked indicators do not match.",
		Tags:        tags,
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, a.lookupIndicators)
	huma.Register(h, huma.Operation{
		OperationID: "add-indicators",
		Method:      http.MethodPost,
		Path:        "/api/v1/intel/indicators",
		Summary:     "Add indicators by hand",
		Description: "Keeps the indicators in the workspace's feed manual, matched from then on. Audited as intel.indicators.add.",
		Tags:        tags,
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, a.addIndicators)
}

func (a *API) intelOrUnavailable() error {
	if a.intel == nil {
		return huma.Error503ServiceUnavailable("threat intelligence is not running in this server")
	}
	return nil
}

func (a *API) listFeeds(ctx context.Context, _ *struct{}) (*feedsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.intelOrUnavailable(); err != nil {
		return nil, err
	}
	feeds, err := a.intel.Feeds(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "feeds", err)
	}
	out := &feedsOutput{}
	out.Body.Feeds = make([]FeedView, 0, len(feeds))
	for _, f := range feeds {
		out.Body.Feeds = append(out.Body.Feeds, feedView(f))
	}
	return out, nil
}

func (a *API) refreshFeed(ctx context.Context, in *feedNameInput) (*feedOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.intelOrUnavailable(); err != nil {
		return nil, err
	}
	f, err := a.intel.Refresh(ctx, k.Workspace, in.Name)
	if err != nil {
		return nil, a.storeError(ctx, "feed "+in.Name, err)
	}
	detail := strconv.Itoa(f.Indicators) + " indicators"
	if f.LastError != "" {
		detail = "failed: " + f.LastError
	}
	a.audit(ctx, k, "intel.feed.refresh", "feed:"+f.Name, detail)
	return &feedOutput{Body: feedView(f)}, nil
}

func (a *API) lookupIndicators(ctx context.Context, in *lookupInput) (*lookupOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.intelOrUnavailable(); err != nil {
		return nil, err
	}
	kind, v, inds, err := a.intel.Lookup(ctx, k.Workspace, in.Value)
	if err != nil {
		return nil, a.storeError(ctx, "indicators", err)
	}
	out := &lookupOutput{}
	out.Body.Value, out.Body.Kind = v, string(kind)
	out.Body.Indicators = nonNil(inds)
	return out, nil
}

func (a *API) addIndicators(ctx context.Context, in *addIndicatorsInput) (*addIndicatorsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.intelOrUnavailable(); err != nil {
		return nil, err
	}
	inds := make([]intel.Indicator, len(in.Body.Indicators))
	for i, m := range in.Body.Indicators {
		inds[i] = intel.Indicator{
			Kind: intel.Kind(m.Kind), Value: m.Value, ThreatType: m.ThreatType, Threat: m.Threat, Confidence: m.Confidence,
			ValidUntil: m.ValidUntil, TLP: m.TLP, Description: m.Description, Tags: m.Tags,
		}
	}
	feed, n, err := a.intel.Add(ctx, k.Workspace, inds)
	if err != nil {
		return nil, a.storeError(ctx, "indicators", err)
	}
	a.audit(ctx, k, "intel.indicators.add", "feed:"+feed, strconv.Itoa(len(inds))+" indicators")
	out := &addIndicatorsOutput{}
	out.Body.Added, out.Body.Feed, out.Body.Indicators = len(inds), feed, n
	return out, nil
}
