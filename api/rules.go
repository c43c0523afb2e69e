package api

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/store"
)

// RuleInfo is a rule detection runs, as the server's rule set gives it.
type RuleInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Tactics     []string `json:"tactics,omitempty"`
	Correlation bool     `json:"correlation,omitempty" doc:"A correlation rule (it alerts on matches of other rules)."`
}

// RuleView is a rule with whether the caller's workspace runs it.
type RuleView struct {
	RuleInfo
	Enabled    bool       `json:"enabled"`
	DisabledBy string     `json:"disabled_by,omitempty" doc:"Who turned it off; absent when on."`
	Disabled   *time.Time `json:"disabled,omitempty" doc:"When it was turned off; absent when on."`
}

// ruleSwitch is the store's side of turning rules off; the embedded
// store has it.
type ruleSwitch interface {
	DisabledRules(ctx context.Context, workspace string) ([]store.DisabledRule, error)
	SetRuleEnabled(ctx context.Context, workspace, rule string, enabled bool, actor string) (bool, error)
}

type rulesInput struct {
	PageQuery
}

type rulesOutput struct {
	Body struct {
		Rules    []RuleView `json:"rules"`
		Total    int        `json:"total" doc:"Rules in all (rules turned off that the server no longer has included)."`
		Disabled int        `json:"disabled" doc:"Of those, turned off in this workspace."`
		Next     string     `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
	}
}

type patchRuleInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"256" doc:"The rule's id."`
	Body struct {
		Enabled bool `json:"enabled" doc:"false turns the rule off in the workspace: its matches neither alert nor feed correlations; true turns it on again."`
	}
}

type ruleOutput struct {
	Body RuleView
}

func (a *API) registerRules(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-rules",
		Method:      http.MethodGet,
		Path:        "/api/v1/rules",
		Summary:     "List the detection rules and whether they run",
		Description: "The rules and correlations this server runs, by id, each with whether the workspace turned it off (and who, when), paged; rules turned off that the server no longer has are listed too.",
		Tags:        []string{"rules"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listRules)
	huma.Register(h, huma.Operation{
		OperationID: "patch-rule",
		Method:      http.MethodPatch,
		Path:        "/api/v1/rules/{id}",
		Summary:     "Turn a rule off or on",
		Description: "Turns the rule off (enabled false) or on in the workspace; the detect stage applies it to the batches it processes next. Audited as rule.disable or rule.enable.",
		Tags:        []string{"rules"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, a.patchRule)
	huma.Register(h, huma.Operation{
		OperationID: "test-rule",
		Method:      http.MethodPost,
		Path:        "/api/v1/rules/{id}/test",
		Summary:     "Run a rule over sample records",
		Description: "Compiles the rule on its own and runs it over the records given, decoded with format: which records it matches, which could not be decoded, and the signals it would raise. Nothing is stored. A correlation cannot be tested so (use vigil scan).",
		Tags:        []string{"rules"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusNotImplemented},
	}, a.testRuleRoute)
}

// RuleTestResult is what a rule made of sample records.
type RuleTestResult struct {
	Records  int              `json:"records" doc:"Records given."`
	Matched  []int            `json:"matched" doc:"Lines (1-based) of the records the rule matched."`
	Rejected []RuleTestReject `json:"rejected" doc:"Records that could not be decoded."`
	Signals  []RuleTestSignal `json:"signals" doc:"The signals the rule raised for them, as the detect stage would."`
}

// RuleTestSignal is a signal a rule test raised.
type RuleTestSignal struct {
	Title    string         `json:"title"`
	Severity string         `json:"severity"`
	Entities []alert.Entity `json:"entities"`
	Line     int            `json:"line" doc:"The record's line."`
}

// RuleTestReject is a sample record that could not be decoded.
type RuleTestReject struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

type testRuleInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"256" doc:"The rule's id."`
	Body struct {
		Format  string   `json:"format" minLength:"1" doc:"The records' format, as a source's (json, windows, sshd, mssql-audit…)."`
		Records []string `json:"records" minItems:"1" maxItems:"100" doc:"The sample records, one a string (a JSON object as text, a log line…), at most 100."`
	}
}

type testRuleOutput struct {
	Body RuleTestResult
}

func (a *API) ruleSwitch() (ruleSwitch, error) {
	rs, ok := a.store.(ruleSwitch)
	if !ok {
		return nil, huma.Error501NotImplemented("this store cannot turn rules off")
	}
	return rs, nil
}

// ruleViews is every rule of the server, and every rule the workspace
// turned off, by id.
func (a *API) ruleViews(ctx context.Context, ws string) ([]RuleView, error) {
	rs, err := a.ruleSwitch()
	if err != nil {
		return nil, err
	}
	off, err := rs.DisabledRules(ctx, ws)
	if err != nil {
		return nil, a.storeError(ctx, "disabled rules", err)
	}
	byID := map[string]store.DisabledRule{}
	for _, d := range off {
		byID[d.Rule] = d
	}
	var out []RuleView
	if a.rules != nil {
		for _, r := range a.rules() {
			v := RuleView{RuleInfo: r, Enabled: true}
			if d, ok := byID[r.ID]; ok {
				v.Enabled, v.DisabledBy, v.Disabled = false, d.Actor, &d.Since
				delete(byID, r.ID)
			}
			out = append(out, v)
		}
	}
	for _, d := range byID {
		out = append(out, RuleView{RuleInfo: RuleInfo{ID: d.Rule}, DisabledBy: d.Actor, Disabled: &d.Since})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (a *API) listRules(ctx context.Context, in *rulesInput) (*rulesOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	all, err := a.ruleViews(ctx, k.Workspace)
	if err != nil {
		return nil, err
	}
	out := &rulesOutput{}
	out.Body.Total = len(all)
	for _, v := range all {
		if !v.Enabled {
			out.Body.Disabled++
		}
	}
	// The cursor is the last id of the previous page: the list is by id.
	from := sort.Search(len(all), func(i int) bool { return all[i].ID > in.Cursor })
	if in.Cursor == "" {
		from = 0
	}
	limit := in.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	to := min(from+limit, len(all))
	out.Body.Rules = append([]RuleView{}, all[from:to]...)
	if to < len(all) {
		out.Body.Next = all[to-1].ID
	}
	return out, nil
}

func (a *API) patchRule(ctx context.Context, in *patchRuleInput) (*ruleOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := a.ruleSwitch()
	if err != nil {
		return nil, err
	}
	if a.rules != nil && !in.Body.Enabled {
		// A rule the server does not have cannot be turned off (a typo
		// would look like a success); one turned off earlier can always
		// be turned on again.
		known := false
		for _, r := range a.rules() {
			if r.ID == in.ID {
				known = true
				break
			}
		}
		if !known {
			return nil, huma.Error404NotFound("no rule " + in.ID + " in this server's rules")
		}
	}
	changed, err := rs.SetRuleEnabled(ctx, k.Workspace, in.ID, in.Body.Enabled, k.Actor())
	if err != nil {
		return nil, a.storeError(ctx, "rule "+in.ID, err)
	}
	if changed {
		action := "rule.enable"
		if !in.Body.Enabled {
			action = "rule.disable"
		}
		a.audit(ctx, k, action, "rule:"+in.ID, "")
		if a.rulesChanged != nil {
			a.rulesChanged(k.Workspace)
		}
	}
	all, err := a.ruleViews(ctx, k.Workspace)
	if err != nil {
		return nil, err
	}
	for _, v := range all {
		if v.ID == in.ID {
			return &ruleOutput{Body: v}, nil
		}
	}
	// Turned on, and not a rule of the server.
	return &ruleOutput{Body: RuleView{RuleInfo: RuleInfo{ID: in.ID}, Enabled: true}}, nil
}

func (a *API) testRuleRoute(ctx context.Context, in *testRuleInput) (*testRuleOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if a.testRule == nil {
		return nil, huma.Error501NotImplemented("this server does not test rules")
	}
	if !decode.Known(in.Body.Format) {
		return nil, invalid("body.format", "unknown format; known: "+strings.Join(decode.Formats(), ", "), in.Body.Format)
	}
	recs := make([][]byte, len(in.Body.Records))
	for i, r := range in.Body.Records {
		if len(r) > 64<<10 {
			return nil, invalid("body.records", "a record of at most 64 KiB", i)
		}
		recs[i] = []byte(r)
	}
	res, err := a.testRule(ctx, k.Workspace, in.ID, in.Body.Format, recs)
	if err != nil {
		return nil, a.storeError(ctx, "rule "+in.ID, err)
	}
	res.Matched, res.Rejected, res.Signals = nonNil(res.Matched), nonNil(res.Rejected), nonNil(res.Signals)
	return &testRuleOutput{Body: res}, nil
}
