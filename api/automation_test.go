package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/respond"
	"github.com/vigil-sec/vigil/store"
)

// noAlerts stands for the alert stream: the engine is not run here.
type noAlerts struct{}

func (noAlerts) Alert(context.Context, string, string) (alert.Alert, error) {
	return alert.Alert{}, store.ErrNotFound
}
func (noAlerts) AlertChanges(context.Context, int64, int) ([]store.AlertChange, error) {
	return nil, nil
}
func (noAlerts) AlertChangesSignal() <-chan struct{}                    { return nil }
func (noAlerts) ConsumerCursor(context.Context, string) (int64, error)  { return 0, nil }
func (noAlerts) SetConsumerCursor(context.Context, string, int64) error { return nil }

func TestAutomationRoute(t *testing.T) {
	e, err := respond.NewEngine(respond.EngineConfig{Alerts: noAlerts{}, Config: respond.Config{
		Playbooks: []respond.Playbook{{Name: "slack", Type: respond.PlaybookWebhook, URL: "https://hooks.slack.com/services/T0/B0/SECRET", Template: "slack"}},
		Automation: []respond.Rule{
			{Name: "for-all", Trigger: respond.TriggerIncidentCreated, Actions: []respond.Action{{Playbook: "slack"}}},
			{Name: "for-b", Trigger: respond.TriggerAlertCreated, When: respond.Conditions{Workspaces: []string{"b"}}, Actions: []respond.Action{{Tag: "x"}}},
		},
		Notifications: []respond.Notification{{Name: "soc-b", Playbook: "slack", Workspaces: []string{"b"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, newFakeStore(), func(c *Config) { c.Automation = e })
	var got struct {
		Running   bool
		Rules     []struct{ Name string }
		Playbooks []struct {
			Name, Target string
			Attempts     int
		}
		Notifications []struct{ Name string }
	}
	w := f.do(http.MethodGet, "/api/v1/automation", "a-read", nil)
	want(t, w, http.StatusOK, &got)
	if !got.Running || len(got.Rules) != 1 || got.Rules[0].Name != "for-all" || len(got.Notifications) != 0 {
		t.Errorf("a's automation = %+v", got)
	}
	if len(got.Playbooks) != 1 || got.Playbooks[0].Target != "https://hooks.slack.com/…" || got.Playbooks[0].Attempts != 3 {
		t.Errorf("playbooks = %+v", got.Playbooks)
	}
	if strings.Contains(w.Body.String(), "SECRET") {
		t.Errorf("the webhook's secret is shown: %s", w.Body)
	}
	want(t, f.do(http.MethodGet, "/api/v1/automation", "b-read", nil), http.StatusOK, &got)
	if len(got.Rules) != 2 || len(got.Notifications) != 1 {
		t.Errorf("b's automation = %+v", got)
	}
	// A server without automation says so.
	f2 := newFixture(t, newFakeStore())
	want(t, f2.do(http.MethodGet, "/api/v1/automation", "a-read", nil), http.StatusOK, &got)
	if got.Running {
		t.Errorf("without automation: %+v", got)
	}
}
