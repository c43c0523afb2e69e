package errorlog

import (
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// basicAuth reads the failures HTTP basic authentication logs, the user
// name and, for Apache, the URI:
//
//	httpd mod_auth_basic: user bob: authentication failure for "/private": Password Mismatch
//	                      user bob not found: /private
//	nginx auth_basic:     user "bob": password mismatch
//	                      user "bob" was not found in "/etc/nginx/.htpasswd"
func basicAuth(ev *event.Event, msg string) {
	rest, ok := strings.CutPrefix(msg, "user ")
	if !ok {
		return
	}
	var user, uri string
	switch {
	case strings.HasPrefix(rest, `"`):
		e := strings.Index(rest[1:], `"`)
		if e < 0 {
			return
		}
		user, rest = rest[1:1+e], rest[2+e:]
		if rest != ": password mismatch" && !strings.HasPrefix(rest, " was not found in ") {
			return
		}
	default:
		if u, r, ok := strings.Cut(rest, `: authentication failure for "`); ok {
			user = u
			uri, _, _ = strings.Cut(r, `"`)
		} else if u, r, ok := strings.Cut(rest, " not found: "); ok {
			user, uri = u, r
		} else {
			return
		}
		user = strings.Trim(user, "'") // mod_auth_digest quotes it
	}
	if user == "" {
		return
	}
	c := &ev.Common
	c[event.UserName] = user
	c[event.EventCategory] = "authentication"
	c[event.EventAction] = "authentication-failure"
	c[event.EventOutcome] = "failure"
	if uri != "" && c[event.URLOriginal] == "" {
		c[event.URLOriginal] = uri
		path := uri
		if q := strings.IndexByte(path, '?'); q >= 0 {
			path = path[:q]
		}
		c[event.URLPath] = path
	}
}
