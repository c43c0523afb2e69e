package respond

import (
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"text/template"
	"time"
)

// Default e-mail templates.
const (
	DefaultSubject = `[vigil] {{.Title}}`
	DefaultBody    = `{{.Text}}

Workspace: {{.Workspace}}
{{if .Severity}}Severity:  {{.Severity}}
{{end}}{{if .Priority}}Priority:  {{.Priority}}
{{end}}{{if .Stage}}Stage:     {{.Stage}}
{{end}}{{if .Incident}}Incident:  {{.Incident.ID}}
{{end}}{{if .Alert}}Alert:     {{.Alert.ID}} ({{.Alert.Rule.Title}})
{{end}}Time:      {{.Time.Format "2006-01-02T15:04:05Z07:00"}}
By:        {{.By}}
`
)

type email struct {
	addr, host     string
	user, password string
	from           string
	to             []string
	subject, body  *template.Template
}

func newEmail(pb *Playbook) (runner, *fieldError) {
	host, port, err := net.SplitHostPort(pb.SMTP)
	if err != nil || host == "" || port == "" {
		return nil, &fieldError{"smtp", fmt.Sprintf("%q is not host:port", pb.SMTP)}
	}
	e := &email{addr: pb.SMTP, host: host, user: pb.Username, password: pb.Password}
	if (e.user == "") != (e.password == "") {
		return nil, &fieldError{"username", "username and password (or password-env) go together"}
	}
	from, err := mail.ParseAddress(pb.From)
	if err != nil {
		return nil, &fieldError{"from", fmt.Sprintf("%q is not an e-mail address: %v", pb.From, err)}
	}
	e.from = from.Address
	if len(pb.To) == 0 {
		return nil, &fieldError{"to", "at least one recipient"}
	}
	for _, t := range pb.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, &fieldError{"to", fmt.Sprintf("%q is not an e-mail address: %v", t, err)}
		}
		e.to = append(e.to, a.Address)
	}
	subject, body := pb.Subject, pb.Body
	if subject == "" {
		subject = DefaultSubject
	}
	if body == "" {
		body = DefaultBody
	}
	var fe *fieldError
	if e.subject, fe = parseTemplate("subject", subject); fe != nil {
		return nil, fe
	}
	if e.body, fe = parseTemplate("body", body); fe != nil {
		return nil, fe
	}
	return e, nil
}

// message renders the mail: headers (the subject on one line, encoded
// when it is not ASCII) and the body with CRLF line ends.
func (e *email) message(p *Payload, now time.Time) ([]byte, error) {
	subject, err := render(e.subject, p)
	if err != nil {
		return nil, err
	}
	// A value with a line break would add headers of its own.
	subject = strings.Join(strings.Fields(subject), " ")
	body, err := render(e.body, p)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", e.from)
	hdr("To", strings.Join(e.to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String()), nil
}

func (e *email) attempt(ctx context.Context, p *Payload) error {
	msg, err := e.message(p, time.Now())
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", e.addr, err)
	}
	defer c.Close()
	if err := e.send(c, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", e.addr, err)
	}
	return nil
}

func (e *email) send(c *smtp.Client, msg []byte) error {
	if err := c.Hello("vigil"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: e.host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if e.user != "" {
		// PlainAuth refuses to send the password over a connection that
		// is neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", e.user, e.password, e.host)); err != nil {
			return permanent{fmt.Errorf("auth: %w", err)}
		}
	}
	if err := c.Mail(e.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, t := range e.to {
		if err := c.Rcpt(t); err != nil {
			return fmt.Errorf("rcpt to %s: %w", t, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}
