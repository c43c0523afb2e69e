package respond

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// Playbook types.
const (
	PlaybookWebhook = "webhook"
	PlaybookEmail   = "email"
	PlaybookCommand = "command"
)

// Defaults of a playbook run.
const (
	DefaultAttempts = 3
	DefaultBackoff  = 2 * time.Second
	DefaultTimeout  = 10 * time.Second
	maxBackoff      = time.Minute
)

// Playbook is a response a rule or a notification runs: a webhook, an
// e-mail or a command, retried with backoff.
type Playbook struct {
	Name string `koanf:"name" json:"name"`
	Type string `koanf:"type" json:"type"` // webhook, email or command

	// Webhook: URL, Method (default POST), Headers, and the body: Template
	// (json — the payload as it is, the default —, slack or teams) or Body,
	// a text/template of the JSON body.
	URL      string            `koanf:"url" json:"url,omitempty"`
	Method   string            `koanf:"method" json:"method,omitempty"`
	Headers  map[string]string `koanf:"headers" json:"-"`
	Template string            `koanf:"template" json:"template,omitempty"`
	Body     string            `koanf:"body" json:"-"`

	// E-mail: SMTP server (host:port), optional authentication (the
	// password given, or read from the environment variable PasswordEnv),
	// From, To, and Subject and Body templates (defaults given).
	SMTP        string   `koanf:"smtp" json:"smtp,omitempty"`
	Username    string   `koanf:"username" json:"-"`
	Password    string   `koanf:"password" json:"-"`
	PasswordEnv string   `koanf:"password-env" json:"-"`
	From        string   `koanf:"from" json:"from,omitempty"`
	To          []string `koanf:"to" json:"to,omitempty"`
	Subject     string   `koanf:"subject" json:"-"`

	// Command: argv (no shell), given the payload as JSON on stdin.
	Command []string `koanf:"command" json:"command,omitempty"`

	// Timeout bounds one attempt (default 10s); Attempts is how many
	// attempts a run makes (default 3); Backoff the pause after the first
	// failed attempt, doubling after each (default 2s, at most 1m).
	Timeout  time.Duration `koanf:"timeout" json:"timeout"`
	Attempts int           `koanf:"attempts" json:"attempts"`
	Backoff  time.Duration `koanf:"backoff" json:"backoff"`

	run runner
}

// Target says where the playbook goes, without secrets: a webhook's
// scheme and host, an e-mail's SMTP server, a command's program.
func (pb *Playbook) Target() string {
	switch pb.Type {
	case PlaybookWebhook:
		return redact(pb.URL)
	case PlaybookEmail:
		return pb.SMTP
	case PlaybookCommand:
		if len(pb.Command) > 0 {
			return pb.Command[0]
		}
	}
	return ""
}

// Payload is what a playbook is given: the JSON a webhook posts by
// default, a command reads on stdin, and the data of every template.
type Payload struct {
	// Kind is alert (a rule on alert_created), incident (a rule on
	// incident_created, a new-incident notification), stage (a stage
	// change), summary (notifications a throttle held back) or test.
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Workspace string    `json:"workspace"`
	Severity  string    `json:"severity,omitempty"`
	Priority  int       `json:"priority,omitempty"`
	Stage     string    `json:"stage,omitempty"`
	By        string    `json:"by"` // "automation rule NAME" or "notification NAME"
	Time      time.Time `json:"time"`
	// Held is how many notifications a summary stands for.
	Held     int                `json:"held,omitempty"`
	Incident *incident.Incident `json:"incident,omitempty"`
	Alert    *alert.Alert       `json:"alert,omitempty"`
}

// Color is a hex colour for the payload's severity (the Teams card's
// theme colour).
func (p Payload) Color() string {
	switch p.Severity {
	case "critical":
		return "8B0000"
	case "high":
		return "D13438"
	case "medium":
		return "FF8C00"
	case "low":
		return "FFB900"
	}
	return "808080"
}

// runner is one attempt of a playbook.
type runner interface {
	attempt(ctx context.Context, p *Payload) error
}

// permanent marks an error that another attempt would not mend (a
// template that does not make JSON, a 4xx answer).
type permanent struct{ error }

func (e permanent) Unwrap() error { return e.error }

// Result is one run's outcome.
type Result struct {
	Attempts int
	Err      error
}

// check validates the playbook and builds its runner; errors name it and
// the field.
func (pb *Playbook) check(i int) error {
	where := fmt.Sprintf("playbook %q (respond.playbooks[%d])", pb.Name, i)
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", where, field, fmt.Sprintf(format, args...))
	}
	if !validName(pb.Name) {
		return fail("name", "want 1-64 of A-Z a-z 0-9 . _ -, got %q", pb.Name)
	}
	if pb.Attempts < 0 || pb.Attempts > 20 {
		return fail("attempts", "%d is not from 1 to 20", pb.Attempts)
	}
	if pb.Attempts == 0 {
		pb.Attempts = DefaultAttempts
	}
	if pb.Backoff < 0 || pb.Timeout < 0 {
		return fail("backoff/timeout", "must not be negative")
	}
	if pb.Backoff == 0 {
		pb.Backoff = DefaultBackoff
	}
	if pb.Timeout == 0 {
		pb.Timeout = DefaultTimeout
	}
	var err *fieldError
	switch pb.Type {
	case PlaybookWebhook:
		pb.run, err = newWebhook(pb)
	case PlaybookEmail:
		if pb.PasswordEnv != "" && pb.Password == "" {
			pb.Password = os.Getenv(pb.PasswordEnv)
			if pb.Password == "" {
				return fail("password-env", "the environment variable %s is empty", pb.PasswordEnv)
			}
		}
		pb.run, err = newEmail(pb)
	case PlaybookCommand:
		pb.run, err = newCommand(pb)
	default:
		return fail("type", "%q is not webhook, email or command", pb.Type)
	}
	if err != nil {
		return fail(err.field, "%s", err.msg)
	}
	return nil
}

// Run runs the playbook with p: up to Attempts attempts, each bounded by
// Timeout, pausing Backoff (doubling) between them; a permanent error
// ends the run at once.
func (pb *Playbook) Run(ctx context.Context, p *Payload) Result {
	pause := pb.Backoff
	var res Result
	for res.Attempts < pb.Attempts {
		res.Attempts++
		actx, cancel := context.WithTimeout(ctx, pb.Timeout)
		res.Err = pb.run.attempt(actx, p)
		cancel()
		var perm permanent
		if res.Err == nil || errors.As(res.Err, &perm) || ctx.Err() != nil || res.Attempts == pb.Attempts {
			return res
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return res
		case <-t.C:
		}
		pause = min(2*pause, maxBackoff)
	}
	return res
}

// templateFuncs are the functions templates may call: json writes a value
// as JSON (a string quoted and escaped), so that a body stays valid JSON
// whatever the values hold.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := marshal(v)
		return string(b), err
	},
	"join": strings.Join,
}

func parseTemplate(name, text string) (*template.Template, *fieldError) {
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, &fieldError{name, err.Error()}
	}
	return t, nil
}

func render(t *template.Template, p *Payload) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		return "", permanent{fmt.Errorf("template %s: %w", t.Name(), err)}
	}
	return b.String(), nil
}
