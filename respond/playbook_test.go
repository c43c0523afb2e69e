package respond

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// nasty holds what breaks a naively templated JSON body or mail header.
const nasty = "Brute \"force\" on <db>\nline2 \\ end"

func samplePayload() *Payload {
	inc := &incident.Incident{ID: "inc1", Workspace: "acme", Title: nasty, Severity: alert.High, Priority: 80,
		Stage: incident.StageDetect, Tags: []string{}, Tactics: []string{"credential-access"}}
	return (&target{ws: "acme", inc: inc}).payload("notification soc", t0)
}

func checked(t *testing.T, pb Playbook) *Playbook {
	t.Helper()
	c := Config{Playbooks: []Playbook{pb}}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	return &c.Playbooks[0]
}

// hook is a webhook receiver: it answers with the statuses given in turn
// (then 200) and keeps the bodies.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	headers  []http.Header
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, b)
	h.headers = append(h.headers, r.Header.Clone())
	if len(h.statuses) > 0 {
		code := h.statuses[0]
		h.statuses = h.statuses[1:]
		http.Error(w, "busy", code)
	}
}

func (h *hook) answer(statuses ...int) {
	h.mu.Lock()
	h.statuses = statuses
	h.mu.Unlock()
}

func (h *hook) got() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

func TestWebhookTemplatesMakeValidJSON(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tmpl := range []string{"", "slack", "teams"} {
		pb := checked(t, Playbook{Name: "w", Type: PlaybookWebhook, URL: srv.URL + "/hook/secret", Template: tmpl,
			Headers: map[string]string{"X-Token": "t1"}})
		if res := pb.Run(context.Background(), samplePayload()); res.Err != nil || res.Attempts != 1 {
			t.Fatalf("template %q: %+v", tmpl, res)
		}
	}
	bodies := h.got()
	if len(bodies) != 3 {
		t.Fatalf("%d posts, want 3", len(bodies))
	}
	var plain Payload
	if err := json.Unmarshal(bodies[0], &plain); err != nil {
		t.Fatalf("json body %s: %v", bodies[0], err)
	}
	if plain.Incident == nil || plain.Incident.Title != nasty || plain.Kind != "incident" {
		t.Errorf("json body payload = %+v", plain)
	}
	var slack struct{ Text string }
	if err := json.Unmarshal(bodies[1], &slack); err != nil {
		t.Fatalf("slack body %s: %v", bodies[1], err)
	}
	if !strings.HasPrefix(slack.Text, "*New high incident: "+nasty+"*\n") {
		t.Errorf("slack text = %q", slack.Text)
	}
	var teams map[string]string
	if err := json.Unmarshal(bodies[2], &teams); err != nil {
		t.Fatalf("teams body %s: %v", bodies[2], err)
	}
	if teams["@type"] != "MessageCard" || teams["title"] != "New high incident: "+nasty || teams["themeColor"] != "D13438" {
		t.Errorf("teams card = %v", teams)
	}
	if got := h.headers[0].Get("X-Token"); got != "t1" {
		t.Errorf("header X-Token = %q", got)
	}
}

func TestWebhookRetriesThenFails(t *testing.T) {
	h := &hook{statuses: []int{503, 502}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	pb := checked(t, Playbook{Name: "w", Type: PlaybookWebhook, URL: srv.URL, Attempts: 3, Backoff: time.Millisecond})
	if res := pb.Run(context.Background(), samplePayload()); res.Err != nil || res.Attempts != 3 {
		t.Fatalf("after two 5xx: %+v, want success at the third attempt", res)
	}
	h.answer(500, 500, 500)
	res := pb.Run(context.Background(), samplePayload())
	if res.Err == nil || res.Attempts != 3 || !strings.Contains(res.Err.Error(), "500") {
		t.Fatalf("three 500s: %+v", res)
	}
	if strings.Contains(res.Err.Error(), srv.URL[7:]+"/") && strings.Contains(res.Err.Error(), "secret") {
		t.Errorf("error quotes the URL's path: %v", res.Err)
	}
	// A 4xx is not retried.
	h.answer(400)
	n := len(h.got())
	if res := pb.Run(context.Background(), samplePayload()); res.Err == nil || res.Attempts != 1 || len(h.got()) != n+1 {
		t.Fatalf("a 400: %+v, %d posts", res, len(h.got())-n)
	}
}

func TestWebhookBodyTemplateMustMakeJSON(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	// Unquoted, the title breaks the JSON: nothing is sent, no retry.
	pb := checked(t, Playbook{Name: "w", Type: PlaybookWebhook, URL: srv.URL, Body: `{"t": "{{.Title}}"}`, Backoff: time.Millisecond})
	res := pb.Run(context.Background(), samplePayload())
	if res.Err == nil || res.Attempts != 1 || len(h.got()) != 0 {
		t.Fatalf("invalid body: %+v, %d posts", res, len(h.got()))
	}
	pb = checked(t, Playbook{Name: "w", Type: PlaybookWebhook, URL: srv.URL, Body: `{"t": {{json .Title}}, "p": {{.Priority}}}`})
	if res := pb.Run(context.Background(), samplePayload()); res.Err != nil {
		t.Fatal(res.Err)
	}
	var got struct {
		T string
		P int
	}
	if err := json.Unmarshal(h.got()[0], &got); err != nil || got.P != 80 || !strings.Contains(got.T, nasty) {
		t.Fatalf("custom body %s: %+v %v", h.got()[0], got, err)
	}
}

// smtpServer is a test SMTP server: enough of the protocol (EHLO, MAIL,
// RCPT, DATA, QUIT) to take one message a connection.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMsg
	// refuse answers RCPT with 451 for this many connections first.
	refuse int
}

