package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/respond"
)

// Automation is the response automation a server runs, as the API shows
// it: none when its Config is empty.
type Automation interface {
	Config() respond.Config
	Status(workspace string) ([]respond.RuleStatus, []respond.PlaybookStatus)
}

type automationRule struct {
	respond.Rule
	Fired     int        `json:"fired" doc:"How often it acted in this workspace since the server started."`
	LastFired *time.Time `json:"last_fired,omitempty"`
}

type automationPlaybook struct {
	Name     string `json:"name"`
	Type     string `json:"type" doc:"webhook, email or command."`
	Target   string `json:"target" doc:"Where it goes, without secrets: a webhook's scheme and host, the SMTP server, the program."`
	Attempts int    `json:"attempts"`
	Timeout  string `json:"timeout"`
	Backoff  string `json:"backoff"`
	respond.PlaybookStatus
}

type automationOutput struct {
	Body struct {
		Running       bool                   `json:"running" doc:"Whether the server runs response automation (a respond section in its config file)."`
		Rules         []automationRule       `json:"rules" doc:"The automation rules that apply to this workspace, in configuration order."`
		Playbooks     []automationPlaybook   `json:"playbooks"`
		Notifications []respond.Notification `json:"notifications" doc:"The notification channels that apply to this workspace."`
	}
}

func (a *API) registerAutomation(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "get-automation",
		Method:      http.MethodGet,
		Path:        "/api/v1/automation",
		Summary:     "Response automation in force",
		Description: "The automation rules, playbooks and notification channels the server's config file sets, as they apply to the workspace, with how often each rule acted and how each playbook's runs went in the workspace since the server started. Read-only: they are set in the config file.",
		Tags:        []string{"automation"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden},
	}, a.getAutomation)
}

func (a *API) getAutomation(ctx context.Context, _ *struct{}) (*automationOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &automationOutput{}
	out.Body.Rules, out.Body.Playbooks, out.Body.Notifications = []automationRule{}, []automationPlaybook{}, []respond.Notification{}
	if a.automation == nil {
		return out, nil
	}
	cfg := a.automation.Config()
	out.Body.Running = !cfg.Empty()
	rules, runs := a.automation.Status(k.Workspace)
	fired := map[string]respond.RuleStatus{}
	for _, r := range rules {
		fired[r.Rule] = r
	}
	for _, r := range cfg.Automation {
		st, ok := fired[r.Name]
		if !ok {
			continue // not for this workspace
		}
		out.Body.Rules = append(out.Body.Rules, automationRule{Rule: r, Fired: st.Fired, LastFired: st.LastFired})
	}
	for i, p := range cfg.Playbooks {
		v := automationPlaybook{Name: p.Name, Type: p.Type, Target: p.Target(), Attempts: p.Attempts,
			Timeout: p.Timeout.String(), Backoff: p.Backoff.String()}
		if i < len(runs) {
			v.PlaybookStatus = runs[i]
		}
		out.Body.Playbooks = append(out.Body.Playbooks, v)
	}
	for _, n := range cfg.Notifications {
		if len(n.Workspaces) == 0 || slices.Contains(n.Workspaces, k.Workspace) {
			out.Body.Notifications = append(out.Body.Notifications, n)
		}
	}
	return out, nil
}
