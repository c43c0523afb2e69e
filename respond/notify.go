package respond

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// Overflow policies of a notification channel's throttle.
const (
	OverflowSummary = "summary" // held messages are told in one "N more" message when the window ends
	OverflowDrop    = "drop"    // held messages are dropped, counted in the log and the metrics
)

// Notification defaults.
const (
	DefaultNotifyMax    = 10
	DefaultNotifyWindow = 10 * time.Minute
)

// Notification is a channel that tells people of new incidents and stage
// changes through a webhook or e-mail playbook, throttled.
type Notification struct {
	Name     string `koanf:"name" json:"name"`
	Playbook string `koanf:"playbook" json:"playbook"` // a webhook or email playbook
	// Workspaces limits it to these workspaces (default all).
	Workspaces []string `koanf:"workspaces" json:"workspaces,omitempty"`
	// A new incident is told when its priority and severity are at or
	// above these (both that are set).
	MinPriority int    `koanf:"min-priority" json:"min_priority,omitempty"`
	MinSeverity string `koanf:"min-severity" json:"min_severity,omitempty"`
	// Stages are the stages whose moves are told (default all); NoStages
	// tells none. Stage changes are told of incidents that pass the
	// thresholds too.
	Stages   []incident.Stage `koanf:"stages" json:"stages,omitempty"`
	NoStages bool             `koanf:"no-stages" json:"no_stages,omitempty"`
	// Max messages a Window (defaults 10 a 10m); beyond, Overflow
	// decides: summary (the default) or drop.
	Max      int           `koanf:"max" json:"max"`
	Window   time.Duration `koanf:"window" json:"window"`
	Overflow string        `koanf:"overflow" json:"overflow"`

	minSev *alert.Severity
}

func (n *Notification) check(i int, playbooks map[string]*Playbook) error {
	where := fmt.Sprintf("notification %q (respond.notifications[%d])", n.Name, i)
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", where, field, fmt.Sprintf(format, args...))
	}
	if !validName(n.Name) {
		return fail("name", "want 1-64 of A-Z a-z 0-9 . _ -, got %q", n.Name)
	}
	pb := playbooks[n.Playbook]
	switch {
	case pb == nil:
		return fail("playbook", "no playbook is named %q", n.Playbook)
	case pb.Type != PlaybookWebhook && pb.Type != PlaybookEmail:
		return fail("playbook", "%q is a %s playbook; notifications go over webhook or email", n.Playbook, pb.Type)
	}
	if n.MinPriority < 0 || n.MinPriority > 100 {
		return fail("min-priority", "%d is not from 0 to 100", n.MinPriority)
	}
	n.minSev = nil
	if n.MinSeverity != "" {
		s, err := alert.ParseSeverity(n.MinSeverity)
		if err != nil {
			return fail("min-severity", "%v", err)
		}
		n.minSev = &s
	}
	for _, s := range n.Stages {
		if !s.Valid() {
			return fail("stages", "unknown stage %q", s)
		}
	}
	if n.Max < 0 || n.Window < 0 {
		return fail("max/window", "must not be negative")
	}
	if n.Max == 0 {
		n.Max = DefaultNotifyMax
	}
	if n.Window == 0 {
		n.Window = DefaultNotifyWindow
	}
	switch n.Overflow {
	case "":
		n.Overflow = OverflowSummary
	case OverflowSummary, OverflowDrop:
	default:
		return fail("overflow", "%q is not summary or drop", n.Overflow)
	}
	return nil
}

// wants reports whether the channel tells of inc: a new incident (stage
// "") or a move into stage.
func (n *Notification) wants(inc *incident.Incident, stage incident.Stage) bool {
	if len(n.Workspaces) > 0 && !slices.Contains(n.Workspaces, inc.Workspace) {
		return false
	}
	if inc.Priority < n.MinPriority || n.minSev != nil && inc.Severity < *n.minSev {
		return false
	}
	if stage == "" {
		return true
	}
	return !n.NoStages && (len(n.Stages) == 0 || slices.Contains(n.Stages, stage))
}

// throttle lets at most max messages through a window, which starts with
// the first message after the previous window ended, and keeps the
// titles of those it held.
type throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	start  time.Time // zero: no window open
	sent   int
	held   []string
}

// allow reports whether a message titled title may go at now; if not, it
// is held.
func (t *throttle) allow(now time.Time, title string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() || !now.Before(t.start.Add(t.window)) {
		// A window with held messages is closed by due first; one
		// without any simply ends.
		if len(t.held) == 0 {
			t.start, t.sent = now, 0
		}
	}
	if t.sent < t.max && len(t.held) == 0 {
		t.sent++
		return true
	}
	t.held = append(t.held, title)
	return false
}

// due returns the titles held in a window that ended by now, and resets
// the throttle; nil while the window is open or held nothing.
func (t *throttle) due(now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() || now.Before(t.start.Add(t.window)) {
		return nil
	}
	held := t.held
	t.start, t.sent, t.held = time.Time{}, 0, nil
	return held
}

// summary is the "N more" message for held titles.
func summary(n *Notification, held []string, now time.Time) *Payload {
	shown := held[:min(len(held), 5)]
	text := fmt.Sprintf("%d more notifications were held back in the last %s (at most %d a window): %s",
		len(held), n.Window, n.Max, strings.Join(shown, "; "))
	if len(held) > len(shown) {
		text += "; …"
	}
	return &Payload{Kind: "summary", Title: fmt.Sprintf("%d more vigil notifications", len(held)), Text: text,
		By: "notification " + n.Name, Time: now, Held: len(held)}
}