type smtpMsg struct {
	from string
	to   []string
	data string
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 test ESMTP")
	var m smtpMsg
	s.mu.Lock()
	refuse := s.refuse > 0
	if refuse {
		s.refuse--
	}
	s.mu.Unlock()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test greets you")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.Trim(line[len("MAIL FROM:"):], "<> ")
			if i := strings.Index(m.from, ">"); i >= 0 {
				m.from = m.from[:i]
			}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			if refuse {
				say("451 try later")
				continue
			}
			m.to = append(m.to, strings.Trim(line[len("RCPT TO:"):], "<> "))
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		default:
			say("502 unknown")
		}
	}
}

func (s *smtpServer) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

func TestEmailOverSMTP(t *testing.T) {
	srv := newSMTPServer(t)
	srv.mu.Lock()
	srv.refuse = 1 // the first attempt is turned away, the second goes
	srv.mu.Unlock()
	pb := checked(t, Playbook{Name: "mail", Type: PlaybookEmail, SMTP: srv.ln.Addr().String(), From: "vigil@example.org",
		To: []string{"SOC <soc@example.org>", "oncall@example.org"}, Backoff: time.Millisecond})
	res := pb.Run(context.Background(), samplePayload())
	if res.Err != nil || res.Attempts != 2 {
		t.Fatalf("run: %+v", res)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.from != "vigil@example.org" || strings.Join(m.to, ",") != "soc@example.org,oncall@example.org" {
		t.Errorf("envelope from %q to %v", m.from, m.to)
	}
	head, body, ok := strings.Cut(m.data, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header/body split in %q", m.data)
	}
	var subject string
	for _, l := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(l, "Subject: "); ok {
			subject = v
		}
		if strings.HasPrefix(l, "line2") {
			t.Errorf("a value's line break made a header line: %q", l)
		}
	}
	if want := `[vigil] New high incident: Brute "force" on <db> line2 \ end`; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	for _, want := range []string{"Incident inc1 in workspace acme", "Priority:  80", "Incident:  inc1", "By:        notification soc"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestCommandPlaybook(t *testing.T) {
	sh, err := statPath("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh")
	}
	out := filepath.Join(t.TempDir(), "payload.json")
	pb := checked(t, Playbook{Name: "c", Type: PlaybookCommand, Command: []string{sh, "-c", `cat > "$0"`, out}})
	if res := pb.Run(context.Background(), samplePayload()); res.Err != nil {
		t.Fatal(res.Err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil || p.Incident == nil || p.Incident.ID != "inc1" {
		t.Fatalf("stdin payload %s: %v", b, err)
	}

	// Past its timeout the program is killed and the attempt fails.
	pb = checked(t, Playbook{Name: "slow", Type: PlaybookCommand, Command: []string{sh, "-c", "sleep 10"},
		Timeout: 100 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond})
	start := time.Now()
	res := pb.Run(context.Background(), samplePayload())
	if res.Err == nil || res.Attempts != 2 || !strings.Contains(res.Err.Error(), "timeout") {
		t.Fatalf("slow command: %+v", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("two timed-out attempts took %s", d)
	}

	// A failing program's output is in the error.
	pb = checked(t, Playbook{Name: "bad", Type: PlaybookCommand, Command: []string{sh, "-c", "echo no such host >&2; exit 3"}, Attempts: 1})
	if res := pb.Run(context.Background(), samplePayload()); res.Err == nil || !strings.Contains(res.Err.Error(), "no such host") {
		t.Fatalf("failing command: %+v", res)
	}
}

func statPath(p string) (string, error) {
	_, err := os.Stat(p)
	return p, err
}
