package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
)

// Ready webhook body templates (Playbook.Template).
const (
	// SlackTemplate is a Slack incoming webhook's message: a text with a
	// bold title.
	SlackTemplate = `{"text": {{json (printf "*%s*\n%s" .Title .Text)}}}`
	// TeamsTemplate is a Microsoft Teams incoming webhook's message card,
	// coloured by severity.
	TeamsTemplate = `{"@type": "MessageCard", "@context": "https://schema.org/extensions", ` +
		`"summary": {{json .Title}}, "themeColor": {{json .Color}}, "title": {{json .Title}}, "text": {{json .Text}}}`
)

// webhookTemplates are the ready templates by name; "json" (the payload
// as it is) is the default.
var webhookTemplates = map[string]string{"slack": SlackTemplate, "teams": TeamsTemplate}

// maxAnswer is how much of a failed answer's body a failure message
// quotes.
const maxAnswer = 512

type webhook struct {
	url     string
	method  string
	headers map[string]string
	body    *template.Template // nil: the payload as JSON
	client  *http.Client
}

func newWebhook(pb *Playbook) (runner, *fieldError) {
	u, err := url.Parse(pb.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &fieldError{"url", fmt.Sprintf("%q is not an http or https URL", pb.URL)}
	}
	w := &webhook{url: pb.URL, method: strings.ToUpper(pb.Method), headers: pb.Headers,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	switch w.method {
	case "":
		w.method = http.MethodPost
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil, &fieldError{"method", fmt.Sprintf("%q is not POST, PUT or PATCH", pb.Method)}
	}
	text := pb.Body
	switch {
	case pb.Body != "" && pb.Template != "":
		return nil, &fieldError{"body", "set template or body, not both"}
	case pb.Template == "" || pb.Template == "json":
	default:
		var ok bool
		if text, ok = webhookTemplates[pb.Template]; !ok {
			return nil, &fieldError{"template", fmt.Sprintf("%q is not json, slack or teams", pb.Template)}
		}
	}
	if text != "" {
		var fe *fieldError
		if w.body, fe = parseTemplate("body", text); fe != nil {
			return nil, fe
		}
	}
	return w, nil
}

// marshal writes v as JSON without HTML escapes (a "<" stays one in a
// chat message).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (w *webhook) attempt(ctx context.Context, p *Payload) error {
	var body []byte
	if w.body == nil {
		b, err := marshal(p)
		if err != nil {
			return permanent{fmt.Errorf("encode payload: %w", err)}
		}
		body = b
	} else {
		s, err := render(w.body, p)
		if err != nil {
			return err
		}
		if !json.Valid([]byte(s)) {
			return permanent{fmt.Errorf("the body template made no valid JSON (quote values with json): %.200s", s)}
		}
		body = []byte(s)
	}
	req, err := http.NewRequestWithContext(ctx, w.method, w.url, bytes.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil-respond")
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// The URL may hold a secret (Slack's and Teams' do): say only
		// where it went.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", w.method, redact(w.url), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	err = fmt.Errorf("%s %s: answered %s: %s", w.method, redact(w.url), resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
		return permanent{err}
	}
	return err
}

// redact keeps a URL's scheme and host: incoming-webhook URLs carry their
// secret in the path.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
