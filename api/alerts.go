package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

type alertsInput struct {
	Status   []string  `query:"status,explode" doc:"Keep alerts of these statuses (new, active, resolved, dismissed): repeat the parameter or give a comma-separated list."`
	Severity string    `query:"severity" enum:"informational,low,medium,high,critical" doc:"Keep alerts of this severity or higher."`
	Rule     string    `query:"rule" doc:"Keep alerts of this rule id."`
	Entity   string    `query:"entity" doc:"Keep alerts about this entity value (an ip, host, account…); host names, domains, addresses, accounts and Windows paths compare without regard to case, Unix paths and URLs exactly."`
	Since    time.Time `query:"since" doc:"Keep alerts last seen at or after this time (RFC 3339)."`
	Until    time.Time `query:"until" doc:"Keep alerts last seen before this time (RFC 3339)."`
	// The threat-intelligence pane's groupings, so that its charts and
	// map link to the alerts behind them.
	ThreatType string `query:"threat_type" maxLength:"100" doc:"Keep alerts of this threat type, as the threat-intelligence pane groups them (brute_force, sql_injection, scanner, an indicator's own threat type…)."`
	Source     string `query:"source" maxLength:"200" doc:"Keep alerts that a signal of this source joined (alerts stored before vigil recorded their sources are not found by it)."`
	Country    string `query:"country" pattern:"^[A-Za-z]{2}$" doc:"Keep alerts whose origin is in this country (ISO 3166-1 alpha-2, e.g. DE; either case)."`
	Sort       string `query:"sort" enum:"priority,last_seen" default:"priority" doc:"Order: priority (highest first, then last seen first) or last_seen (last seen first). A cursor pages on in the order it came from."`
	PageQuery
}

type alertsOutput struct {
	Body struct {
		Alerts []alert.Alert `json:"alerts"`
		Next   string        `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
		Total  int           `json:"total" doc:"How many alerts the filters keep, on all pages."`
	}
}

type alertIDInput struct {
	ID string `path:"id" doc:"The alert's id."`
}

type alertOutput struct {
	Body alert.Alert
}

// alertDetailOutput is an alert with the incident it belongs to.
type alertDetailOutput struct {
	Body struct {
		alert.Alert
		Incident string `json:"incident,omitempty" doc:"The id of the incident the alert belongs to; absent when it is in none (or the store keeps no incidents)."`
	}
}

type alertStatusInput struct {
	ID   string `path:"id" doc:"The alert's id."`
	Body struct {
		Status alert.Status `json:"status" enum:"new,active,resolved,dismissed" doc:"The alert's new status."`
		Reason alert.Reason `json:"reason,omitempty" enum:"false_positive,benign_positive,true_positive,duplicate,other" doc:"Why it is resolved or dismissed; a dismissal as false_positive counts against the rule (GET /api/v1/rules/stats). Only with status resolved or dismissed; absent clears the alert's reason."`
	}
}

// alertsStatusInput changes several alerts at once.
type alertsStatusInput struct {
	Body struct {
		IDs    []string     `json:"ids" minItems:"1" maxItems:"1000" doc:"The alerts to change."`
		Status alert.Status `json:"status" enum:"new,active,resolved,dismissed" doc:"Their new status."`
		Reason alert.Reason `json:"reason,omitempty" enum:"false_positive,benign_positive,true_positive,duplicate,other" doc:"Why they are resolved or dismissed, as for one alert."`
	}
}

type alertsStatusOutput struct {
	Body struct {
		Alerts []alert.Alert `json:"alerts" doc:"The alerts as changed, in the order of ids."`
	}
}

func (a *API) registerAlerts(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-alerts",
		Method:      http.MethodGet,
		Path:        "/api/v1/alerts",
		Summary:     "List alerts",
		Description: "Alerts of the key's workspace, filtered, sorted by priority (or last seen) and paged, with the total the filters keep.",
		Tags:        []string{"alerts"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listAlerts)
	huma.Register(h, huma.Operation{
		OperationID: "get-alert",
		Method:      http.MethodGet,
		Path:        "/api/v1/alerts/{id}",
		Summary:     "Get an alert",
		Tags:        []string{"alerts"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound},
	}, a.getAlert)
	huma.Register(h, huma.Operation{
		OperationID: "set-alert-status",
		Method:      http.MethodPatch,
		Path:        "/api/v1/alerts/{id}",
		Summary:     "Change an alert's status",
		Description: "Audited as alert.status (with the reason, when given). A move the triage workflow does not allow (e.g. back to new) is refused with 409 and the reason.",
		Tags:        []string{"alerts"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, a.setAlertStatus)
	huma.Register(h, huma.Operation{
		OperationID: "set-alerts-status",
		Method:      http.MethodPatch,
		Path:        "/api/v1/alerts",
		Summary:     "Change several alerts' status",
		Description: "All of them in one transaction, or none: a missing alert is refused with 404, a move the triage workflow does not allow with 409, each naming the alert. Each change is audited on its own line (alert.status), as for one alert.",
		Tags:        []string{"alerts"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, a.setAlertsStatus)
}

func (a *API) listAlerts(ctx context.Context, in *alertsInput) (*alertsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q := store.AlertQuery{
		RuleID:     in.Rule,
		Entity:     in.Entity,
		ThreatType: in.ThreatType,
		Source:     in.Source,
		Country:    strings.ToUpper(in.Country),
		Since:      in.Since,
		Until:      in.Until,
		Limit:      in.Limit,
		Cursor:     in.Cursor,
		Sort:       in.Sort,
	}
	for _, v := range in.Status {
		for s := range strings.SplitSeq(v, ",") {
			st := alert.Status(strings.TrimSpace(s))
			if st == "" {
				continue // "status=" or a trailing comma: no filter
			}
			if !st.Valid() {
				return nil, invalid("query.status", "want new, active, resolved or dismissed", s)
			}
			q.Status = append(q.Status, st)
		}
	}
	if in.Severity != "" {
		sev, err := alert.ParseSeverity(in.Severity)
		if err != nil {
			return nil, invalid("query.severity", err.Error(), in.Severity)
		}
		q.MinSeverity = &sev
	}
	if !in.Since.IsZero() && !in.Until.IsZero() && !in.Since.Before(in.Until) {
		return nil, invalid("query.until", "until must be after since", in.Until)
	}
	alerts, next, err := a.store.Alerts(ctx, k.Workspace, q)
	if err != nil {
		return nil, a.storeError(ctx, "alerts", err)
	}
	total, err := a.store.CountAlerts(ctx, k.Workspace, q)
	if err != nil {
		return nil, a.storeError(ctx, "alerts", err)
	}
	out := &alertsOutput{}
	out.Body.Alerts = nonNil(alerts)
	out.Body.Next = next
	out.Body.Total = total
	return out, nil
}

func (a *API) getAlert(ctx context.Context, in *alertIDInput) (*alertDetailOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	al, err := a.store.Alert(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.storeError(ctx, "alert "+in.ID, err)
	}
	out := &alertDetailOutput{}
	out.Body.Alert = al
	// The alert page links the incident; a store without incidents has
	// none to name.
	if inc, ok := a.store.(store.Incidents); ok {
		of, err := inc.IncidentOfAlerts(ctx, k.Workspace, []string{al.ID})
		if err != nil {
			return nil, a.storeError(ctx, "incident of alert "+in.ID, err)
		}
		out.Body.Incident = of[al.ID]
	}
	return out, nil
}

// checkStatusChange checks a status change's body: a status, and a reason
// that status takes.
func checkStatusChange(status alert.Status, reason alert.Reason) error {
	if !status.Valid() {
		return invalid("body.status", "want new, active, resolved or dismissed", status)
	}
	if err := alert.CheckReason(status, reason); err != nil {
		return invalid("body.reason", err.Error(), reason)
	}
	return nil
}

func (a *API) setAlertStatus(ctx context.Context, in *alertStatusInput) (*alertOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkStatusChange(in.Body.Status, in.Body.Reason); err != nil {
		return nil, err
	}
	// The store writes the alert.status audit entry in the same transaction.
	var al alert.Alert
	if n, ok := a.store.(store.Noise); ok {
		al, err = n.ClassifyAlert(ctx, k.Workspace, in.ID, in.Body.Status, in.Body.Reason, k.Actor())
	} else if in.Body.Reason != "" {
		return nil, huma.Error501NotImplemented("this store keeps no alert reasons")
	} else {
		al, err = a.store.SetAlertStatus(ctx, k.Workspace, in.ID, in.Body.Status, k.Actor())
	}
	if err != nil {
		return nil, a.storeError(ctx, "alert "+in.ID, err)
	}
	return &alertOutput{Body: al}, nil
}

func (a *API) setAlertsStatus(ctx context.Context, in *alertsStatusInput) (*alertsStatusOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkStatusChange(in.Body.Status, in.Body.Reason); err != nil {
		return nil, err
	}
	bulk, ok := a.store.(store.BulkAlerts)
	if !ok {
		return nil, huma.Error501NotImplemented("this store changes alerts one at a time: PATCH /api/v1/alerts/{id}")
	}
	// The store writes an alert.status audit entry an alert in the same
	// transaction.
	als, err := bulk.SetAlertsStatus(ctx, k.Workspace, in.Body.IDs, in.Body.Status, in.Body.Reason, k.Actor())
	var one *store.AlertError
	if errors.As(err, &one) {
		// The refusal names the alert, as the one-alert route's does.
		return nil, a.storeError(ctx, "alert "+one.ID, one.Err)
	}
	if err != nil {
		return nil, a.storeError(ctx, "alerts", err)
	}
	out := &alertsStatusOutput{}
	out.Body.Alerts = nonNil(als)
	return out, nil
}
